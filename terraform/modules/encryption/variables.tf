variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "deletion_window_days" {
  description = "Days a scheduled key deletion waits (7-30); the data it encrypts is unreadable after."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

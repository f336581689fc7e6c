variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "point_in_time_recovery" {
  description = "Keep continuous backups of the audit table (on in staging and prod)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse to delete the audit table."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

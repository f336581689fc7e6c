variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the table and the notifications topic."
  type        = string
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

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "bucket_name" {
  description = "Name of the uploads bucket (globally unique on AWS)."
  type        = string
}

variable "upload_prefix" {
  description = "Only objects created under this prefix notify the router; outputs go elsewhere."
  type        = string
  default     = "uploads/"
}

variable "visibility_timeout_seconds" {
  description = "Ingest queue visibility timeout; AWS asks for at least 6x the router's timeout."
  type        = number
  default     = 180
}

variable "max_receive_count" {
  description = "Deliveries of one event before it moves to the dead-letter queue."
  type        = number
  default     = 5
}

variable "force_destroy" {
  description = "Allow destroying the bucket with objects in it (for throwaway environments)."
  type        = bool
  default     = false
}

variable "infected_readers" {
  description = "Role ARNs still allowed to download objects tagged s3-triage-verdict=infected (security admins, the checkers finishing a quarantine)."
  type        = list(string)
  default     = []
}

variable "attach_bucket_policy" {
  description = "Attach the bucket policy (TLS only, no downloads of infected objects). Off only for the local emulator, which speaks plain HTTP and applies policy statements without their conditions."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the bucket and queues."
  type        = string
}

variable "reserved_prefix" {
  description = "Prefix the workers write their outputs under; the lifecycle expires it."
  type        = string
  default     = "processed/"
}

variable "processed_expiration_days" {
  description = "Days before thumbnails, extracted text, manifests and quarantine copies expire."
  type        = number
  default     = 365
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version is kept."
  type        = number
  default     = 30
}

variable "access_log_retention_days" {
  description = "Days the bucket's server access logs are kept."
  type        = number
  default     = 365
}

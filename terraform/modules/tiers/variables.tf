variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "extractor_visibility_timeout_seconds" {
  description = "Extractor queue visibility timeout: 6x the extractor function's timeout plus its batching window (modules/sizing)."
  type        = number
}

variable "max_receive_count" {
  description = "Deliveries of one document before it moves to the extractor dead-letter queue."
  type        = number
  default     = 3
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the queues and the topic."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "extractor_visibility_timeout_seconds" {
  description = "Extractor queue visibility timeout; at least 6x the extractor function's timeout."
  type        = number
  default     = 900
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

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

variable "large_visibility_timeout_seconds" {
  description = "Large-file queue visibility timeout: a task renews it every third while it streams; a task killed without a word frees its object after this."
  type        = number
  default     = 120
}

variable "large_max_receive_count" {
  description = "Deliveries of one large file (each SIGTERM'd pass counts) before it moves to the large-file dead-letter queue."
  type        = number
  default     = 6
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

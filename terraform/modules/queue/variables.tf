variable "name" {
  description = "Queue name; the DLQ is <name>-dlq."
  type        = string
}

variable "visibility_timeout_seconds" {
  description = "Visibility timeout; AWS asks for at least 6x the consuming function's timeout."
  type        = number
}

variable "max_receive_count" {
  description = "Deliveries of one message before it moves to the dead-letter queue."
  type        = number
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for both queues."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

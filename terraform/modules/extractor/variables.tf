variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "environment" {
  description = "Deployment name (dev, staging, prod, local)."
  type        = string
}

variable "package_path" {
  description = "The extractor Lambda zip (cargo lambda build --release --output-format zip -p extractor)."
  type        = string
}

variable "memory_size" {
  description = "Lambda memory in MB: the parser children (up to concurrency of them) each get parse memory."
  type        = number
  default     = 2048
}

variable "timeout_seconds" {
  description = "Lambda timeout in seconds; the queue's visibility timeout must be at least 6x this."
  type        = number
  default     = 120
}

variable "batch_size" {
  description = "Documents per invocation."
  type        = number
  default     = 10
}

variable "maximum_batching_window_seconds" {
  description = "How long Lambda gathers a batch before invoking."
  type        = number
  default     = 5
}

variable "concurrency" {
  description = "Documents of one batch extracted at the same time."
  type        = number
  default     = 4
}

variable "parse_timeout_seconds" {
  description = "Time limit for parsing one document."
  type        = number
  default     = 60
}

variable "max_document_bytes" {
  description = "Largest document read; larger ones are recorded FAILED."
  type        = number
  default     = 104857600
}

variable "log_retention_days" {
  description = "CloudWatch log retention."
  type        = number
  default     = 30
}

variable "log_level" {
  description = "RUST_LOG filter for the function."
  type        = string
  default     = "info"
}

variable "queue_arn" {
  description = "ARN of the extractor queue the router sends documents to."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the uploads bucket the documents are read from and outputs written to."
  type        = string
}

variable "reserved_prefix" {
  description = "Output prefix no routing rule matches; text goes under <prefix>text/."
  type        = string
  default     = "processed/"
}

variable "audit_table_name" {
  description = "The DynamoDB audit table."
  type        = string
}

variable "audit_table_arn" {
  description = "ARN of the DynamoDB audit table."
  type        = string
}

variable "notifications_topic_arn" {
  description = "The SNS topic outcomes are published to."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

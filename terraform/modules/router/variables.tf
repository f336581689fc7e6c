variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "environment" {
  description = "Deployment name recorded in every audit item (dev, staging, prod, local)."
  type        = string
}

variable "package_path" {
  description = "The router's Lambda zip (cargo lambda build --release --output-format zip)."
  type        = string
}

variable "memory_size" {
  description = "Router memory in MB (also buys CPU)."
  type        = number
  default     = 256
}

variable "timeout_seconds" {
  description = "Router timeout; keep the ingest queue's visibility timeout at 6x this."
  type        = number
  default     = 30
}

variable "batch_size" {
  description = "Ingest messages per invocation."
  type        = number
  default     = 10
}

variable "maximum_batching_window_seconds" {
  description = "How long Lambda gathers a batch before invoking."
  type        = number
  default     = 1
}

variable "log_retention_days" {
  description = "CloudWatch log retention for the router."
  type        = number
  default     = 30
}

variable "log_level" {
  description = "RUST_LOG for the router."
  type        = string
  default     = "info"
}

variable "routing_rules" {
  description = "JSON routing table (see README); null keeps the built-in defaults."
  type        = string
  default     = null
}

variable "ingest_queue_arn" {
  description = "ARN of the queue S3 events arrive on."
  type        = string
}

variable "audit_table_name" {
  description = "Name of the DynamoDB audit table."
  type        = string
}

variable "audit_table_arn" {
  description = "ARN of the DynamoDB audit table."
  type        = string
}

variable "notifications_topic_arn" {
  description = "ARN of the SNS notifications topic."
  type        = string
}

variable "thumbnail_function_name" {
  description = "Name of the thumbnail Lambda the router invokes asynchronously."
  type        = string
}

variable "extractor_queue_url" {
  description = "URL of the extractor queue."
  type        = string
}

variable "extractor_queue_arn" {
  description = "ARN of the extractor queue."
  type        = string
}

variable "compliance_topic_arn" {
  description = "ARN of the compliance topic."
  type        = string
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster for large-file tasks."
  type        = string
}

variable "large_task_family" {
  description = "Task definition family of the large-file task (any revision may be run)."
  type        = string
}

variable "large_container_name" {
  description = "Container name in the large-file task definition."
  type        = string
  default     = "large-file"
}

variable "large_subnet_ids" {
  description = "Subnets the large-file tasks run in."
  type        = list(string)
}

variable "large_security_group_ids" {
  description = "Security groups of the large-file tasks."
  type        = list(string)
}

variable "large_task_role_arns" {
  description = "Task and execution role ARNs of the large-file task, which RunTask must pass."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

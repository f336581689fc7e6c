variable "deployment" {
  description = "What every function and task of the deployment shares (modules/stack, local.deployment)."
  type = object({
    name_prefix             = string
    environment             = string
    audit_table_name        = string
    audit_table_arn         = string
    audit_retention_days    = number
    notifications_topic_arn = string
    kms_key_arn             = string
    log_retention_days      = number
    log_level               = string
    reserved_prefix         = string
    lambda_architecture     = string
    emulated                = bool
  })
}

variable "package_path" {
  description = "The router's Lambda zip (cargo lambda build --release --output-format zip)."
  type        = string
}

variable "memory_size" {
  description = "Router memory in MB (also buys CPU)."
  type        = number
  default     = 256
  nullable    = false
}

variable "timeout_seconds" {
  description = "Router timeout; keep the ingest queue's visibility timeout at 6x this."
  type        = number
  default     = 30
  nullable    = false
}

variable "batch_size" {
  description = "Ingest messages per invocation."
  type        = number
  default     = 10
  nullable    = false
}

variable "maximum_batching_window_seconds" {
  description = "How long Lambda gathers a batch before invoking."
  type        = number
  default     = 1
  nullable    = false
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

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the function."
  type        = number
  default     = 20
  nullable    = false
}

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

variable "routing_rules" {
  description = "JSON routing table (see README); null keeps the built-in defaults."
  type        = string
  default     = null
}

variable "ingest_queue_arn" {
  description = "ARN of the queue S3 events arrive on."
  type        = string
}

variable "source_bucket_arns" {
  description = "ARNs of every watched bucket: the router lists a key's versions to resolve an event that names no version."
  type        = list(string)
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

variable "large_queue" {
  description = "The large-file queue large dispatches are sent to (modules/queue outputs)."
  type = object({
    url = string
    arn = string
  })
}

variable "large_fleet" {
  description = "Most large-file tasks at once and objects per task (modules/large-file output fleet)."
  type = object({
    max_tasks         = number
    messages_per_task = number
  })
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

variable "large_capacity" {
  description = "Where large-file tasks run: on-demand (Fargate), or spot (Fargate Spot, on-demand when Spot has no capacity; a reclaimed task gives its files back to the queue for another task)."
  type        = string
  validation {
    condition     = contains(["on-demand", "spot"], var.large_capacity)
    error_message = "large_capacity must be on-demand or spot."
  }
}

variable "output_buckets" {
  description = "`<watched bucket>=<bucket>,...`: the watched buckets whose outputs, e-mail attachments among them, are kept in another bucket, so their attachments are routed by their rules."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}


variable "sizing" {
  description = "This function's sizing from modules/sizing (memory, timeout, reserved and per-batch concurrency, batch size and window, the per-item work deadline and memory, the largest input, the claim lease)."
  type        = any
}

variable "large_fleet_check_schedule" {
  description = "How often the router checks the large-file queue's backlog against the running tasks besides after each send (an EventBridge schedule expression)."
  type        = string
  default     = "rate(1 minute)"
}

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
  description = "The sweeper's Lambda zip (scripts/build-lambdas.sh)."
  type        = string
}

variable "sizing" {
  description = "The sweeper's sizing from modules/sizing."
  type = object({
    memory_size             = number
    timeout_seconds         = number
    reserved_concurrency    = number
    batch_size              = number
    batching_window_seconds = number
    maximum_concurrency     = number
    claim_lease_seconds     = number
  })
}

variable "abandoned_after_seconds" {
  description = "Age of a claim after which no redelivery can finish it any more (the stack derives it from every queue's and invoke's retry horizon)."
  type        = number
}

variable "schedule" {
  description = "How often the sweep runs (an EventBridge schedule expression)."
  type        = string
  default     = "rate(15 minutes)"
}

variable "tags" {
  description = "Tags for every resource (besides the provider's default tags)."
  type        = map(string)
  default     = {}
}

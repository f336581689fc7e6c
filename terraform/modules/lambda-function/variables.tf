variable "name" {
  description = "Function name (also its role's and log group's)."
  type        = string
}

variable "binary" {
  description = "The workspace binary the package holds (router, thumbnail, extractor, compliance-checker)."
  type        = string
}

variable "package_path" {
  description = "The Lambda zip built by scripts/build-lambdas.sh; deployed again only when its content hash changes."
  type        = string
}

variable "memory_size" {
  description = "Lambda memory in MB (CPU share grows with it)."
  type        = number
}

variable "timeout_seconds" {
  description = "Lambda timeout in seconds."
  type        = number
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the function."
  type        = number
}

variable "variables" {
  description = "The function's own environment variables, besides the ones every binary reads."
  type        = map(string)
  default     = {}
}

variable "policy_json" {
  description = "IAM statements for what only this function does (unique sids; the common statements are added)."
  type        = string
}

variable "extra_audit_actions" {
  description = "DynamoDB actions on the audit table beyond PutItem/GetItem/UpdateItem (e.g. Query)."
  type        = list(string)
  default     = []
}

variable "queue" {
  description = "The SQS queue feeding the function in batches (with partial batch responses), or null."
  type = object({
    arn                             = string
    batch_size                      = number
    maximum_batching_window_seconds = number
  })
  default = null
}

variable "deployment" {
  description = "What every function of the deployment shares (see modules/stack, local.deployment)."
  type = object({
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

variable "tags" {
  description = "Tags for every resource (besides the provider's default tags)."
  type        = map(string)
  default     = {}
}

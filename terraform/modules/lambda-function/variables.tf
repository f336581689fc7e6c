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

variable "variables" {
  description = "The function's own environment variables, besides the ones every binary reads."
  type        = map(string)
  default     = {}
}

variable "records" {
  description = "Whether the function records outcomes: the audit recorder's settings, write access to the audit table and publishing to the notifications topic."
  type        = bool
  default     = true
}

variable "audit_actions" {
  description = "What a recording function does to the audit table: by default the recorder's claim (GetItem, PutItem, UpdateItem) and its reading of earlier runs to supersede them (Query)."
  type        = list(string)
  default     = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"]
}

variable "policy_json" {
  description = "IAM statements for what only this function does (unique sids; the common statements are added)."
  type        = string
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

variable "sizing" {
  description = "The function's sizing from modules/sizing; the queue settings apply when queue_arn is set."
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

variable "queue_arn" {
  description = "The SQS queue feeding the function in batches (with partial batch responses), or null; set exactly when sizing.batch_size is above 0."
  type        = string
  default     = null
}

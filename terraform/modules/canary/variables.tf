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
  description = "The canary's Lambda zip (scripts/build-lambdas.sh)."
  type        = string
}

variable "bucket_name" {
  description = "The watched bucket the canaries are uploaded to."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of that bucket."
  type        = string
}

variable "routing_rules" {
  description = "The router's JSON routing table (null: its built-in one): each canary goes where the rules send its tier."
  type        = string
  default     = null
}

variable "verdict_tags" {
  description = "The verdict tag preset the checkers write (the clean canary must carry its clean tag)."
  type        = string
}

variable "schedule" {
  description = "How often the canary runs (an EventBridge schedule expression)."
  type        = string
}

variable "timeout_seconds" {
  description = "How long one run waits for every canary's outcome; the function gets a minute more."
  type        = number
  default     = 240
}

variable "output_buckets" {
  description = "`<watched bucket>=<bucket>,...` as the router has it: the canary routes by the router's policy."
  type        = string
}

variable "tags" {
  description = "Tags for every resource (besides the provider's default tags)."
  type        = map(string)
  default     = {}
}

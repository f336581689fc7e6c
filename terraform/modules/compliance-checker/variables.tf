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

variable "checker" {
  description = "Which check this function runs: content, malware or pii (TRIAGE_CHECKER)."
  type        = string
}

variable "content_kinds" {
  description = "Content kinds (image, pdf, text, other) this checker receives; empty for every kind. Becomes its subscription filter policy."
  type        = list(string)
  default     = []
}

variable "checkers_json" {
  description = "Every deployed checker and its content kinds as JSON: the set a verdict waits for."
  type        = string
}

variable "signatures_uri" {
  description = "s3://bucket/prefix/ of the .hdb/.hsb/.ndb/.ldb signature files and .cvd/.cld databases (the malware checker only)."
  type        = string
  default     = null
}

variable "quarantine" {
  description = "What happens to an INFECTED upload: tag, copy (tag + tagged copy under quarantine/) or move (copy, then delete the upload)."
  type        = string
  default     = "copy"
  validation {
    condition     = contains(["tag", "copy", "move"], var.quarantine)
    error_message = "quarantine must be tag, copy or move."
  }
}

variable "package_path" {
  description = "The compliance-checker Lambda zip (cargo lambda build --release --output-format zip -p compliance)."
  type        = string
}

variable "max_receive_count" {
  description = "Deliveries of one object before it moves to this checker's dead-letter queue."
  type        = number
  default     = 3
  nullable    = false
}

variable "compliance_topic_arn" {
  description = "The topic the router publishes compliance dispatches to."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "signatures_bucket_arn" {
  description = "ARN of the bucket holding the malware signatures (read by the malware checker)."
  type        = string
}

variable "verdict_tags" {
  description = "The verdict tag vocabulary: a preset of workers/compliance/verdict-tags.json."
  type        = string
}

variable "sizing" {
  description = "This function's sizing from modules/sizing (memory, timeout, reserved and per-batch concurrency, batch size and window, the per-item work deadline and memory, the largest input, the claim lease)."
  type        = any
}

variable "signatures_refresh_seconds" {
  description = "How often a warm malware checker asks whether its signature files changed (a rescan always asks first)."
  type        = number
  default     = 300
}

variable "storage" {
  description = "Every watched bucket, where outputs go and the keys involved (modules/stack, local.storage)."
  type = object({
    source_bucket_arns = list(string)
    output_bucket_arns = list(string)
    read_key_arns      = list(string)
    write_key_arns     = list(string)
    output_buckets     = string
  })
}

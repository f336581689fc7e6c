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
  description = "s3://bucket/prefix/ of the .hdb/.hsb/.ndb signature files (the malware checker only)."
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

variable "max_held_bytes" {
  description = "Largest archive (content) or PDF (pii) held whole in memory; larger ones are FLAGGED as unchecked."
  type        = number
  default     = 104857600
}

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "environment" {
  description = "Deployment name (dev, staging, prod, local)."
  type        = string
}

variable "package_path" {
  description = "The compliance-checker Lambda zip (cargo lambda build --release --output-format zip -p compliance)."
  type        = string
}

variable "memory_size" {
  description = "Lambda memory in MB: concurrent objects, plus held archives/PDFs and the PDF parser child."
  type        = number
  default     = 1024
}

variable "timeout_seconds" {
  description = "Lambda timeout in seconds; the queue's visibility timeout is 6x this. A 5 GiB object streams in about a minute."
  type        = number
  default     = 300
}

variable "batch_size" {
  description = "Objects per invocation."
  type        = number
  default     = 4
}

variable "maximum_batching_window_seconds" {
  description = "How long Lambda gathers a batch before invoking."
  type        = number
  default     = 1
}

variable "max_receive_count" {
  description = "Deliveries of one object before it moves to this checker's dead-letter queue."
  type        = number
  default     = 3
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

variable "compliance_topic_arn" {
  description = "The topic the router publishes compliance dispatches to."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the uploads bucket."
  type        = string
}

variable "reserved_prefix" {
  description = "Output prefix no routing rule matches; quarantined copies go under <prefix>quarantine/."
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

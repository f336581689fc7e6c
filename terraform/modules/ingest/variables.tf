variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "bucket_name" {
  description = "Name of the uploads bucket (globally unique on AWS)."
  type        = string
}

variable "upload_prefix" {
  description = "Only objects created under this prefix notify the router; outputs go elsewhere."
  type        = string
  default     = "uploads/"
}

variable "event_path" {
  description = "How the bucket's ObjectCreated events reach the ingest queue: s3 (the bucket's notification configuration names the queue) or eventbridge (the bucket sends its events to EventBridge and a rule forwards the uploads; other consumers can add rules of their own)."
  type        = string
  default     = "s3"
  validation {
    condition     = contains(["s3", "eventbridge"], var.event_path)
    error_message = "event_path is s3 or eventbridge."
  }
}

variable "watched_rule_arns" {
  description = "EventBridge rules of the buckets the stack watches but did not create (modules/eventbridge-source), which may put events on the ingest queue and its DLQ."
  type        = list(string)
  default     = []
}

variable "visibility_timeout_seconds" {
  description = "Ingest queue visibility timeout; AWS asks for at least 6x the router's timeout."
  type        = number
}

variable "max_receive_count" {
  description = "Deliveries of one event before it moves to the dead-letter queue."
  type        = number
  default     = 5
}

variable "force_destroy" {
  description = "Allow destroying the bucket with objects in it (for throwaway environments)."
  type        = bool
  default     = false
}

variable "compliance_gate" {
  description = "fail-closed: objects under gated_prefixes are readable only once their verdict tag says clean; infected-only: only infected objects are unreadable. Either way only the verdict writers and admins change verdict tags."
  type        = string
  default     = "fail-closed"
  validation {
    condition     = contains(["fail-closed", "infected-only"], var.compliance_gate)
    error_message = "compliance_gate is fail-closed or infected-only."
  }
}

variable "gated_prefixes" {
  description = "Key prefixes the routing rules send to the compliance tier, which the fail-closed gate covers."
  type        = list(string)
}

variable "verdict_tag" {
  description = "The verdict tag's key and its clean and infected values (a preset of workers/compliance/verdict-tags.json)."
  type = object({
    key      = string
    clean    = string
    infected = string
  })
}

variable "pipeline_reader_arns" {
  description = "Roles that read uploads before their verdict (the workers, the checkers, the large-file task)."
  type        = list(string)
}

variable "verdict_writer_arns" {
  description = "Roles that write verdict tags and quarantine copies (the checkers, the large-file task)."
  type        = list(string)
}

variable "output_writer_arns" {
  description = "Roles that write outputs outside the upload prefix (the workers and the task)."
  type        = list(string)
}

variable "admin_role_arns" {
  description = "Roles that may read anything, infected objects included, and change verdict tags (security admins)."
  type        = list(string)
  default     = []
}

variable "attach_bucket_policy" {
  description = "Attach the bucket policy (TLS only, no downloads of infected objects). Off only for the local emulator, which speaks plain HTTP and applies policy statements without their conditions."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the bucket and queues."
  type        = string
}

variable "reserved_prefix" {
  description = "Prefix the workers write their outputs under; the lifecycle expires it."
  type        = string
  default     = "processed/"
}

variable "processed_expiration_days" {
  description = "Days before thumbnails, extracted text, manifests and quarantine copies expire."
  type        = number
  default     = 365
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version is kept."
  type        = number
  default     = 30
}

variable "access_log_retention_days" {
  description = "Days the bucket's server access logs are kept."
  type        = number
  default     = 365
}

variable "signature_writer_arns" {
  description = "Principals that may write the signatures bucket (the deployers); everyone else is denied."
  type        = list(string)
}

variable "signature_version_retention_days" {
  description = "How long replaced signature file versions are kept (records name the versions they were judged with)."
  type        = number
  default     = 400
}

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

variable "gate_policy_json" {
  description = "The bucket's compliance gate (modules/bucket-gate), added to its TLS-only policy."
  type        = string
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

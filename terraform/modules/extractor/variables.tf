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
  description = "The extractor Lambda zip (cargo lambda build --release --output-format zip -p extractor)."
  type        = string
}

variable "memory_size" {
  description = "Lambda memory in MB: the parser children (up to concurrency of them) each get parse memory."
  type        = number
  default     = 2048
  nullable    = false
}

variable "timeout_seconds" {
  description = "Lambda timeout in seconds; the queue's visibility timeout must be at least 6x this."
  type        = number
  default     = 120
  nullable    = false
}

variable "batch_size" {
  description = "Documents per invocation."
  type        = number
  default     = 10
  nullable    = false
}

variable "maximum_batching_window_seconds" {
  description = "How long Lambda gathers a batch before invoking."
  type        = number
  default     = 5
  nullable    = false
}

variable "concurrency" {
  description = "Documents of one batch extracted at the same time."
  type        = number
  default     = 4
  nullable    = false
}

variable "parse_timeout_seconds" {
  description = "Time limit for parsing one document."
  type        = number
  default     = 60
  nullable    = false
}

variable "max_document_bytes" {
  description = "Largest document read; larger ones are recorded FAILED."
  type        = number
  default     = 104857600
  nullable    = false
}

variable "queue_arn" {
  description = "ARN of the extractor queue the router sends documents to."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the uploads bucket the documents are read from and outputs written to."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the function."
  type        = number
  default     = 10
  nullable    = false
}

variable "parse_memory_mb" {
  description = "Address-space limit of each document's parser process, in MB (a bomb fails alone)."
  type        = number
  default     = 1024
  nullable    = false
}

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

variable "queue_arn" {
  description = "ARN of the extractor queue the router sends documents to."
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

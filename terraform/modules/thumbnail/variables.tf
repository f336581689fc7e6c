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
  description = "The thumbnail Lambda zip (cargo lambda build --release --output-format zip -p thumbnail)."
  type        = string
}

variable "maximum_event_age_seconds" {
  description = "How long Lambda keeps retrying an invoke before it goes to the DLQ."
  type        = number
  default     = 3600
  nullable    = false
}

variable "sizes" {
  description = "Longest edge of each thumbnail, in pixels."
  type        = list(number)
  default     = [256]
  nullable    = false
}

variable "output_format" {
  description = "Thumbnail format: jpeg, png or webp (lossless)."
  type        = string
  default     = "jpeg"
  nullable    = false
}

variable "jpeg_quality" {
  description = "JPEG quality, 1-100."
  type        = number
  default     = 80
  nullable    = false
}

variable "max_pixels" {
  description = "Images with more pixels than this are refused before decoding (decompression bombs)."
  type        = number
  default     = 100000000
  nullable    = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "background" {
  description = "Colour transparent pixels are flattened onto for JPEG output (#rrggbb)."
  type        = string
  default     = "#ffffff"
  nullable    = false
}

variable "sizing" {
  description = "This function's sizing from modules/sizing (memory, timeout, reserved and per-batch concurrency, batch size and window, the per-item work deadline and memory, the largest input, the claim lease)."
  type        = any
}

variable "fail_on" {
  description = "Which damage the decoder recovers from fails an image, as sharp's failOn: warning (any: truncation, corrupt data), truncated, or none (keep the recovery, note it in the record)."
  type        = string
  default     = "warning"
  nullable    = false
  validation {
    condition     = contains(["warning", "truncated", "none"], var.fail_on)
    error_message = "fail_on is warning, truncated or none."
  }
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

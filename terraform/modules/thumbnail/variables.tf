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

variable "memory_size" {
  description = "Lambda memory in MB. The corpus peaks far lower (README, benchmarks), but a PNG, WebP or GIF at the 100 MP pixel budget may decode into up to 445 MiB (4 bytes a pixel + 64 MiB) before conversion; more memory also buys CPU."
  type        = number
  default     = 1024
  nullable    = false
}

variable "timeout_seconds" {
  description = "Lambda timeout in seconds."
  type        = number
  default     = 30
  nullable    = false
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the function."
  type        = number
  default     = 50
  nullable    = false
}

variable "maximum_event_age_seconds" {
  description = "How long Lambda keeps retrying an invoke before it goes to the DLQ."
  type        = number
  default     = 3600
  nullable    = false
}

variable "bucket_arn" {
  description = "ARN of the uploads bucket the sources are read from and thumbnails written to."
  type        = string
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

variable "max_bytes" {
  description = "Largest image accepted, in bytes (larger ones are REJECTED before download)."
  type        = number
  default     = 52428800
  nullable    = false
}

variable "background" {
  description = "Colour transparent pixels are flattened onto for JPEG output (#rrggbb)."
  type        = string
  default     = "#ffffff"
  nullable    = false
}

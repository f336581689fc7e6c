variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "environment" {
  description = "Deployment name (dev, staging, prod, local)."
  type        = string
}

variable "package_path" {
  description = "The thumbnail Lambda zip (cargo lambda build --release --output-format zip -p thumbnail)."
  type        = string
}

variable "memory_size" {
  description = "Lambda memory in MB. The corpus peaks far lower (README, benchmarks), but a PNG, WebP or GIF at the 100 MP pixel budget may decode into up to 445 MiB (4 bytes a pixel + 64 MiB) before conversion; more memory also buys CPU."
  type        = number
  default     = 1024
}

variable "timeout_seconds" {
  description = "Lambda timeout in seconds."
  type        = number
  default     = 30
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions; -1 for none."
  type        = number
  default     = -1
}

variable "maximum_event_age_seconds" {
  description = "How long Lambda keeps retrying an invoke before it goes to the DLQ."
  type        = number
  default     = 3600
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

variable "bucket_arn" {
  description = "ARN of the uploads bucket the sources are read from and thumbnails written to."
  type        = string
}

variable "reserved_prefix" {
  description = "Output prefix no routing rule matches; thumbnails go under <prefix>thumbnails/."
  type        = string
  default     = "processed/"
}

variable "sizes" {
  description = "Longest edge of each thumbnail, in pixels."
  type        = list(number)
  default     = [256]
}

variable "output_format" {
  description = "Thumbnail format: jpeg, png or webp (lossless)."
  type        = string
  default     = "jpeg"
}

variable "jpeg_quality" {
  description = "JPEG quality, 1-100."
  type        = number
  default     = 80
}

variable "max_pixels" {
  description = "Images with more pixels than this are refused before decoding (decompression bombs)."
  type        = number
  default     = 100000000
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

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "environment" {
  description = "Deployment name (dev, staging, prod, local)."
  type        = string
}

variable "bucket_name" {
  description = "Name of the uploads bucket (globally unique on AWS)."
  type        = string
}

variable "router_package_path" {
  description = "The router's Lambda zip (cargo lambda build --release --output-format zip)."
  type        = string
}

variable "thumbnail_package_path" {
  description = "The thumbnail worker's Lambda zip (cargo lambda build --release --output-format zip)."
  type        = string
}

variable "extractor_package_path" {
  description = "The extractor's Lambda zip (cargo lambda build --release --output-format zip)."
  type        = string
}

variable "compliance_checker_package_path" {
  description = "The compliance checkers' Lambda zip, one binary for every checker (cargo lambda build --release --output-format zip)."
  type        = string
}

variable "signatures_dir" {
  description = "Directory of .hdb/.hsb/.ndb malware signature files uploaded for the malware checker; null for the bundled set."
  type        = string
  default     = null
}

variable "compliance_quarantine" {
  description = "What happens to an INFECTED upload: tag, copy (tagged copy under processed/quarantine/) or move."
  type        = string
  default     = "copy"
}

variable "quarantine_admin_role_arns" {
  description = "Role ARNs that may still download objects tagged infected (everyone else is denied by the bucket policy)."
  type        = list(string)
  default     = []
}

variable "attach_bucket_policy" {
  description = "Attach the uploads bucket's policy (TLS only, no downloads of infected objects); false only for the local emulator."
  type        = bool
  default     = true
}

variable "large_file_image" {
  description = "Container image of the large-file task (repository@sha256:digest)."
  type        = string
}

variable "large_file_part_size" {
  description = "Bytes per ranged GET of the large-file task, e.g. \"8 MiB\"."
  type        = string
  default     = "8 MiB"
}

variable "large_file_parallelism" {
  description = "Ranged GETs the large-file task keeps in flight."
  type        = number
  default     = 8
}

variable "large_subnet_ids" {
  description = "Subnets the large-file tasks run in."
  type        = list(string)
}

variable "large_security_group_ids" {
  description = "Security groups of the large-file tasks."
  type        = list(string)
}

variable "routing_rules" {
  description = "JSON routing table (see README); null keeps the built-in defaults."
  type        = string
  default     = null
}

variable "protect_data" {
  description = "Point-in-time recovery and deletion protection for the audit table, no force-destroy of the bucket."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "CloudWatch log retention for every function."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "environment" {
  description = "Deployment name recorded in audit items and notifications (dev, staging, prod)."
  type        = string
}

variable "image" {
  description = "Container image of the task, by digest in real deployments (repo@sha256:...)."
  type        = string
}

variable "cpu" {
  description = "Task CPU units. One vCPU hashes about 1.4 GB/s; the download is the usual limit."
  type        = number
  default     = 1024
}

variable "memory" {
  description = "Task memory in MiB. The task's peak RSS is under 128 MiB at any object size; 2048 is Fargate's minimum for 1 vCPU."
  type        = number
  default     = 2048
}

variable "part_size" {
  description = "Bytes per ranged GET and per part checksum, e.g. \"8 MiB\"."
  type        = string
  default     = "8 MiB"
}

variable "parallelism" {
  description = "Ranged GETs in flight at once (memory is about parallelism x 8 chunks)."
  type        = number
  default     = 8
}

variable "bucket_arn" {
  description = "ARN of the uploads bucket."
  type        = string
}

variable "reserved_prefix" {
  description = "Prefix the pipeline writes its outputs under; manifests go to <prefix>manifests/."
  type        = string
  default     = "processed/"
}

variable "audit_table_name" {
  description = "Name of the audit table."
  type        = string
}

variable "audit_table_arn" {
  description = "ARN of the audit table."
  type        = string
}

variable "notifications_topic_arn" {
  description = "ARN of the success/failure notifications topic."
  type        = string
}

variable "log_retention_days" {
  description = "Days the task's logs are kept."
  type        = number
}

variable "log_level" {
  description = "RUST_LOG filter for the task."
  type        = string
  default     = "info"
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "signatures_uri" {
  description = "s3://bucket/prefix/ of the malware signatures the task scans with in its pass; null for no malware scan."
  type        = string
  default     = null
}

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

variable "image" {
  description = "Container image of the task, by digest in real deployments (repo@sha256:...)."
  type        = string
}

variable "cpu" {
  description = "Task CPU units. One vCPU hashes about 1.4 GB/s; the download is the usual limit."
  type        = number
  default     = 1024
  nullable    = false
}

variable "memory" {
  description = "Task memory in MiB. The task's peak RSS is under 128 MiB at any object size; 2048 is Fargate's minimum for 1 vCPU."
  type        = number
  default     = 2048
  nullable    = false
}

variable "part_size" {
  description = "Bytes per ranged GET and per part checksum, e.g. \"8 MiB\"."
  type        = string
  default     = "8 MiB"
  nullable    = false
}

variable "architecture" {
  description = "The task's CPU: X86_64, or ARM64 (Graviton, about 20% cheaper per vCPU-hour) for an image built for linux/arm64 (docs/deploy.md builds both)."
  type        = string
  default     = "X86_64"
  nullable    = false
  validation {
    condition     = contains(["X86_64", "ARM64"], var.architecture)
    error_message = "architecture must be X86_64 or ARM64."
  }
}

variable "parallelism" {
  description = "Ranged GETs in flight at once (memory is about parallelism x 8 chunks)."
  type        = number
  default     = 8
  nullable    = false
}

variable "queue" {
  description = "The large-file queue the router sends dispatches to (modules/queue outputs)."
  type = object({
    url                        = string
    arn                        = string
    visibility_timeout_seconds = number
  })
}

variable "messages_per_task" {
  description = "Objects one task streams at once (1-10); each holds part_size x parallelism of read-ahead, so memory must hold that many times it. The router starts a task per this many waiting."
  type        = number
  default     = 1
  nullable    = false
  validation {
    condition     = var.messages_per_task >= 1 && var.messages_per_task <= 10
    error_message = "messages_per_task is 1 to 10 (one ReceiveMessage's most)."
  }
}

variable "max_tasks" {
  description = "Most large-file tasks running at once (the account's Fargate quotas bound it too)."
  type        = number
  default     = 10
  nullable    = false
}

variable "idle_seconds" {
  description = "A task exits once its queue has been empty this long. Every idle second is billed: a longer wait keeps a started task (about a minute to start) for files that trickle in, a shorter one costs less for isolated files."
  type        = number
  default     = 10
  nullable    = false
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

variable "attempts" {
  description = "Tries per ranged GET before a transient S3 error fails the task."
  type        = number
  default     = 4
  nullable    = false
}

variable "progress_seconds" {
  description = "Seconds between IN_PROGRESS audit updates (each also renews the task's claim)."
  type        = number
  default     = 10
  nullable    = false
}

variable "max_bytes" {
  description = "Largest object the task accepts (larger ones are REJECTED), e.g. \"5 GiB\"."
  type        = string
  default     = "5 GiB"
  nullable    = false
}

variable "signatures_bucket_arn" {
  description = "ARN of the bucket holding the malware signatures."
  type        = string
}

variable "quarantine" {
  description = "What an INFECTED verdict does: tag, copy (tagged copy under processed/quarantine/) or move."
  type        = string
  default     = "copy"
}

variable "verdict_tags" {
  description = "The verdict tag vocabulary: a preset of workers/compliance/verdict-tags.json."
  type        = string
  default     = "s3-triage"
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

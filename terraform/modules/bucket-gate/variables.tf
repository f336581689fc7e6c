variable "bucket_arn" {
  description = "ARN of the watched bucket the statements protect."
  type        = string
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
  description = "Key prefixes the routing rules send to the compliance tier in this bucket, which the fail-closed gate covers."
  type        = list(string)
}

variable "upload_prefixes" {
  description = "Where uploads land (with uploads_only, the only place anyone but the pipeline may write)."
  type        = list(string)
}

variable "uploads_only" {
  description = "true for the bucket the stack creates: nobody but the pipeline writes outside the upload prefixes. false for a bucket it watches: nobody but the pipeline writes under the reserved prefix."
  type        = bool
}

variable "reserved_prefix" {
  description = "Where the pipeline's outputs go."
  type        = string
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
  description = "Roles that write the pipeline's outputs (the workers and the task)."
  type        = list(string)
}

variable "admin_role_arns" {
  description = "Roles that may read anything, infected objects included, and change verdict tags (security admins)."
  type        = list(string)
  default     = []
}

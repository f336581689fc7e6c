variable "reserved_prefix" {
  description = "The reserved output prefix; quarantine copies go under its quarantine/."
  type        = string
}

variable "quarantine" {
  description = "What an INFECTED verdict does: tag, copy or move (move may delete uploads)."
  type        = string
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

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

variable "reserved_prefix" {
  description = "Where outputs go in an output bucket."
  type        = string
}

variable "output_folders" {
  description = "The folders under the reserved prefix this stage writes (thumbnails, text, attachments, manifests); none for a stage that writes none."
  type        = list(string)
  default     = []
}

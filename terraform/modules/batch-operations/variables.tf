variable "name_prefix" {
  description = "Prefix of every resource name of the deployment."
  type        = string
}

variable "router_function_arn" {
  description = "ARN of the router Lambda, which answers each task."
  type        = string
}

variable "uploads_bucket_arn" {
  description = "ARN of the bucket the stack creates: where reports go."
  type        = string
}

variable "source_bucket_arns" {
  description = "ARNs of every watched bucket: listed for generated manifests."
  type        = list(string)
}

variable "report_prefix" {
  description = "Where in the uploads bucket completion reports are written (under the reserved prefix, so never routed)."
  type        = string
}

variable "inventory_manifest_arns" {
  description = "Object ARNs (wildcards allowed) of S3 Inventory manifests and data files jobs may read; [] for generated manifests only."
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "ARN of the KMS key the uploads bucket encrypts with."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

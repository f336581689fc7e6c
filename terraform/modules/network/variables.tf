variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "cidr_block" {
  description = "Address range of the VPC (a /16 to /24; each private subnet gets a sixteenth)."
  type        = string
  default     = "10.80.0.0/16"
}

variable "availability_zones" {
  description = "Availability zones to spread the private subnets (and interface endpoints) over."
  type        = number
  default     = 2
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the flow-log group."
  type        = string
}

variable "flow_log_retention_days" {
  description = "Days VPC flow logs are kept."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource (besides the provider's default tags)."
  type        = map(string)
  default     = {}
}

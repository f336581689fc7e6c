variable "name" {
  description = "Function name (also its role's and log group's)."
  type        = string
}

variable "binary" {
  description = "The workspace binary the package holds (router, thumbnail, extractor, compliance-checker)."
  type        = string
}

variable "package_path" {
  description = "The Lambda zip (cargo lambda build --release --output-format zip)."
  type        = string
}

variable "memory_size" {
  description = "Lambda memory in MB."
  type        = number
}

variable "timeout_seconds" {
  description = "Lambda timeout in seconds."
  type        = number
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions; -1 for none."
  type        = number
  default     = -1
}

variable "variables" {
  description = "The function's own environment variables, besides the audit settings and RUST_LOG."
  type        = map(string)
  default     = {}
}

variable "policy_json" {
  description = "IAM statements for what only this function does (unique sids; Logs, Audit and Notify are added)."
  type        = string
}

variable "extra_audit_actions" {
  description = "DynamoDB actions on the audit table beyond PutItem/GetItem/UpdateItem (e.g. Query)."
  type        = list(string)
  default     = []
}

variable "environment" {
  description = "Deployment name (dev, staging, prod, local)."
  type        = string
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

variable "log_level" {
  description = "RUST_LOG filter for the function."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "CloudWatch log retention."
  type        = number
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

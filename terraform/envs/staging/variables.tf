variable "region" {
  description = "AWS region to deploy to."
  type        = string
}

variable "bucket_name" {
  description = "Name of the uploads bucket (globally unique)."
  type        = string
}

variable "router_package_path" {
  description = "The router's Lambda zip."
  type        = string
  default     = "../../../target/lambda/router/bootstrap.zip"
}

variable "thumbnail_package_path" {
  description = "The thumbnail worker's Lambda zip."
  type        = string
  default     = "../../../target/lambda/thumbnail/bootstrap.zip"
}

variable "extractor_package_path" {
  description = "The extractor's Lambda zip."
  type        = string
  default     = "../../../target/lambda/extractor/bootstrap.zip"
}

variable "compliance_checker_package_path" {
  description = "The compliance checkers' Lambda zip (one binary, every checker)."
  type        = string
  default     = "../../../target/lambda/compliance-checker/bootstrap.zip"
}

variable "large_file_image" {
  description = "Container image of the large-file task, by digest: <account>.dkr.ecr.<region>.amazonaws.com/s3-triage-large-file@sha256:..."
  type        = string
}

variable "large_subnet_ids" {
  description = "Private subnets (with a route to S3 and ECR) for the large-file tasks."
  type        = list(string)
}

variable "large_security_group_ids" {
  description = "Security groups of the large-file tasks (egress to AWS APIs only)."
  type        = list(string)
}

variable "routing_rules" {
  description = "JSON routing table (see README); null keeps the built-in defaults."
  type        = string
  default     = null
}

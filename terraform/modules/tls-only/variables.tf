variable "bucket_arn" {
  description = "ARN of the bucket the statement protects."
  type        = string
}

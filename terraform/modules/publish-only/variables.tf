variable "topic_arn" {
  description = "ARN of the topic the policy protects."
  type        = string
}

variable "publisher_arns" {
  description = "Role ARNs that may publish to the topic; every other principal is denied."
  type        = list(string)
  validation {
    condition     = length(var.publisher_arns) > 0
    error_message = "A topic nobody may publish to is of no use: name at least one publisher."
  }
}

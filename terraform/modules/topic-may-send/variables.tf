variable "topic_arn" {
  description = "ARN of the one SNS topic that may send."
  type        = string
}

variable "queue_arns" {
  description = "ARNs of the queues the statement covers."
  type        = list(string)
}

variable "sid" {
  description = "The statement's id: one that names us, where the statement joins someone else's policy."
  type        = string
  default     = "TopicSends"
}

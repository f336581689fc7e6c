variable "function_name" {
  description = "The function to run (also the rule's name)."
  type        = string
}

variable "function_arn" {
  description = "ARN of that function."
  type        = string
}

variable "schedule" {
  description = "When it runs: an EventBridge schedule expression, e.g. rate(15 minutes)."
  type        = string
}

variable "description" {
  description = "What a run does, for the rule's description."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

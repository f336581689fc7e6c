variable "name_prefix" {
  description = "Prefix of every resource name (s3-triage-<environment>)."
  type        = string
}

variable "topic_arn" {
  description = "The notifications topic."
  type        = string
}

variable "kms_key_arn" {
  description = "The deployment's key: the created queues and DLQs are encrypted with it."
  type        = string
}

variable "subscribers" {
  description = "Name -> subscriber: protocol (email, email-json, sqs, https, http, lambda), endpoint (the address, URL, function ARN or queue ARN; an sqs subscriber without one gets a queue the stack creates), filter (all, failures, verdicts, infected from notifications/filters.json, or a filter policy as JSON) and, for sqs/http(s), raw_message_delivery (default: true for sqs)."
  type = map(object({
    protocol             = string
    endpoint             = optional(string)
    filter               = optional(string, "all")
    raw_message_delivery = optional(bool)
  }))
  default = {}

  validation {
    condition = alltrue([
      for subscriber in values(var.subscribers) :
      contains(["email", "email-json", "sqs", "https", "http", "lambda"], subscriber.protocol)
    ])
    error_message = "A subscriber's protocol is one of email, email-json, sqs, https, http, lambda."
  }
  validation {
    condition = alltrue([
      for subscriber in values(var.subscribers) : subscriber.protocol == "sqs" || subscriber.endpoint != null
    ])
    error_message = "Only an sqs subscriber may leave out its endpoint (the stack then creates its queue)."
  }
  validation {
    condition     = alltrue([for name in keys(var.subscribers) : can(regex("^[A-Za-z0-9_-]{1,40}$", name))])
    error_message = "A subscriber's name is 1 to 40 letters, digits, - or _ (it names its queues)."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "endpoint_url" {
  description = "The local AWS emulator (moto server) every API call goes to."
  type        = string
  default     = "http://127.0.0.1:5000"
}

variable "event_path" {
  description = "How uploads reach the router: s3 or eventbridge (triage local --event-path)."
  type        = string
  default     = "s3"
}

variable "existing_buckets" {
  description = "Buckets already on the emulator the stack watches too (triage local --watch-existing)."
  type = map(object({
    prefixes    = optional(list(string), ["uploads/"])
    kms_key_arn = optional(string)
    outputs     = optional(string, "source")
  }))
  default = {}
}

variable "notification_subscribers" {
  description = "Who receives the notifications (see modules/subscribers); terraform.tfvars declares the local ones."
  type = map(object({
    protocol             = string
    endpoint             = optional(string)
    filter               = optional(string, "all")
    raw_message_delivery = optional(bool)
  }))
  default = {}
}

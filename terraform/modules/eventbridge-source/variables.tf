variable "rule_name" {
  description = "Name of the EventBridge rule (64 characters at most)."
  type        = string
}

variable "bucket_name" {
  description = "The bucket whose Object Created events the rule forwards."
  type        = string
}

variable "prefixes" {
  description = "Key prefixes whose objects are forwarded."
  type        = list(string)
}

variable "ingest_queue" {
  description = "The ingest queue and its DLQ (modules/queue's outputs: arn, dlq_arn)."
  type = object({
    arn     = string
    dlq_arn = string
  })
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "bucket_arn" {
  description = "ARN of the uploads bucket whose objects get verdicts."
  type        = string
}

variable "reserved_prefix" {
  description = "The reserved output prefix; quarantine copies go under its quarantine/."
  type        = string
}

variable "quarantine" {
  description = "What an INFECTED verdict does: tag, copy or move (move may delete uploads)."
  type        = string
}

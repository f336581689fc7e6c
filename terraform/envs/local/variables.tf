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

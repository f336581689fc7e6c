variable "endpoint_url" {
  description = "The local AWS emulator (moto server) every API call goes to."
  type        = string
  default     = "http://127.0.0.1:5000"
}

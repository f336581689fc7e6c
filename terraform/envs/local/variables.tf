variable "endpoint_url" {
  description = "The local AWS emulator (moto server) every API call goes to."
  type        = string
  default     = "http://127.0.0.1:5000"
}

variable "router_package_path" {
  description = "The router's Lambda zip."
  type        = string
  default     = "../../../target/lambda/router/bootstrap.zip"
}

variable "thumbnail_package_path" {
  description = "The thumbnail worker's Lambda zip."
  type        = string
  default     = "../../../target/lambda/thumbnail/bootstrap.zip"
}

variable "extractor_package_path" {
  description = "The extractor's Lambda zip."
  type        = string
  default     = "../../../target/lambda/extractor/bootstrap.zip"
}

variable "compliance_checker_package_path" {
  description = "The compliance checkers' Lambda zip (one binary, every checker)."
  type        = string
  default     = "../../../target/lambda/compliance-checker/bootstrap.zip"
}

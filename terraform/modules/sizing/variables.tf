variable "functions" {
  description = "An environment's sizing per function (router, thumbnail, extractor, compliance); unset attributes keep the defaults in main.tf."
  type = map(object({
    memory_size          = optional(number)
    timeout_seconds      = optional(number)
    reserved_concurrency = optional(number)
    batch_size           = optional(number)
    concurrency          = optional(number)
    work_timeout_seconds = optional(number)
    work_memory_mb       = optional(number)
  }))
  default = {}
  validation {
    condition     = alltrue([for name in keys(var.functions) : contains(["router", "thumbnail", "extractor", "compliance"], name)])
    error_message = "functions takes the keys router, thumbnail, extractor and compliance."
  }
}

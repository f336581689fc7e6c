variable "name_prefix" {
  description = "Prefix of every resource name, e.g. s3-triage-dev."
  type        = string
}

variable "environment" {
  description = "Deployment name; the Environment dimension of the outcome metrics and the budget's tag filter."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the ops topic."
  type        = string
}

variable "alarm_emails" {
  description = "Addresses subscribed to the ops topic and the budget alerts (each confirms by e-mail)."
  type        = list(string)
  default     = []
}

variable "functions" {
  description = "Lambda function names by a short label, for error and throttle alarms and the dashboard."
  type        = map(string)
}

variable "work_queues" {
  description = "Queues a consumer drains, by label, for the age-of-oldest-message alarms."
  type        = map(string)
}

variable "dead_letter_queues" {
  description = "Dead-letter queue names by label, for the dead-letter alarms."
  type        = map(string)
}

variable "cluster_arn" {
  description = "ECS cluster of the large-file tasks, whose abnormal stops are reported."
  type        = string
}

variable "large_file_log_group" {
  description = "Log group of the large-file task, whose EMF lines the metric filters read."
  type        = string
}

variable "thresholds" {
  description = "Alarm thresholds: an alarm fires when its metric goes above its value in a 5-minute period."
  type = object({
    dead_letters       = optional(number, 0)
    queue_age_seconds  = optional(number, 900)
    function_errors    = optional(number, 0)
    function_throttles = optional(number, 0)
    failed_outcomes    = optional(number, 0)
    silence_minutes    = optional(number, 15)
  })
  default = {}
}

variable "ingest_queue" {
  description = "Name of the ingest queue: uploads arriving there with no outcome recorded anywhere is silence."
  type        = string
}

variable "canary_period_seconds" {
  description = "Seconds between canary runs; null when the deployment has no canary."
  type        = number
  default     = null
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget in USD for the environment's tagged resources; alerts at 80% and 100% of actual spend."
  type        = number
}

variable "emulated" {
  description = "Applied to the local emulator, which has no Budgets API: no budget is created."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource (besides the provider's default tags)."
  type        = map(string)
  default     = {}
}

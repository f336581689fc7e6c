variable "region" {
  description = "AWS region to deploy to."
  type        = string
}

variable "environment" {
  description = "Environment name: dev, staging or prod (the Environment tag, the resource name prefix s3-triage-<environment>)."
  type        = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "owner" {
  description = "Team or person answerable for the deployment (the Owner tag on every resource)."
  type        = string
}


variable "bucket_name" {
  description = "Name of the uploads bucket (globally unique on AWS); access logs go to <name>-access-logs."
  type        = string
}

variable "router_package_path" {
  description = "The router's Lambda zip (scripts/build-lambdas.sh)."
  type        = string
  default     = "../../../target/lambda/router/bootstrap.zip"
}

variable "thumbnail_package_path" {
  description = "The thumbnail worker's Lambda zip (scripts/build-lambdas.sh)."
  type        = string
  default     = "../../../target/lambda/thumbnail/bootstrap.zip"
}

variable "extractor_package_path" {
  description = "The extractor's Lambda zip (scripts/build-lambdas.sh)."
  type        = string
  default     = "../../../target/lambda/extractor/bootstrap.zip"
}

variable "compliance_checker_package_path" {
  description = "The compliance checkers' Lambda zip, one binary for every checker (scripts/build-lambdas.sh)."
  type        = string
  default     = "../../../target/lambda/compliance-checker/bootstrap.zip"
}

variable "sweeper_package_path" {
  description = "The sweeper's Lambda zip (scripts/build-lambdas.sh)."
  type        = string
  default     = "../../../target/lambda/sweeper/bootstrap.zip"
}

variable "canary_package_path" {
  description = "The canary's Lambda zip (scripts/build-lambdas.sh); used when canary_schedule is set."
  type        = string
  default     = "../../../target/lambda/canary/bootstrap.zip"
}

variable "canary_schedule" {
  description = "How often the canary proves every tier alive (an EventBridge schedule expression, e.g. rate(30 minutes)); null: no canary."
  type        = string
  default     = null
}

variable "lambda_architecture" {
  description = "Instruction set of the Lambda packages: x86_64, or arm64 for packages built with scripts/build-lambdas.sh --arm64."
  type        = string
  default     = "x86_64"
  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be x86_64 or arm64."
  }
}

variable "large_file_image" {
  description = "Container image of the large-file task (repository@sha256:digest)."
  type        = string
  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$", var.large_file_image))
    error_message = "large_file_image must be an ECR image by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits> (README, Deploy, step 3)."
  }
}

variable "routing_rules" {
  description = "JSON routing table (see README); null keeps the built-in defaults."
  type        = string
  default     = null
}

variable "functions" {
  description = "Sizing per function: a map of router, thumbnail, extractor and compliance (each checker) to memory_size, timeout_seconds, reserved_concurrency, batch_size, concurrency (items of a batch at a time), work_timeout_seconds (one item's render or parse deadline) and work_memory_mb (a parser child's address space); unset attributes keep the defaults. Typed, defaulted and derived from in modules/sizing (queue visibility timeouts, event source concurrency, claim leases); cli/tests/consistency checks that the batch's work fits the timeout and the concurrent items the memory."
  type        = any
  default     = {}
}
variable "large_file" {
  description = "Large-file tasks: sizing, read pattern, CPU architecture (X86_64 or ARM64), capacity (on-demand, or spot: Fargate Spot with on-demand when Spot has none), the fleet (max_tasks at once, messages_per_task objects each) and idle_seconds before an idle task exits; unset attributes keep the module defaults (X86_64, on-demand, 10 tasks of 1 object, 10 s)."
  type = object({
    cpu               = optional(number)
    memory            = optional(number)
    part_size         = optional(string)
    parallelism       = optional(number)
    architecture      = optional(string)
    capacity          = optional(string, "on-demand")
    max_tasks         = optional(number)
    messages_per_task = optional(number)
    idle_seconds      = optional(number)
  })
  default = {}
}

variable "compliance_quarantine" {
  description = "What happens to an INFECTED upload: tag, copy (tagged copy under processed/quarantine/) or move."
  type        = string
  default     = "copy"
}

variable "quarantine_admin_role_arns" {
  description = "Role ARNs that may read any upload (infected and unscanned ones too) and change verdict tags; everyone else is held by the compliance gate."
  type        = list(string)
  default     = []
}

variable "compliance_gate" {
  description = "fail-closed: uploads under the compliance-routed prefixes are readable only once their verdict is clean; infected-only: only infected uploads are unreadable."
  type        = string
  default     = "fail-closed"
}

variable "verdict_tags" {
  description = "Which tags a verdict writes: s3-triage, bucket-antivirus, cdk-serverless-clamscan or guardduty."
  type        = string
  default     = "s3-triage"
}

variable "signature_writer_arns" {
  description = "Principals that may update the malware signatures besides whoever applies this terraform."
  type        = list(string)
  default     = []
}

variable "inventory_manifest_arns" {
  description = "S3 Inventory manifests and data files (object ARNs, wildcards allowed) that `triage backfill --batch-operations --inventory` jobs may read."
  type        = list(string)
  default     = []
}

variable "vpc_cidr" {
  description = "Address range of the VPC the large-file tasks run in."
  type        = string
  default     = "10.80.0.0/16"
}

variable "availability_zones" {
  description = "Availability zones for the private subnets and interface endpoints."
  type        = number
  default     = 2
}

variable "protect_data" {
  description = "Deletion protection for the audit table, no force-destroy of the buckets."
  type        = bool
  default     = true
}

variable "processed_expiration_days" {
  description = "Days before outputs under processed/ (thumbnails, text, manifests, quarantine copies) expire."
  type        = number
  default     = 365
}

variable "audit_retention_days" {
  description = "Days an audit item lives before DynamoDB's TTL removes it."
  type        = number
  default     = 90
}

variable "log_retention_days" {
  description = "CloudWatch log retention for every function and the task."
  type        = number
  default     = 30
}

variable "log_level" {
  description = "Log level of every function and the task (error, warn, info, debug, trace)."
  type        = string
  default     = "info"
}

variable "alarm_emails" {
  description = "Addresses subscribed to the ops topic (alarms, stopped tasks, budget alerts)."
  type        = list(string)
  default     = []
}

variable "alarm_thresholds" {
  description = "Alarm thresholds (see modules/operations); unset attributes keep the defaults."
  type = object({
    dead_letters       = optional(number)
    queue_age_seconds  = optional(number)
    function_errors    = optional(number)
    function_throttles = optional(number)
    failed_outcomes    = optional(number)
    silence_minutes    = optional(number)
  })
  default = {}
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget of the environment in USD (alerts at 80% and 100%)."
  type        = number
  default     = 100
}

variable "event_path" {
  description = "How the uploads bucket's ObjectCreated events reach the router: s3 (a notification configuration naming the ingest queue; S3 allows one destination per overlapping prefix) or eventbridge (the bucket sends its events to EventBridge and a rule forwards the uploads, leaving room for other consumers' rules)."
  type        = string
  default     = "s3"
}

variable "thumbnail_fail_on" {
  description = "Which damage the JPEG decoder recovers from fails an image, as sharp's failOn: warning (any: truncation, corrupt data), truncated, or none (keep the recovery; the record notes damaged = true)."
  type        = string
  default     = "warning"
}

variable "notification_subscribers" {
  description = "Who receives the notifications (see modules/subscribers): name => { protocol, endpoint, filter = all | failures | verdicts | infected | a filter policy as JSON, raw_message_delivery }."
  type = map(object({
    protocol             = string
    endpoint             = optional(string)
    filter               = optional(string, "all")
    raw_message_delivery = optional(bool)
  }))
  default = {}
}

variable "existing_buckets" {
  description = "Buckets this stack did not create that it watches too (see modules/stack): name => { prefixes, kms_key_arn, outputs = \"source\" | \"stack\" }."
  type = map(object({
    prefixes    = optional(list(string), ["uploads/"])
    kms_key_arn = optional(string)
    outputs     = optional(string, "source")
  }))
  default = {}
}

# The scheduled canary (watchdog/canary): a selftest of the deployment from the outside on
# every tick, a canary per tier uploaded under <rule prefix>triage-selftest/, its outcome
# waited for and checked, everything it made removed; its verdict is the CanaryMisses metric,
# which modules/operations alarms on (also when it goes missing).

locals {
  function_name = "${var.deployment.name_prefix}-canary"
  # The canaries and everything the pipeline makes of them carry the folder in their key.
  canary_objects = "${var.bucket_arn}/*triage-selftest/*"
  # rate(<n> minute[s]|hour[s]|day[s]) -> seconds; a cron schedule counts as hourly.
  rate           = regexall("^rate\\((\\d+) (minute|hour|day)s?\\)$", var.schedule)
  period_seconds = length(local.rate) == 0 ? 3600 : tonumber(local.rate[0][0]) * { minute = 60, hour = 3600, day = 86400 }[local.rate[0][1]]
}

data "aws_iam_policy_document" "canary" {
  statement {
    sid       = "UploadAndRemoveCanaries"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = [local.canary_objects]
  }
  statement {
    # A verdict is checked by its tag, a manifest by its sha256.
    sid       = "CheckCanaryOutcomes"
    actions   = ["s3:GetObject", "s3:GetObjectTagging"]
    resources = [local.canary_objects]
  }
  statement {
    # Outputs are listed, not read (a quarantine copy is unreadable to all but the verdict
    # writers), and the canaries' versions listed to remove them all.
    sid       = "ListCanaryVersions"
    actions   = ["s3:ListBucketVersions"]
    resources = [var.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["*triage-selftest/*"]
    }
  }
  statement {
    sid       = "ReadOutcomes"
    actions   = ["dynamodb:Query"]
    resources = [var.deployment.audit_table_arn]
  }
}

module "function" {
  source       = "../lambda-function"
  name         = local.function_name
  binary       = "canary"
  package_path = var.package_path
  # It records nothing: it reads the audit trail as a user would.
  records = false
  sizing = {
    memory_size             = 512
    timeout_seconds         = var.timeout_seconds + 60
    reserved_concurrency    = 1
    batch_size              = 0
    batching_window_seconds = 0
    maximum_concurrency     = null
    claim_lease_seconds     = 0
  }
  policy_json = data.aws_iam_policy_document.canary.json
  deployment  = var.deployment
  tags        = var.tags
  variables = {
    TRIAGE_CANARY_BUCKET          = var.bucket_name
    TRIAGE_CANARY_TIMEOUT_SECONDS = var.timeout_seconds
    TRIAGE_AUDIT_TABLE            = var.deployment.audit_table_name
    TRIAGE_RESERVED_PREFIX        = var.deployment.reserved_prefix
    TRIAGE_OUTPUT_BUCKETS         = var.output_buckets
    TRIAGE_VERDICT_TAGS           = var.verdict_tags
    # Blank keeps the built-in routing table, as the router's.
    TRIAGE_ROUTING_RULES = var.routing_rules == null ? "" : var.routing_rules
  }
}

module "schedule" {
  source        = "../schedule"
  function_name = module.function.function_name
  function_arn  = module.function.function_arn
  schedule      = var.schedule
  description   = "Runs the canary: a selftest of every tier."
  tags          = var.tags
}

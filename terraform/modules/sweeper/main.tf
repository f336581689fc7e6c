# The sweep (audit/src/sweep.rs) on a schedule: records claimed longer ago than any redelivery
# could still finish them are ended exactly once, FAILED "abandoned" (the effect never ran) or
# announced as recorded (only the announcement was missing), so nothing stays unfinished.

locals {
  function_name = "${var.deployment.name_prefix}-sweeper"
}

data "aws_iam_policy_document" "sweeper" {
  # The sparse index of records not yet announced (audit/src/table.rs).
  statement {
    sid       = "FindUnfinished"
    actions   = ["dynamodb:Query"]
    resources = ["${var.deployment.audit_table_arn}/index/unfinished"]
  }
}

module "function" {
  source       = "../lambda-function"
  name         = local.function_name
  binary       = "sweeper"
  package_path = var.package_path
  sizing       = var.sizing
  policy_json  = data.aws_iam_policy_document.sweeper.json
  # It takes over claims it found and rewrites them; it reads no single item.
  audit_actions = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
  deployment    = var.deployment
  tags          = var.tags
  variables = {
    TRIAGE_ABANDONED_AFTER_SECONDS = var.abandoned_after_seconds
  }
}

module "schedule" {
  source        = "../schedule"
  function_name = module.function.function_name
  function_arn  = module.function.function_arn
  schedule      = var.schedule
  description   = "Runs the sweep of abandoned audit records."
  tags          = var.tags
}

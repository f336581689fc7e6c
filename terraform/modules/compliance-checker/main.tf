# One compliance checker: its own queue subscribed to the compliance topic (durable fan-out,
# its own DLQ and retries, a filter policy when it checks only some content kinds) and its own
# Lambda running the compliance-checker binary as TRIAGE_CHECKER = var.checker. Whichever
# checker completes an object's set writes the verdict and quarantines an INFECTED object, so
# every checker may tag, copy to quarantine/ and (in move mode) delete uploads.

locals {
  function_name = "${var.name_prefix}-check-${var.checker}"
  filter_policy = length(var.content_kinds) == 0 ? null : jsonencode({
    content_kind = var.content_kinds
  })
  signatures = var.signatures_uri == null ? {} : { TRIAGE_SIGNATURES_URI = var.signatures_uri }
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${local.function_name}-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "checks" {
  name                       = local.function_name
  visibility_timeout_seconds = 6 * var.timeout_seconds
  message_retention_seconds  = 345600
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
  tags = var.tags
}

data "aws_iam_policy_document" "topic_may_send" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.checks.arn]
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [var.compliance_topic_arn]
    }
  }
}

resource "aws_sqs_queue_policy" "checks" {
  queue_url = aws_sqs_queue.checks.id
  policy    = data.aws_iam_policy_document.topic_may_send.json
}

resource "aws_sns_topic_subscription" "checks" {
  topic_arn            = var.compliance_topic_arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.checks.arn
  raw_message_delivery = true
  filter_policy        = local.filter_policy
  depends_on           = [aws_sqs_queue_policy.checks]
}

data "aws_iam_policy_document" "checker" {
  statement {
    sid       = "ConsumeQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
    resources = [aws_sqs_queue.checks.arn]
  }
  statement {
    sid       = "ReadUploads"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.bucket_arn}/*"]
  }
  statement {
    sid       = "TagInfected"
    actions   = ["s3:PutObjectTagging", "s3:PutObjectVersionTagging"]
    resources = ["${var.bucket_arn}/*"]
  }
  dynamic "statement" {
    for_each = var.quarantine == "move" ? [1] : []
    content {
      sid       = "MoveInfected"
      actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
      resources = ["${var.bucket_arn}/*"]
    }
  }
  statement {
    sid       = "WriteQuarantine"
    actions   = ["s3:PutObject", "s3:PutObjectTagging"]
    resources = ["${var.bucket_arn}/${var.reserved_prefix}quarantine/*"]
  }
  dynamic "statement" {
    for_each = var.signatures_uri == null ? [] : [1]
    content {
      sid       = "ListSignatures"
      actions   = ["s3:ListBucket"]
      resources = [var.bucket_arn]
    }
  }
}

module "function" {
  source                  = "../lambda-function"
  name                    = local.function_name
  binary                  = "compliance-checker"
  package_path            = var.package_path
  memory_size             = var.memory_size
  timeout_seconds         = var.timeout_seconds
  policy_json             = data.aws_iam_policy_document.checker.json
  extra_audit_actions     = ["dynamodb:Query"]
  environment             = var.environment
  audit_table_name        = var.audit_table_name
  audit_table_arn         = var.audit_table_arn
  notifications_topic_arn = var.notifications_topic_arn
  log_level               = var.log_level
  log_retention_days      = var.log_retention_days
  tags                    = var.tags
  variables = merge(local.signatures, {
    TRIAGE_RESERVED_PREFIX           = var.reserved_prefix
    TRIAGE_CHECKER                   = var.checker
    TRIAGE_COMPLIANCE_CHECKERS       = var.checkers_json
    TRIAGE_QUARANTINE                = var.quarantine
    TRIAGE_COMPLIANCE_MAX_HELD_BYTES = var.max_held_bytes
  })
}

resource "aws_lambda_event_source_mapping" "checks" {
  event_source_arn                   = aws_sqs_queue.checks.arn
  function_name                      = module.function.function_arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]
}

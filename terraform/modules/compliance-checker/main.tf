# One compliance checker: its own queue subscribed to the compliance topic (durable fan-out,
# its own DLQ and retries, a filter policy when it checks only some content kinds; a delivery
# SNS cannot make goes to the DLQ too) and its own Lambda running the compliance-checker
# binary as TRIAGE_CHECKER = var.checker. Whichever checker completes an object's set writes
# the verdict, tags the object with it and quarantines an INFECTED one, so every checker may
# tag, copy to quarantine/ and (in move mode) delete uploads.

locals {
  function_name = "${var.deployment.name_prefix}-check-${var.checker}"
  filter_policy = length(var.content_kinds) == 0 ? null : jsonencode({
    content_kind = var.content_kinds
  })
}

module "queue" {
  source                     = "../queue"
  name                       = local.function_name
  visibility_timeout_seconds = var.sizing.queue_visibility_seconds
  max_receive_count          = var.max_receive_count
  kms_key_arn                = var.deployment.kms_key_arn
  tags                       = var.tags
}

module "topic_may_send" {
  source     = "../topic-may-send"
  topic_arn  = var.compliance_topic_arn
  queue_arns = [module.queue.arn, module.queue.dlq_arn]
}

resource "aws_sqs_queue_policy" "checks" {
  queue_url = module.queue.url
  policy    = module.topic_may_send.json
}

resource "aws_sqs_queue_policy" "undeliverable" {
  queue_url = module.queue.dlq_url
  policy    = module.topic_may_send.json
}

resource "aws_sns_topic_subscription" "checks" {
  topic_arn            = var.compliance_topic_arn
  protocol             = "sqs"
  endpoint             = module.queue.arn
  raw_message_delivery = true
  filter_policy        = local.filter_policy
  # Without it SNS drops a delivery it gave up on, and the object never gets its check.
  redrive_policy = jsonencode({ deadLetterTargetArn = module.queue.dlq_arn })
  depends_on     = [aws_sqs_queue_policy.checks, aws_sqs_queue_policy.undeliverable]
}

module "uploads" {
  source          = "../uploads-access"
  storage         = var.storage
  reserved_prefix = var.deployment.reserved_prefix
}

module "verdict_writer" {
  source          = "../verdict-writer"
  storage         = var.storage
  reserved_prefix = var.deployment.reserved_prefix
  quarantine      = var.quarantine
}

data "aws_iam_policy_document" "checker" {
  source_policy_documents = [module.uploads.json, module.verdict_writer.json]
  dynamic "statement" {
    for_each = var.signatures_uri == null ? [] : [1]
    content {
      sid = "ReadSignatures"
      # Listed with their versions, then each read at the version listed.
      actions   = ["s3:ListBucketVersions", "s3:GetObject", "s3:GetObjectVersion"]
      resources = [var.signatures_bucket_arn, "${var.signatures_bucket_arn}/*"]
    }
  }
}

module "function" {
  source       = "../lambda-function"
  name         = local.function_name
  binary       = "compliance-checker"
  package_path = var.package_path
  sizing       = var.sizing
  queue_arn    = module.queue.arn
  policy_json  = data.aws_iam_policy_document.checker.json
  deployment   = var.deployment
  tags         = var.tags
  variables = {
    TRIAGE_RESERVED_PREFIX           = var.deployment.reserved_prefix
    TRIAGE_OUTPUT_BUCKETS            = var.storage.output_buckets
    TRIAGE_CHECKER                   = var.checker
    TRIAGE_COMPLIANCE_CHECKERS       = var.checkers_json
    TRIAGE_QUARANTINE                = var.quarantine
    TRIAGE_VERDICT_TAGS              = var.verdict_tags
    TRIAGE_COMPLIANCE_MAX_HELD_BYTES = var.sizing.max_input_bytes
    TRIAGE_COMPLIANCE_CONCURRENCY    = var.sizing.concurrency
    # The PII check's PDF parser child.
    TRIAGE_COMPLIANCE_PARSE_TIMEOUT_SECONDS = var.sizing.work_timeout_seconds
    TRIAGE_COMPLIANCE_PARSE_MEMORY_MB       = var.sizing.work_memory_mb
    # Only the malware checker loads signatures; blank reads as unset for the others.
    TRIAGE_SIGNATURES_URI             = var.signatures_uri == null ? "" : var.signatures_uri
    TRIAGE_SIGNATURES_REFRESH_SECONDS = var.signatures_refresh_seconds
  }
}

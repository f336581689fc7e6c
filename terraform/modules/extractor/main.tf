# The extractor Lambda: fed by the extractor queue in batches with partial batch responses
# (failed documents stay for redelivery, then the queue's DLQ). It may read uploads, write only
# under the reserved prefix's text/, write the audit table and publish notifications.

data "aws_iam_policy_document" "extractor" {
  statement {
    sid       = "ReadUploads"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.bucket_arn}/*"]
  }
  statement {
    sid       = "WriteText"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arn}/${var.deployment.reserved_prefix}text/*"]
  }
}

module "function" {
  source       = "../lambda-function"
  name         = "${var.deployment.name_prefix}-extractor"
  binary       = "extractor"
  package_path = var.package_path
  sizing       = var.sizing
  queue_arn    = var.queue_arn
  policy_json  = data.aws_iam_policy_document.extractor.json
  deployment   = var.deployment
  tags         = var.tags
  variables = {
    TRIAGE_RESERVED_PREFIX                 = var.deployment.reserved_prefix
    TRIAGE_EXTRACTOR_MAX_BYTES             = var.sizing.max_input_bytes
    TRIAGE_EXTRACTOR_PARSE_TIMEOUT_SECONDS = var.sizing.work_timeout_seconds
    TRIAGE_EXTRACTOR_CONCURRENCY           = var.sizing.concurrency
    TRIAGE_EXTRACTOR_PARSE_MEMORY_MB       = var.sizing.work_memory_mb
  }
}

# The extractor Lambda: fed by the extractor queue in batches with partial batch responses
# (failed documents stay for redelivery, then the queue's DLQ). It may read uploads, write only
# under the reserved prefix's text/, write the audit table and publish notifications.

data "aws_iam_policy_document" "extractor" {
  statement {
    sid       = "ConsumeQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
    resources = [var.queue_arn]
  }
  statement {
    sid       = "ReadUploads"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.bucket_arn}/*"]
  }
  statement {
    sid       = "WriteText"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arn}/${var.reserved_prefix}text/*"]
  }
}

module "function" {
  source                  = "../lambda-function"
  name                    = "${var.name_prefix}-extractor"
  binary                  = "extractor"
  package_path            = var.package_path
  memory_size             = var.memory_size
  timeout_seconds         = var.timeout_seconds
  policy_json             = data.aws_iam_policy_document.extractor.json
  environment             = var.environment
  audit_table_name        = var.audit_table_name
  audit_table_arn         = var.audit_table_arn
  notifications_topic_arn = var.notifications_topic_arn
  log_level               = var.log_level
  log_retention_days      = var.log_retention_days
  tags                    = var.tags
  variables = {
    TRIAGE_RESERVED_PREFIX                 = var.reserved_prefix
    TRIAGE_EXTRACTOR_MAX_BYTES             = var.max_document_bytes
    TRIAGE_EXTRACTOR_PARSE_TIMEOUT_SECONDS = var.parse_timeout_seconds
    TRIAGE_EXTRACTOR_CONCURRENCY           = var.concurrency
  }
}

resource "aws_lambda_event_source_mapping" "documents" {
  event_source_arn                   = var.queue_arn
  function_name                      = module.function.function_arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]
}

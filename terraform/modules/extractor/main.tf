# The extractor Lambda: fed by the extractor queue in batches with partial batch responses
# (failed documents stay for redelivery, then the queue's DLQ). It may read uploads, write only
# under the reserved prefix's text/, write the audit table and publish notifications.

locals {
  function_name = "${var.name_prefix}-extractor"
}

resource "aws_cloudwatch_log_group" "extractor" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "extractor" {
  name               = local.function_name
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "extractor" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.extractor.arn}:*"]
  }
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
  statement {
    sid       = "Audit"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [var.audit_table_arn]
  }
  statement {
    sid       = "Notify"
    actions   = ["sns:Publish"]
    resources = [var.notifications_topic_arn]
  }
}

resource "aws_iam_role_policy" "extractor" {
  name   = "extractor"
  role   = aws_iam_role.extractor.id
  policy = data.aws_iam_policy_document.extractor.json
}

resource "aws_lambda_function" "extractor" {
  function_name    = local.function_name
  role             = aws_iam_role.extractor.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = ["x86_64"]
  filename         = var.package_path
  source_code_hash = filebase64sha256(var.package_path)
  memory_size      = var.memory_size
  timeout          = var.timeout_seconds

  environment {
    variables = {
      TRIAGE_ENVIRONMENT                     = var.environment
      TRIAGE_AUDIT_TABLE                     = var.audit_table_name
      TRIAGE_NOTIFICATIONS_TOPIC_ARN         = var.notifications_topic_arn
      TRIAGE_RESERVED_PREFIX                 = var.reserved_prefix
      TRIAGE_EXTRACTOR_MAX_BYTES             = var.max_document_bytes
      TRIAGE_EXTRACTOR_PARSE_TIMEOUT_SECONDS = var.parse_timeout_seconds
      TRIAGE_EXTRACTOR_CONCURRENCY           = var.concurrency
      RUST_LOG                               = var.log_level
    }
  }

  depends_on = [aws_cloudwatch_log_group.extractor, aws_iam_role_policy.extractor]
  # Tells the local executor which workspace binary implements this function.
  tags = merge(var.tags, { "s3-triage:binary" = "extractor" })
}

resource "aws_lambda_event_source_mapping" "documents" {
  event_source_arn                   = var.queue_arn
  function_name                      = aws_lambda_function.extractor.arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]
}

# The thumbnail Lambda: invoked asynchronously by the router, retried by Lambda, and sent to
# its own DLQ when the retries run out. It may read uploads, write only under the reserved
# prefix's thumbnails/, write the audit table and publish notifications.

locals {
  function_name = "${var.name_prefix}-thumbnail"
}

resource "aws_cloudwatch_log_group" "thumbnail" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${local.function_name}-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
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

resource "aws_iam_role" "thumbnail" {
  name               = local.function_name
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "thumbnail" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.thumbnail.arn}:*"]
  }
  statement {
    sid       = "ReadUploads"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.bucket_arn}/*"]
  }
  statement {
    sid       = "WriteThumbnails"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arn}/${var.reserved_prefix}thumbnails/*"]
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
  statement {
    sid       = "OnFailureDestination"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }
}

resource "aws_iam_role_policy" "thumbnail" {
  name   = "thumbnail"
  role   = aws_iam_role.thumbnail.id
  policy = data.aws_iam_policy_document.thumbnail.json
}

resource "aws_lambda_function" "thumbnail" {
  function_name                  = local.function_name
  role                           = aws_iam_role.thumbnail.arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = ["x86_64"]
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  memory_size                    = var.memory_size
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    variables = {
      TRIAGE_ENVIRONMENT             = var.environment
      TRIAGE_AUDIT_TABLE             = var.audit_table_name
      TRIAGE_NOTIFICATIONS_TOPIC_ARN = var.notifications_topic_arn
      TRIAGE_RESERVED_PREFIX         = var.reserved_prefix
      TRIAGE_THUMBNAIL_SIZES         = join(",", var.sizes)
      TRIAGE_THUMBNAIL_FORMAT        = var.output_format
      TRIAGE_THUMBNAIL_QUALITY       = var.jpeg_quality
      TRIAGE_THUMBNAIL_MAX_PIXELS    = var.max_pixels
      RUST_LOG                       = var.log_level
    }
  }

  depends_on = [aws_cloudwatch_log_group.thumbnail, aws_iam_role_policy.thumbnail]
  # Tells the local executor which workspace binary implements this function.
  tags = merge(var.tags, { "s3-triage:binary" = "thumbnail" })
}

resource "aws_lambda_function_event_invoke_config" "thumbnail" {
  function_name                = aws_lambda_function.thumbnail.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = var.maximum_event_age_seconds
  destination_config {
    on_failure {
      destination = aws_sqs_queue.dlq.arn
    }
  }
}

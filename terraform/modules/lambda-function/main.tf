# One of s3-triage's Lambda functions with what every one of them has: a log group, a role of
# its own (its log stream, the audit table, the notifications topic, plus the caller's
# statements for what only it does), the provided.al2023 runtime, the environment every binary
# reads, and the tag that tells the local executor which workspace binary implements it.

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
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

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "this" {
  source_policy_documents = [var.policy_json]
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
  statement {
    sid       = "Audit"
    actions   = concat(["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"], var.extra_audit_actions)
    resources = [var.audit_table_arn]
  }
  statement {
    sid       = "Notify"
    actions   = ["sns:Publish"]
    resources = [var.notifications_topic_arn]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = var.binary
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_lambda_function" "this" {
  function_name                  = var.name
  role                           = aws_iam_role.this.arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = ["x86_64"]
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  memory_size                    = var.memory_size
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    variables = merge({
      TRIAGE_ENVIRONMENT             = var.environment
      TRIAGE_AUDIT_TABLE             = var.audit_table_name
      TRIAGE_NOTIFICATIONS_TOPIC_ARN = var.notifications_topic_arn
      RUST_LOG                       = var.log_level
    }, var.variables)
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
  tags       = merge(var.tags, { "s3-triage:binary" = var.binary })
}

# One of s3-triage's Lambda functions with what every one of them has: a log group (encrypted,
# with retention), a role of its own (its log stream, X-Ray, the deployment key, its queue when
# it has one, the audit table and the notifications topic when it records outcomes, plus the
# caller's statements for what only it does), the provided.al2023 runtime with JSON logs,
# active tracing and recursive loop detection, the environment its binary reads, and the tag
# that tells the local executor which workspace binary implements it.

locals {
  # Known at plan time, unlike the queue's ARN when its queue is created in the same apply.
  queue_fed = var.sizing.batch_size > 0
  # What the audit recorder reads (audit/src/settings.rs).
  recorder_variables = {
    TRIAGE_AUDIT_TABLE             = var.deployment.audit_table_name
    TRIAGE_NOTIFICATIONS_TOPIC_ARN = var.deployment.notifications_topic_arn
    TRIAGE_AUDIT_RETENTION_DAYS    = var.deployment.audit_retention_days
    TRIAGE_EMF_METRICS             = "true"
    # A claim outlives the invocation holding it, so a redelivery never runs beside it.
    TRIAGE_CLAIM_LEASE_SECONDS = var.sizing.claim_lease_seconds
  }
}

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_338:Retention is each environment's choice (terraform.tfvars): prod keeps 400 days, dev and staging less to save cost; the audit table keeps the outcomes.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.deployment.log_retention_days
  kms_key_id        = var.deployment.kms_key_arn
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
    # X-Ray accepts no resource narrower than "*" for these.
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
  statement {
    # Every bucket, queue, topic and the table are encrypted with the deployment key.
    sid       = "UseDeploymentKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.deployment.kms_key_arn]
  }
  dynamic "statement" {
    for_each = var.records ? [1] : []
    content {
      sid       = "Audit"
      actions   = var.audit_actions
      resources = [var.deployment.audit_table_arn]
    }
  }
  dynamic "statement" {
    for_each = var.records ? [1] : []
    content {
      sid       = "Notify"
      actions   = ["sns:Publish"]
      resources = [var.deployment.notifications_topic_arn]
    }
  }
  dynamic "statement" {
    for_each = local.queue_fed ? [var.queue_arn] : []
    content {
      sid       = "ConsumeQueue"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = var.binary
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_117:The functions reach only AWS APIs and no private resource; a VPC would add an interface endpoint per service (SNS, SQS, Lambda, ECS) and cold-start latency for no isolation gained. The large-file task, which holds data longest, runs in private subnets.
  # checkov:skip=CKV_AWS_272:Packages are built by scripts/build-lambdas.sh and passed by content hash; code signing needs AWS Signer jobs over S3-staged packages, which this deploy path does not use.
  # checkov:skip=CKV_AWS_116:Functions fed by SQS keep failed messages in their queue's DLQ (redrive policy); the one invoked asynchronously (thumbnail) sends failed events to its DLQ through an on-failure destination.
  function_name                  = var.name
  role                           = aws_iam_role.this.arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.deployment.lambda_architecture]
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  memory_size                    = var.sizing.memory_size
  timeout                        = var.sizing.timeout_seconds
  reserved_concurrent_executions = var.sizing.reserved_concurrency
  kms_key_arn                    = var.deployment.kms_key_arn

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = upper(var.deployment.log_level)
    system_log_level      = "WARN"
  }

  environment {
    variables = merge(
      {
        TRIAGE_ENVIRONMENT = var.deployment.environment
        RUST_LOG           = var.deployment.log_level
      },
      var.records ? local.recorder_variables : {},
      var.variables,
    )
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
  tags       = merge(var.tags, { "s3-triage:binary" = var.binary })
}

resource "aws_lambda_function_recursion_config" "this" {
  count          = var.deployment.emulated ? 0 : 1
  function_name  = aws_lambda_function.this.function_name
  recursive_loop = "Terminate"
}

resource "aws_lambda_event_source_mapping" "queue" {
  count                              = local.queue_fed ? 1 : 0
  event_source_arn                   = var.queue_arn
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = var.sizing.batch_size
  maximum_batching_window_in_seconds = var.sizing.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]
  # No more pollers than the function may run: a burst waits in the queue instead of being
  # throttled and received again until the DLQ takes it.
  scaling_config {
    maximum_concurrency = var.sizing.maximum_concurrency
  }
}

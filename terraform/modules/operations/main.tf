# Watching the pipeline: an ops topic every alarm and budget alert goes to; alarms on dead
# letters, queue age, function errors and throttles, failed outcomes per stage and stopped
# large-file tasks; a dashboard; a monthly budget. Outcome metrics come from the EMF lines the
# notifications library writes (notifications/src/metrics.rs).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  namespace = "s3-triage"
  region    = data.aws_region.current.name
  # Stages whose failures page someone; compliance is the verdict, not each check.
  alarmed_stages = ["router", "thumbnail", "extractor", "compliance", "large-file"]
  outcome_dimensions = {
    Environment = var.environment
    Status      = "FAILED"
  }
}

resource "aws_sns_topic" "ops" {
  name              = "${var.name_prefix}-ops"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "ops" {
  statement {
    sid       = "AlarmsEventsAndBudgetsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.ops.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "ops" {
  arn    = aws_sns_topic.ops.arn
  policy = data.aws_iam_policy_document.ops.json
}

resource "aws_sns_topic_subscription" "ops_email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.ops.arn
  protocol  = "email"
  endpoint  = each.value
}

# A message in a DLQ is work the pipeline gave up on: someone looks at every one.
resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each            = var.dead_letter_queues
  alarm_name          = "${var.name_prefix}-${each.key}-dead-letters"
  alarm_description   = "Messages in ${each.value}: inspect with `triage dlq` and redrive or discard."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.dead_letters
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops.arn]
  ok_actions          = [aws_sns_topic.ops.arn]
  tags                = var.tags
}

# Old messages mean the consumer is failing or cannot keep up.
resource "aws_cloudwatch_metric_alarm" "queue_age" {
  for_each            = var.work_queues
  alarm_name          = "${var.name_prefix}-${each.key}-queue-age"
  alarm_description   = "The oldest message in ${each.value} has waited too long: check the consumer's errors and throttles."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.queue_age_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops.arn]
  ok_actions          = [aws_sns_topic.ops.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each            = var.functions
  alarm_name          = "${var.name_prefix}-${each.key}-errors"
  alarm_description   = "${each.value} invocations failed (crashes, timeouts, whole-batch failures)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.function_errors
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops.arn]
  ok_actions          = [aws_sns_topic.ops.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  for_each            = var.functions
  alarm_name          = "${var.name_prefix}-${each.key}-throttles"
  alarm_description   = "${each.value} hit its reserved concurrency: raise it in the environment's tfvars or expect queueing."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.function_throttles
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops.arn]
  ok_actions          = [aws_sns_topic.ops.arn]
  tags                = var.tags
}

# FAILED outcomes per stage, from the EMF metrics: bad uploads are REJECTED, so FAILED means
# something our side could not do.
resource "aws_cloudwatch_metric_alarm" "failed_outcomes" {
  for_each            = toset(local.alarmed_stages)
  alarm_name          = "${var.name_prefix}-${each.key}-failed-outcomes"
  alarm_description   = "FAILED outcomes of the ${each.key} stage: `triage audit --status FAILED` lists them with reasons."
  namespace           = local.namespace
  metric_name         = "Outcomes"
  dimensions          = merge(local.outcome_dimensions, { Stage = each.key })
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.failed_outcomes
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops.arn]
  tags                = var.tags
}

# Lambda turns EMF lines into metrics by itself; the task's awslogs driver does not, so these
# filters read the same lines from its log group.
resource "aws_cloudwatch_log_metric_filter" "large_file" {
  for_each       = { Outcomes = "1", Duration = "$.Duration", Bytes = "$.Bytes" }
  name           = "${var.name_prefix}-large-file-${lower(each.key)}"
  log_group_name = var.large_file_log_group
  pattern        = "{ $.Stage = \"large-file\" && $.Outcomes = 1 }"
  metric_transformation {
    namespace = local.namespace
    name      = each.key
    value     = each.value
    unit      = { Outcomes = "Count", Duration = "Milliseconds", Bytes = "Bytes" }[each.key]
    dimensions = {
      Environment = "$.Environment"
      Stage       = "$.Stage"
      Status      = "$.Status"
    }
  }
}

# A task that stops with a non-zero exit or never started (image pull, capacity) recorded
# nothing itself: EventBridge reports it.
resource "aws_cloudwatch_event_rule" "task_failed" {
  name        = "${var.name_prefix}-large-file-task-failed"
  description = "Large-file tasks that stopped abnormally"
  event_pattern = jsonencode({
    source      = ["aws.ecs"]
    detail-type = ["ECS Task State Change"]
    detail = {
      clusterArn = [var.cluster_arn]
      lastStatus = ["STOPPED"]
      "$or" = [
        { containers = { exitCode = [{ anything-but = 0 }] } },
        { stopCode = ["TaskFailedToStart", "EssentialContainerExited"] },
      ]
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "task_failed" {
  rule = aws_cloudwatch_event_rule.task_failed.name
  arn  = aws_sns_topic.ops.arn
}

resource "aws_budgets_budget" "monthly" {
  count        = var.emulated ? 0 : 1
  name         = "${var.name_prefix}-monthly"
  budget_type  = "COST"
  limit_amount = tostring(var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"
  cost_filter {
    name   = "TagKeyValue"
    values = ["user:Environment$${var.environment}"]
  }
  dynamic "notification" {
    for_each = [80, 100]
    content {
      comparison_operator        = "GREATER_THAN"
      threshold                  = notification.value
      threshold_type             = "PERCENTAGE"
      notification_type          = "ACTUAL"
      subscriber_sns_topic_arns  = [aws_sns_topic.ops.arn]
      subscriber_email_addresses = var.alarm_emails
    }
  }
  tags = var.tags
}

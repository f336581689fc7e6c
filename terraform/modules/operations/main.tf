# Watching the pipeline: an ops topic every alarm and budget alert goes to; alarms on dead
# letters, queue age, function errors and throttles, failed outcomes per stage and stopped
# large-file tasks; a dashboard; a monthly budget. Outcome metrics come from the EMF lines the
# audit recorder writes (platform/src/metrics.rs).

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

locals {
  # Every alarm: what it watches, when it fires and what the reader should do.
  alarms = merge(
    # A message in a DLQ is work the pipeline gave up on: someone looks at every one.
    { for label, queue in var.dead_letter_queues : "${label}-dead-letters" => {
      namespace   = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", statistic = "Maximum"
      dimensions  = { QueueName = queue }, threshold = var.thresholds.dead_letters, periods = 1
      description = "Messages in ${queue}: inspect with `triage dlq` and redrive or discard."
    } },
    # Old messages mean the consumer is failing or cannot keep up.
    { for label, queue in var.work_queues : "${label}-queue-age" => {
      namespace   = "AWS/SQS", metric = "ApproximateAgeOfOldestMessage", statistic = "Maximum"
      dimensions  = { QueueName = queue }, threshold = var.thresholds.queue_age_seconds, periods = 2
      description = "The oldest message in ${queue} has waited too long: check the consumer's errors and throttles."
    } },
    { for label, function in var.functions : "${label}-errors" => {
      namespace   = "AWS/Lambda", metric = "Errors", statistic = "Sum"
      dimensions  = { FunctionName = function }, threshold = var.thresholds.function_errors, periods = 1
      description = "${function} invocations failed (crashes, timeouts, whole-batch failures)."
    } },
    { for label, function in var.functions : "${label}-throttles" => {
      namespace   = "AWS/Lambda", metric = "Throttles", statistic = "Sum"
      dimensions  = { FunctionName = function }, threshold = var.thresholds.function_throttles, periods = 1
      description = "${function} hit its reserved concurrency: raise it in the environment's tfvars or expect queueing."
    } },
    # FAILED outcomes per stage, from the EMF metrics: bad uploads are REJECTED, so FAILED
    # means something our side could not do.
    { for stage in local.alarmed_stages : "${stage}-failed-outcomes" => {
      namespace   = local.namespace, metric = "Outcomes", statistic = "Sum"
      dimensions  = merge(local.outcome_dimensions, { Stage = stage }), threshold = var.thresholds.failed_outcomes, periods = 1
      description = "FAILED outcomes of the ${stage} stage: `triage audit --status FAILED` lists them with reasons."
    } },
    # Every INFECTED verdict pages: malware was uploaded, and someone decides what follows.
    {
      "infected-verdicts" = {
        namespace   = local.namespace, metric = "Outcomes", statistic = "Sum"
        dimensions  = { Environment = var.environment, Stage = "compliance", Status = "INFECTED" }, threshold = 0, periods = 1
        description = "An upload was judged INFECTED (tagged and quarantined): `triage audit --status INFECTED --since 1h` names it and the signatures."
      }
    },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.alarms
  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = each.value.periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops.arn]
  ok_actions          = [aws_sns_topic.ops.arn]
  tags                = var.tags
}

# Silence: uploads reached the ingest queue, yet no stage of the environment recorded a single
# outcome (the router records one for every upload within seconds) in the whole window. The
# router consuming and recording nothing, or the table refusing every write, is otherwise
# seen only by someone missing their results.
resource "aws_cloudwatch_metric_alarm" "silence" {
  alarm_name          = "${var.name_prefix}-silence"
  alarm_description   = "Uploads arrived on ${var.ingest_queue} but no outcome was recorded for ${var.thresholds.silence_minutes} minutes: check the router's logs and errors, and `triage audit --since ${var.thresholds.silence_minutes}m`."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops.arn]
  ok_actions          = [aws_sns_topic.ops.arn]
  metric_query {
    id          = "silent"
    expression  = "IF(FILL(uploads, 0) > 0 AND FILL(outcomes, 0) == 0, 1, 0)"
    label       = "Uploads with no outcome recorded"
    return_data = true
  }
  metric_query {
    id = "uploads"
    metric {
      namespace   = "AWS/SQS"
      metric_name = "NumberOfMessagesSent"
      dimensions  = { QueueName = var.ingest_queue }
      period      = var.thresholds.silence_minutes * 60
      stat        = "Sum"
    }
  }
  metric_query {
    id = "outcomes"
    metric {
      namespace   = local.namespace
      metric_name = "Outcomes"
      dimensions  = { Environment = var.environment }
      period      = var.thresholds.silence_minutes * 60
      stat        = "Sum"
    }
  }
  tags = var.tags
}

# The canary's verdict over two of its periods (so one late run is no gap): a run whose
# canaries missed in any tier, or no run reporting at all (the schedule, the function or its
# permissions broke), is breaching.
resource "aws_cloudwatch_metric_alarm" "canary" {
  count               = var.canary_period_seconds == null ? 0 : 1
  alarm_name          = "${var.name_prefix}-canary"
  alarm_description   = "The canary missed in some tier, or did not report: its log names the tiers; `triage selftest` reproduces it."
  namespace           = local.namespace
  metric_name         = "CanaryMisses"
  dimensions          = { Environment = var.environment }
  statistic           = "Maximum"
  period              = max(60, 2 * var.canary_period_seconds)
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.ops.arn]
  ok_actions          = [aws_sns_topic.ops.arn]
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

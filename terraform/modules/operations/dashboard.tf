# One page for the pipeline: outcomes, durations and bytes per stage (EMF), queue backlog and
# dead letters, function errors, throttles and durations.

locals {
  outcome_widgets = [
    for metric in [
      { name = "Outcomes", stat = "Sum", title = "Outcomes by stage and status" },
      { name = "Duration", stat = "p90", title = "Duration p90 (ms) by stage" },
      { name = "Bytes", stat = "Sum", title = "Bytes processed by stage" },
    ] :
    {
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title  = metric.title
        region = local.region
        stat   = metric.stat
        period = 300
        metrics = [
          [{ expression = "SEARCH('{${local.namespace},Environment,Stage,Status} MetricName=\"${metric.name}\" Environment=\"${var.environment}\"', '${metric.stat}', 300)", id = "all" }],
        ]
      }
    }
  ]
  queue_widgets = [
    for metric in [
      { name = "ApproximateNumberOfMessagesVisible", queues = var.dead_letter_queues, title = "Dead letters" },
      { name = "ApproximateAgeOfOldestMessage", queues = var.work_queues, title = "Oldest message age (s)" },
    ] :
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title   = metric.title
        region  = local.region
        stat    = "Maximum"
        period  = 300
        metrics = [for name, queue in metric.queues : ["AWS/SQS", metric.name, "QueueName", queue, { label = name }]]
      }
    }
  ]
  function_widgets = [
    for metric in [
      { name = "Errors", stat = "Sum" },
      { name = "Throttles", stat = "Sum" },
      { name = "Duration", stat = "p90" },
    ] :
    {
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title   = "Lambda ${metric.name} (${metric.stat})"
        region  = local.region
        stat    = metric.stat
        period  = 300
        metrics = [for name, function in var.functions : ["AWS/Lambda", metric.name, "FunctionName", function, { label = name }]]
      }
    }
  ]
}

resource "aws_cloudwatch_dashboard" "pipeline" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({
    widgets = concat(local.outcome_widgets, local.queue_widgets, local.function_widgets)
  })
}

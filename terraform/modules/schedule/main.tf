# A Lambda of the stack run on a schedule by EventBridge. A run that cannot start is not
# retried: the next tick makes up for it (and what it reports shows the gap).

resource "aws_cloudwatch_event_rule" "this" {
  name                = var.function_name
  description         = var.description
  schedule_expression = var.schedule
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  rule = aws_cloudwatch_event_rule.this.name
  arn  = var.function_arn
  retry_policy {
    maximum_event_age_in_seconds = 300
    maximum_retry_attempts       = 0
  }
}

resource "aws_lambda_permission" "this" {
  statement_id  = "RunOnSchedule"
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this.arn
}

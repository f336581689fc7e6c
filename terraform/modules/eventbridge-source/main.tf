# One bucket's uploads on the EventBridge path: a rule matching S3's Object Created events of
# the bucket under its prefixes, with the ingest queue as target. It never touches the
# bucket's notification configuration (only the bucket's EventBridge switch must be on: the
# stack sets it on the bucket it creates, `triage enable-eventbridge` on one it watches), so
# other consumers keep theirs and add rules of their own.

resource "aws_cloudwatch_event_rule" "this" {
  name        = var.rule_name
  description = "Objects created under ${join(", ", var.prefixes)} in ${var.bucket_name}, for the router."
  event_pattern = jsonencode({
    source      = ["aws.s3"]
    detail-type = ["Object Created"]
    detail = {
      bucket = { name = [var.bucket_name] }
      object = { key = [for prefix in var.prefixes : { prefix = prefix }] }
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  rule = aws_cloudwatch_event_rule.this.name
  arn  = var.ingest_queue.arn
  # EventBridge retries a queue it cannot reach for a day, then keeps the event in the DLQ the
  # router's poison messages go to, where `triage dlq --redrive` finds both.
  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }
  dead_letter_config {
    arn = var.ingest_queue.dlq_arn
  }
}

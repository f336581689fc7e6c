# The transports the router dispatches into. Each worker's own module attaches its consumer:
# the extractor to the queue, the checkers' queues to the topic, the large-file task to the
# cluster. (The thumbnail tier is its function itself, invoked asynchronously.)

resource "aws_sqs_queue" "extractor_dlq" {
  name                      = "${var.name_prefix}-extractor-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "extractor" {
  name                       = "${var.name_prefix}-extractor"
  visibility_timeout_seconds = var.extractor_visibility_timeout_seconds
  message_retention_seconds  = 345600
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.extractor_dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
  tags = var.tags
}

resource "aws_sns_topic" "compliance" {
  name              = "${var.name_prefix}-compliance"
  kms_master_key_id = "alias/aws/sns"
  tags              = var.tags
}

resource "aws_ecs_cluster" "large" {
  name = "${var.name_prefix}-large"
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  tags = var.tags
}

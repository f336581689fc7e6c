# Who hears of outcomes: every entry of var.subscribers is subscribed to the notifications
# topic with a named filter (notifications/filters.json, the names `triage watch` takes) or a
# raw filter policy, and gets a DLQ for what SNS could not deliver (without one SNS drops a
# notification it gave up on). An SQS subscriber without an endpoint gets a queue the stack
# creates, encrypted with the deployment's key and open to this topic alone; one with an
# endpoint is a queue someone else owns, whose policy is theirs to change: the statement it
# needs is an output. A Lambda subscriber's function is allowed to be invoked by this topic.

locals {
  named_filters = jsondecode(file("${path.module}/../../../notifications/filters.json"))
  filter_policies = {
    for name, subscriber in var.subscribers : name => (
      startswith(trimspace(subscriber.filter), "{")
      ? jsonencode(jsondecode(subscriber.filter))
      : (lookup(local.named_filters, subscriber.filter, null) == null ? null : jsonencode(local.named_filters[subscriber.filter]))
    )
  }
  created_queues = {
    for name, subscriber in var.subscribers : name => subscriber
    if subscriber.protocol == "sqs" && subscriber.endpoint == null
  }
  external_queues = {
    for name, subscriber in var.subscribers : name => subscriber
    if subscriber.protocol == "sqs" && subscriber.endpoint != null
  }
  lambdas = {
    for name, subscriber in var.subscribers : name => subscriber if subscriber.protocol == "lambda"
  }
}

resource "aws_sqs_queue" "undelivered" {
  for_each                          = var.subscribers
  name                              = "${var.name_prefix}-sub-${each.key}-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 3600
  tags                              = var.tags
}

resource "aws_sqs_queue" "subscriber" {
  for_each                          = local.created_queues
  name                              = "${var.name_prefix}-sub-${each.key}"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 3600
  # A message its consumer keeps failing on joins the ones SNS could not deliver.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.undelivered[each.key].arn
    maxReceiveCount     = 5
  })
  tags = var.tags
}

module "topic_may_send" {
  source    = "../topic-may-send"
  for_each  = var.subscribers
  sid       = "NotificationsTopicSends"
  topic_arn = var.topic_arn
  queue_arns = compact([
    aws_sqs_queue.undelivered[each.key].arn,
    try(aws_sqs_queue.subscriber[each.key].arn, ""),
  ])
}

module "external_queue_receives" {
  source     = "../topic-may-send"
  for_each   = local.external_queues
  sid        = "S3TriageNotificationsTopicSends"
  topic_arn  = var.topic_arn
  queue_arns = [each.value.endpoint]
}

resource "aws_sqs_queue_policy" "undelivered" {
  for_each  = var.subscribers
  queue_url = aws_sqs_queue.undelivered[each.key].url
  policy    = module.topic_may_send[each.key].json
}

resource "aws_sqs_queue_policy" "subscriber" {
  for_each  = local.created_queues
  queue_url = aws_sqs_queue.subscriber[each.key].url
  policy    = module.topic_may_send[each.key].json
}

resource "aws_lambda_permission" "subscriber" {
  for_each      = local.lambdas
  statement_id  = "${var.name_prefix}-notifications-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = each.value.endpoint
  principal     = "sns.amazonaws.com"
  source_arn    = var.topic_arn
}

resource "aws_sns_topic_subscription" "subscriber" {
  for_each  = var.subscribers
  topic_arn = var.topic_arn
  protocol  = each.value.protocol
  endpoint  = try(aws_sqs_queue.subscriber[each.key].arn, each.value.endpoint)
  # SQS consumers read the record itself; HTTP(S) ones get SNS's signed envelope unless asked.
  raw_message_delivery = contains(["sqs", "http", "https"], each.value.protocol) ? coalesce(each.value.raw_message_delivery, each.value.protocol == "sqs") : null
  filter_policy        = local.filter_policies[each.key]
  redrive_policy       = jsonencode({ deadLetterTargetArn = aws_sqs_queue.undelivered[each.key].arn })
  depends_on           = [aws_sqs_queue_policy.undelivered, aws_sqs_queue_policy.subscriber, aws_lambda_permission.subscriber]

  lifecycle {
    precondition {
      condition     = contains(keys(local.named_filters), each.value.filter) || can(jsondecode(each.value.filter))
      error_message = "Subscriber ${each.key}: filter must be one of ${join(", ", sort(keys(local.named_filters)))} or a filter policy as JSON."
    }
  }
}

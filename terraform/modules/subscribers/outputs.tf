output "subscribers" {
  description = "Name -> the subscription's ARN, protocol and filter policy, its queue (created ones) and its DLQ."
  value = {
    for name, subscriber in var.subscribers : name => {
      subscription_arn = aws_sns_topic_subscription.subscriber[name].arn
      protocol         = subscriber.protocol
      filter_policy    = local.filter_policies[name]
      queue_url        = try(aws_sqs_queue.subscriber[name].url, null)
      dlq_url          = aws_sqs_queue.undelivered[name].url
      dlq_name         = aws_sqs_queue.undelivered[name].name
    }
  }
}

output "external_queue_policies" {
  description = "For each sqs subscriber whose queue the stack does not own: the queue policy statement its owner adds so the topic may deliver (and its key, if any, must allow sns.amazonaws.com kms:GenerateDataKey and kms:Decrypt)."
  value       = { for name, _ in local.external_queues : name => module.external_queue_receives[name].json }
}

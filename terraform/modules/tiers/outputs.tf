output "extractor_queue_url" {
  description = "URL of the queue documents are dispatched to."
  value       = module.extractor_queue.url
}

output "extractor_queue_arn" {
  description = "ARN of the queue documents are dispatched to."
  value       = module.extractor_queue.arn
}

output "extractor_dlq_url" {
  description = "URL of the extractor dead-letter queue."
  value       = module.extractor_queue.dlq_url
}

output "compliance_topic_arn" {
  description = "ARN of the topic compliance checks are fanned out from."
  value       = aws_sns_topic.compliance.arn
}

output "cluster_name" {
  description = "Name of the ECS cluster large-file tasks run in."
  value       = aws_ecs_cluster.large.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster large-file tasks run in."
  value       = aws_ecs_cluster.large.arn
}

output "extractor_queue" {
  description = "The extractor queue and its DLQ (names and ARNs, for alarms)."
  value       = module.extractor_queue
}

output "large_queue" {
  description = "The large-file queue and its DLQ (URLs, names and ARNs, visibility timeout)."
  value       = module.large_queue
}

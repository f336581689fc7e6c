output "function_name" {
  description = "Name of the checker Lambda."
  value       = module.function.function_name
}

output "role_arn" {
  description = "The checker's role: the bucket policy lets it read infected-tagged objects to finish a quarantine."
  value       = module.function.role_arn
}

output "queue_url" {
  description = "URL of the checker's queue."
  value       = aws_sqs_queue.checks.id
}

output "dlq_url" {
  description = "URL of the checker's dead-letter queue."
  value       = aws_sqs_queue.dlq.id
}

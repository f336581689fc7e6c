output "arn" {
  description = "ARN of the queue."
  value       = aws_sqs_queue.this.arn
}

output "url" {
  description = "URL of the queue."
  value       = aws_sqs_queue.this.id
}

output "name" {
  description = "Name of the queue."
  value       = aws_sqs_queue.this.name
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dlq.id
}

output "dlq_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dlq.name
}

output "redelivery_horizon_seconds" {
  description = "How long after its first receive a message can still be delivered (visibility timeout x maxReceiveCount): claims older than this plus their lease have no delivery left to finish them."
  value       = var.visibility_timeout_seconds * var.max_receive_count
}

output "visibility_timeout_seconds" {
  description = "How long a received message stays hidden unless its consumer says otherwise."
  value       = var.visibility_timeout_seconds
}

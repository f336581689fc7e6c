output "function_name" {
  description = "Name of the thumbnail Lambda (the router's async invoke target)."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the thumbnail Lambda."
  value       = module.function.function_arn
}

output "dlq_url" {
  description = "URL of the on-failure destination: invokes that failed every retry."
  value       = aws_sqs_queue.dlq.url
}

output "dlq_arn" {
  description = "ARN of the on-failure destination."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_name" {
  description = "Name of the on-failure destination queue."
  value       = aws_sqs_queue.dlq.name
}

output "role_arn" {
  description = "ARN of the function's role."
  value       = module.function.role_arn
}

output "redelivery_horizon_seconds" {
  description = "How long Lambda keeps retrying an invoke (its maximum event age): claims older than this plus their lease have no retry left to finish them."
  value       = var.maximum_event_age_seconds
}

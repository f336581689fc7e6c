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
  value       = module.queue.url
}

output "dlq_url" {
  description = "URL of the checker's dead-letter queue."
  value       = module.queue.dlq_url
}

output "queue" {
  description = "The checker's queue and its DLQ (names and ARNs, for alarms)."
  value       = module.queue
}

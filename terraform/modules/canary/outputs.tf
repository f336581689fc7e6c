output "function_name" {
  description = "Name of the canary Lambda."
  value       = module.function.function_name
}

output "role_arn" {
  description = "ARN of the canary's role."
  value       = module.function.role_arn
}

output "period_seconds" {
  description = "Seconds between runs, read from the schedule: the canary alarm's period."
  value       = local.period_seconds
}

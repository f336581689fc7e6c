output "function_name" {
  description = "Name of the sweeper Lambda."
  value       = module.function.function_name
}

output "role_arn" {
  description = "ARN of the sweeper's role (it records and announces what it ends)."
  value       = module.function.role_arn
}

output "function_name" {
  description = "Name of the router Lambda."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the router Lambda."
  value       = module.function.function_arn
}

output "role_arn" {
  description = "ARN of the function's role."
  value       = module.function.role_arn
}

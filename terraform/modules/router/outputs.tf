output "function_name" {
  description = "Name of the router Lambda."
  value       = aws_lambda_function.router.function_name
}

output "function_arn" {
  description = "ARN of the router Lambda."
  value       = aws_lambda_function.router.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the router."
  value       = aws_cloudwatch_log_group.router.name
}

output "function_name" {
  description = "Name of the extractor Lambda."
  value       = aws_lambda_function.extractor.function_name
}

output "function_arn" {
  description = "ARN of the extractor Lambda."
  value       = aws_lambda_function.extractor.arn
}

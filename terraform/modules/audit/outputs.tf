output "table_name" {
  description = "Name of the DynamoDB audit table."
  value       = aws_dynamodb_table.audit.name
}

output "table_arn" {
  description = "ARN of the DynamoDB audit table (its indexes are under <arn>/index/*)."
  value       = aws_dynamodb_table.audit.arn
}

output "notifications_topic_arn" {
  description = "ARN of the SNS topic every stage's outcome is published to."
  value       = aws_sns_topic.notifications.arn
}

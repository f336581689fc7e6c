output "ops_topic_arn" {
  description = "SNS topic every alarm, stopped-task event and budget alert is sent to."
  value       = aws_sns_topic.ops.arn
}

output "dashboard_name" {
  description = "Name of the pipeline's CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.pipeline.dashboard_name
}

output "rule_arn" {
  description = "ARN of the schedule's rule."
  value       = aws_cloudwatch_event_rule.this.arn
}

output "rule_arn" {
  description = "ARN of the rule: the sender the ingest queue's policy admits."
  value       = aws_cloudwatch_event_rule.this.arn
}

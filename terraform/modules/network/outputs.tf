output "private_subnet_ids" {
  description = "Private subnets the large-file tasks run in."
  value       = aws_subnet.private[*].id
}

output "task_security_group_id" {
  description = "Security group of the large-file tasks (HTTPS to the endpoints only)."
  value       = aws_security_group.task.id
}

output "task_family" {
  description = "Task definition family the router runs."
  value       = aws_ecs_task_definition.task.family
}

output "task_definition_arn" {
  description = "ARN of the current task definition revision."
  value       = aws_ecs_task_definition.task.arn
}

output "fleet" {
  description = "How the router sizes the fleet: most tasks at once, objects per task."
  value = {
    max_tasks         = var.max_tasks
    messages_per_task = var.messages_per_task
  }
}

output "role_arns" {
  description = "Task and execution role ARNs, which the router must be allowed to pass."
  value       = [aws_iam_role.task.arn, aws_iam_role.execution.arn]
}

output "log_group_name" {
  description = "Log group of the task's container."
  value       = aws_cloudwatch_log_group.task.name
}

output "task_role_arn" {
  description = "ARN of the task role (what the binary runs as)."
  value       = aws_iam_role.task.arn
}

output "claim_lease_seconds" {
  description = "The task's claim lease: a record unrenewed this long may be taken over by the next delivery of its dispatch."
  value       = local.claim_lease_seconds
}

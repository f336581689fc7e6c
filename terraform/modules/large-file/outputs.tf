output "task_family" {
  description = "Task definition family the router runs."
  value       = aws_ecs_task_definition.task.family
}

output "task_definition_arn" {
  description = "ARN of the current task definition revision."
  value       = aws_ecs_task_definition.task.arn
}

output "container_name" {
  description = "Name of the task's container, which the router's RunTask overrides."
  value       = local.container_name
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
  description = "The task's claim lease: nothing redelivers a task, so a record unrenewed this long is the sweep's."
  value       = local.claim_lease_seconds
}

output "role_arn" {
  description = "ARN of the role to pass to `triage backfill --batch-operations --role-arn`."
  value       = aws_iam_role.this.arn
}

output "report_prefix" {
  description = "Where in the uploads bucket the jobs' completion reports go."
  value       = var.report_prefix
}

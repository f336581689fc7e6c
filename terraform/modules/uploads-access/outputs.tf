output "json" {
  description = "The statements, for source_policy_documents."
  value       = data.aws_iam_policy_document.this.json
}

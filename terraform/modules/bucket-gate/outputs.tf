output "json" {
  description = "The gate's bucket policy statements, for source_policy_documents or the bucket owner's policy."
  value       = data.aws_iam_policy_document.this.json
}

output "policy_json" {
  description = "The topic policy as applied."
  value       = data.aws_iam_policy_document.this.json
}

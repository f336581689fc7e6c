output "json" {
  description = "The policy document, for aws_sqs_queue_policy or for the queue owner to merge."
  value       = data.aws_iam_policy_document.this.json
}

output "stack" {
  description = "Everything a user or the triage CLI needs: bucket, audit table, topics, queues, dashboard."
  value       = module.stack
}

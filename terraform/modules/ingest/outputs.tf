output "bucket_name" {
  description = "Name of the uploads bucket."
  value       = aws_s3_bucket.uploads.id
}

output "bucket_arn" {
  description = "ARN of the uploads bucket."
  value       = aws_s3_bucket.uploads.arn
}

output "queue_arn" {
  description = "ARN of the ingest queue the router consumes."
  value       = module.queue.arn
}

output "queue_url" {
  description = "URL of the ingest queue the router consumes."
  value       = module.queue.url
}

output "dlq_url" {
  description = "URL of the ingest dead-letter queue (events the router failed max_receive_count times)."
  value       = module.queue.dlq_url
}

output "queue" {
  description = "The ingest queue and its DLQ (names and ARNs, for alarms)."
  value       = module.queue
}

output "signatures_bucket_name" {
  description = "Name of the bucket holding the malware signatures."
  value       = aws_s3_bucket.signatures.id
}

output "signatures_bucket_arn" {
  description = "ARN of the bucket holding the malware signatures."
  value       = aws_s3_bucket.signatures.arn
}

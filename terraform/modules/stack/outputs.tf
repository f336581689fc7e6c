output "bucket" {
  description = "The uploads bucket: upload under uploads/<images|documents|compliance>/."
  value       = module.ingest.bucket_name
}

output "audit_table" {
  description = "The DynamoDB audit table."
  value       = module.audit.table_name
}

output "notifications_topic_arn" {
  description = "Subscribe here for outcomes (filter on the status, tier or stage attributes)."
  value       = module.audit.notifications_topic_arn
}

output "ingest_queue_url" {
  description = "The queue S3 notifies and the router consumes."
  value       = module.ingest.queue_url
}

output "dlq_urls" {
  description = "Every dead-letter queue, by the queue it serves (check-<checker>, subscriber-<name>)."
  value = merge(
    {
      ingest    = module.ingest.dlq_url
      thumbnail = module.thumbnail.dlq_url
      extractor = module.tiers.extractor_dlq_url
      large     = module.tiers.large_queue.dlq_url
    },
    { for name, checker in module.compliance_checker : "check-${name}" => checker.dlq_url },
    { for name, subscriber in module.subscribers.subscribers : "subscriber-${name}" => subscriber.dlq_url },
  )
}

output "notification_subscribers" {
  description = "Each declared subscriber: its subscription, filter policy, queue (when the stack created it) and DLQ."
  value       = module.subscribers.subscribers
}

output "external_queue_policies" {
  description = "For each sqs subscriber whose queue the stack does not own: the queue policy statement its owner adds so the topic may deliver."
  value       = module.subscribers.external_queue_policies
}

output "extractor_queue_url" {
  description = "The document tier's queue."
  value       = module.tiers.extractor_queue_url
}

output "compliance_topic_arn" {
  description = "The compliance tier's topic."
  value       = module.tiers.compliance_topic_arn
}

output "cluster_name" {
  description = "The large tier's ECS cluster."
  value       = module.tiers.cluster_name
}

output "router_function_name" {
  description = "The router Lambda."
  value       = module.router.function_name
}

output "thumbnail_function_name" {
  description = "The thumbnail Lambda."
  value       = module.thumbnail.function_name
}

output "extractor_function_name" {
  description = "The extractor Lambda."
  value       = module.extractor.function_name
}

output "compliance_checker_functions" {
  description = "The compliance checker Lambdas, by checker."
  value       = { for name, checker in module.compliance_checker : name => checker.function_name }
}

output "ops_topic_arn" {
  description = "Alarms, stopped large-file tasks and budget alerts are sent here."
  value       = module.operations.ops_topic_arn
}

output "dashboard_name" {
  description = "The pipeline's CloudWatch dashboard."
  value       = module.operations.dashboard_name
}

output "kms_key_arn" {
  description = "The deployment's customer managed key (grant kms:Decrypt to anyone reading uploads or outputs)."
  value       = module.encryption.key_arn
}

output "batch_operations" {
  description = "For `triage backfill --batch-operations`: the role jobs run as, the router they invoke, and where their reports go."
  value = {
    role_arn            = module.batch_operations.role_arn
    router_function_arn = module.router.function_arn
    report_prefix       = module.batch_operations.report_prefix
  }
}

output "signatures_uri" {
  description = "Where the malware checker's signature files are: `triage rescan` compares each CLEAN verdict's versions with these."
  value       = local.signatures_uri
}

output "watched_buckets" {
  description = "Every bucket the pipeline watches (the one it creates first), and where each one's outputs go."
  value       = { for name, bucket in local.watched : name => { outputs = bucket.outputs == "source" ? name : var.bucket_name } }
}

output "existing_bucket_policies" {
  description = "Per bucket the stack watches but did not create, its compliance gate as bucket policy statements: merge them into the bucket's own policy (the stack never writes another owner's policy)."
  value       = { for name, gate in module.bucket_gate : name => gate.json if name != var.bucket_name }
}

output "enable_eventbridge" {
  description = "Per bucket the stack watches but did not create, the command that turns its EventBridge switch on, keeping every notification it already sends."
  value       = { for name in keys(var.existing_buckets) : name => "triage enable-eventbridge --bucket ${name}" }
}

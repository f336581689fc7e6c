# The extractor Lambda: fed by the extractor queue in batches with partial batch responses
# (failed documents stay for redelivery, then the queue's DLQ). It may read uploads, write only
# under the reserved prefix's text/ and attachments/ (an e-mail's attachments, which re-enter
# the pipeline), write the audit table and publish notifications.

module "uploads" {
  source          = "../uploads-access"
  storage         = var.storage
  reserved_prefix = var.deployment.reserved_prefix
  output_folders  = ["text", "attachments"]
}

module "function" {
  source       = "../lambda-function"
  name         = "${var.deployment.name_prefix}-extractor"
  binary       = "extractor"
  package_path = var.package_path
  sizing       = var.sizing
  queue_arn    = var.queue_arn
  policy_json  = module.uploads.json
  deployment   = var.deployment
  tags         = var.tags
  variables = {
    TRIAGE_RESERVED_PREFIX                 = var.deployment.reserved_prefix
    TRIAGE_OUTPUT_BUCKETS                  = var.storage.output_buckets
    TRIAGE_EXTRACTOR_MAX_BYTES             = var.sizing.max_input_bytes
    TRIAGE_EXTRACTOR_PARSE_TIMEOUT_SECONDS = var.sizing.work_timeout_seconds
    TRIAGE_EXTRACTOR_CONCURRENCY           = var.sizing.concurrency
    TRIAGE_EXTRACTOR_PARSE_MEMORY_MB       = var.sizing.work_memory_mb
  }
}

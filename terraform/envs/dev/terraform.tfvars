# dev: small, cheap, disposable. Set region, owner, bucket_name and large_file_image (by
# digest) here or with -var; the Lambda packages default to target/lambda/*/bootstrap.zip.
environment = "dev"

protect_data              = false
log_retention_days        = 14
audit_retention_days      = 30
processed_expiration_days = 30
log_level                 = "debug"
availability_zones        = 1
monthly_budget_usd        = 50

functions = {
  router     = { reserved_concurrency = 5 }
  thumbnail  = { reserved_concurrency = 5 }
  extractor  = { reserved_concurrency = 2, concurrency = 2 }
  compliance = { reserved_concurrency = 2 }
}
# Fargate Spot, on-demand when Spot has none: a reclaimed task's file is recorded FAILED
# "interrupted" (reprocess it with `triage reprocess`).
large_file = { cpu = 1024, memory = 2048, capacity = "spot" }

alarm_thresholds = {
  queue_age_seconds = 3600
  function_errors   = 5
  failed_outcomes   = 10
}

# The routing table (README, "Routing rules"); unset keeps the built-in one. For example, to
# take images up to 50 MiB and route PDFs dropped under uploads/scans/ to the extractor:
# routing_rules = jsonencode([
#   { name = "images", prefix = "uploads/images/", max_size = "50 MiB", tier = "thumbnail" },
#   { name = "scans", prefix = "uploads/scans/", kinds = ["pdf"], tier = "document" },
#   { name = "documents", prefix = "uploads/documents/", max_size = "100 MiB", tier = "document" },
#   { name = "compliance", prefix = "uploads/compliance/", tier = "compliance" },
# ])

# Who hears of outcomes (docs/notifications.md): e-mail, SQS, HTTPS or Lambda, each with a named
# filter (all, failures, verdicts, infected) or a filter policy as JSON, and its own DLQ. An sqs
# subscriber without an endpoint gets a queue the stack creates (output notification_subscribers).
# notification_subscribers = {
#   uploads-team = { protocol = "email", endpoint = "uploads-team@example.com", filter = "failures" }
#   records      = { protocol = "sqs", filter = "all" }
#   security     = { protocol = "https", endpoint = "https://siem.example.com/sns", filter = "infected" }
# }

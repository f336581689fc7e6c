# staging: prod's shape at a fraction of its capacity, for release rehearsals. Set region,
# owner, bucket_name and large_file_image (by digest) here or with -var.
environment = "staging"

protect_data              = true
log_retention_days        = 90
audit_retention_days      = 90
processed_expiration_days = 90
availability_zones        = 2
monthly_budget_usd        = 150

functions = {
  router     = { reserved_concurrency = 10 }
  thumbnail  = { reserved_concurrency = 20 }
  extractor  = { reserved_concurrency = 5 }
  compliance = { reserved_concurrency = 5 }
}
# Fargate Spot, on-demand when Spot has none: a reclaimed task's file is recorded FAILED
# "interrupted" (reprocess it with `triage reprocess`).
large_file = { cpu = 1024, memory = 2048, capacity = "spot" }

alarm_thresholds = {
  queue_age_seconds = 1800
  function_errors   = 1
  failed_outcomes   = 5
}

# Who hears of outcomes (docs/notifications.md): e-mail, SQS, HTTPS or Lambda, each with a named
# filter (all, failures, verdicts, infected) or a filter policy as JSON, and its own DLQ. An sqs
# subscriber without an endpoint gets a queue the stack creates (output notification_subscribers).
# notification_subscribers = {
#   uploads-team = { protocol = "email", endpoint = "uploads-team@example.com", filter = "failures" }
#   records      = { protocol = "sqs", filter = "all" }
#   security     = { protocol = "https", endpoint = "https://siem.example.com/sns", filter = "infected" }
# }

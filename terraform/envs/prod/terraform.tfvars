# prod: a year of logs, data protected from deletion, alarms on the first failure. Set
# region, owner, bucket_name, large_file_image (by digest) and alarm_emails here or with -var.
environment = "prod"

protect_data              = true
log_retention_days        = 400
audit_retention_days      = 400
processed_expiration_days = 365
availability_zones        = 3
monthly_budget_usd        = 1000

functions = {
  router     = { reserved_concurrency = 50, memory_size = 256 }
  thumbnail  = { reserved_concurrency = 100, memory_size = 1024 }
  extractor  = { reserved_concurrency = 20, memory_size = 2048 }
  compliance = { reserved_concurrency = 20, memory_size = 2048 }
}
large_file = { cpu = 2048, memory = 4096, parallelism = 8 }

alarm_thresholds = {
  queue_age_seconds = 900
  function_errors   = 0
  failed_outcomes   = 0
}

# Uploads under the compliance prefixes are readable only once judged clean.
compliance_gate = "fail-closed"

# Who hears of outcomes (docs/notifications.md): e-mail, SQS, HTTPS or Lambda, each with a named
# filter (all, failures, verdicts, infected) or a filter policy as JSON, and its own DLQ. An sqs
# subscriber without an endpoint gets a queue the stack creates (output notification_subscribers).
# notification_subscribers = {
#   uploads-team = { protocol = "email", endpoint = "uploads-team@example.com", filter = "failures" }
#   records      = { protocol = "sqs", filter = "all" }
#   security     = { protocol = "https", endpoint = "https://siem.example.com/sns", filter = "infected" }
# }

# Subscribers as a team declares them: two queues the stack creates (one hearing of failures,
# one of compliance verdicts) and an address for failures (the emulator records the
# subscription; it sends no mail).
notification_subscribers = {
  failures = { protocol = "sqs", filter = "failures" }
  verdicts = { protocol = "sqs", filter = "verdicts" }
  ops-mail = { protocol = "email", endpoint = "ops@example.com", filter = "failures" }
}

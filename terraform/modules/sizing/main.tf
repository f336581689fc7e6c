# Every function's sizing: the one place its defaults live, an environment's `functions`
# merged over them, and what follows from it, so no limit is set apart from the ones it must
# agree with:
# - a queue's visibility timeout is 6x its function's timeout plus the batching window (AWS's
#   rule for SQS event sources), so a message is never redelivered while a batch still works;
# - an event source's maximum concurrency is its function's reserved concurrency, so a burst
#   waits in the queue instead of being throttled, received again and again, and moved to
#   the DLQ unprocessed;
# - a claim's lease outlives the invocation holding it and ends before the message returns.
# What the settings must keep between themselves (a batch's work inside the timeout, the
# concurrent items inside the memory) is checked for every environment's values by
# cli/tests/consistency/sizing.rs.

locals {
  defaults = {
    router = {
      memory_size             = 256
      timeout_seconds         = 30
      reserved_concurrency    = 20
      batch_size              = 10
      batching_window_seconds = 1
      concurrency             = 1
      work_timeout_seconds    = 0
      work_memory_mb          = 0
      max_input_bytes         = 0
    }
    # One image per invocation (batch_size 0: invoked, not queue-fed), rendered within
    # work_timeout_seconds.
    thumbnail = {
      memory_size             = 1024
      timeout_seconds         = 30
      reserved_concurrency    = 50
      batch_size              = 0
      batching_window_seconds = 0
      concurrency             = 1
      work_timeout_seconds    = 15
      work_memory_mb          = 0
      max_input_bytes         = 52428800
    }
    # `concurrency` documents at a time, each parsed in a child with work_memory_mb of address
    # space and work_timeout_seconds.
    extractor = {
      memory_size             = 2048
      timeout_seconds         = 120
      reserved_concurrency    = 10
      batch_size              = 4
      batching_window_seconds = 5
      concurrency             = 2
      work_timeout_seconds    = 40
      work_memory_mb          = 768
      max_input_bytes         = 104857600
    }
    # Run on a schedule; a sweep reads one index and ends a few records.
    sweeper = {
      memory_size             = 256
      timeout_seconds         = 60
      reserved_concurrency    = 1
      batch_size              = 0
      batching_window_seconds = 0
      concurrency             = 1
      work_timeout_seconds    = 0
      work_memory_mb          = 0
      max_input_bytes         = 0
    }
    # Every checker; the PII check parses held PDFs as the extractor does.
    compliance = {
      memory_size             = 2048
      timeout_seconds         = 300
      reserved_concurrency    = 10
      batch_size              = 4
      batching_window_seconds = 1
      concurrency             = 2
      work_timeout_seconds    = 40
      work_memory_mb          = 768
      max_input_bytes         = 104857600
    }
  }
  settings = { for name, defaults in local.defaults : name => merge(
    defaults,
    { for setting, value in try(var.functions[name], {}) : setting => value if value != null },
  ) }
  functions = { for name, setting in local.settings : name => merge(setting, {
    queue_visibility_seconds = 6 * setting.timeout_seconds + setting.batching_window_seconds
    # Lambda's SQS poller takes 2 to 1000; below 2 no queue-fed function can run unthrottled.
    maximum_concurrency = setting.batch_size == 0 ? null : max(2, min(1000, setting.reserved_concurrency))
    claim_lease_seconds = setting.timeout_seconds + 60
  }) }
}

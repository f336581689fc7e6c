output "functions" {
  description = "Per function: its settings (memory_size, timeout_seconds, reserved_concurrency, batch_size, batching_window_seconds, concurrency, work_timeout_seconds, work_memory_mb, max_input_bytes) and what follows (queue_visibility_seconds, maximum_concurrency, claim_lease_seconds)."
  value       = local.functions
}

//! The extractor's parse limits for its tests; the documents are testkit's.

use extractor::isolate::Limits;
use std::time::Duration;

pub fn limits() -> Limits {
    Limits {
        memory_bytes: 1 << 30,
        timeout: Duration::from_secs(20),
        max_stream_bytes: 64 << 20,
    }
}

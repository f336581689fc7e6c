//! The extractor's parse limits for its tests; the documents are testkit's.

use extractor::isolate::Limits;
use std::time::Duration;

pub fn limits() -> Limits {
    Limits::new(1 << 30, Duration::from_secs(20))
}

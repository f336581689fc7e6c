//! The time an invocation has left. Lambda gives every invocation a deadline (the context's
//! `deadline`, milliseconds since the epoch) and ends it there, mid-item, with nothing
//! recorded. A worker therefore starts an item only while the time left covers the most that
//! item can take plus writing its record, and hands back what it did not start (see
//! [`crate::batch`]) for another invocation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Writing a record and its notification, retries included: what an item keeps in reserve.
pub const RECORDING: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invocation {
    deadline: SystemTime,
}

impl Invocation {
    /// An invocation that must answer by `deadline_ms` (the Lambda context's deadline).
    pub fn until_epoch_ms(deadline_ms: u64) -> Self {
        Self {
            deadline: UNIX_EPOCH + Duration::from_millis(deadline_ms),
        }
    }

    /// An invocation with `time` from now (tests, and callers that are not Lambda).
    pub fn lasting(time: Duration) -> Self {
        Self {
            deadline: SystemTime::now() + time,
        }
    }

    pub fn remaining(&self) -> Duration {
        self.deadline
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    }

    /// Whether an item that may take up to `item` can still be started and recorded.
    pub fn fits(&self, item: Duration) -> bool {
        self.remaining() >= item + RECORDING
    }

    /// The time an item started now may spend: at most `limit`, and never so much that its
    /// record cannot be written before the deadline. Zero when nothing is left.
    pub fn item_time(&self, limit: Duration) -> Duration {
        self.remaining().saturating_sub(RECORDING).min(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_starts_only_with_its_time_and_the_recording_left() {
        let invocation = Invocation::lasting(Duration::from_secs(60));
        assert!(invocation.fits(Duration::from_secs(50)));
        assert!(!invocation.fits(Duration::from_secs(56)));
        let item = invocation.item_time(Duration::from_secs(120));
        assert!(
            item <= Duration::from_secs(55) && item > Duration::from_secs(54),
            "{item:?}"
        );
        assert_eq!(
            invocation.item_time(Duration::from_secs(10)),
            Duration::from_secs(10)
        );
        let over = Invocation::until_epoch_ms(0);
        assert_eq!(over.remaining(), Duration::ZERO);
        assert_eq!(over.item_time(Duration::from_secs(10)), Duration::ZERO);
    }
}

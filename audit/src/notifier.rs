//! The port through which a recorded outcome is announced. The deployed adapter publishes to
//! SNS (`notifications::SnsNotifier`); the recorder only decides when.

use crate::AuditRecord;

/// Who recorded an outcome: part of every announcement.
#[derive(Clone, Copy, Debug)]
pub struct Origin<'a> {
    /// The binary (`router`, `thumbnail`, ...).
    pub worker: &'a str,
    pub environment: &'a str,
}

/// Announcing a recorded outcome failed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct NotifyError {
    pub message: String,
    /// Whether the same announcement may succeed later.
    pub transient: bool,
}

#[async_trait::async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// Announces `record`, recorded by `origin`, once.
    async fn notify(&self, record: &AuditRecord, origin: Origin<'_>) -> Result<(), NotifyError>;
}

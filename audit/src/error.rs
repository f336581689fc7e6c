use crate::NotifyError;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use object_events::VersionError;

/// Recording an outcome failed. Whether to retry is the caller's decision, informed by
/// [`RecordError::is_transient`].
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(
        "another delivery of {object} (stage {stage}) is being recorded right now; retry later"
    )]
    InProgress { object: String, stage: String },
    /// The record this worker claimed was finished or removed by someone else meanwhile.
    #[error("the record of {object} (stage {stage}) is no longer claimed by this worker")]
    NotClaimed { object: String, stage: String },
    #[error(transparent)]
    Unidentifiable(#[from] VersionError),
    #[error("audit table {operation} failed: {message}")]
    Store {
        operation: &'static str,
        message: String,
        transient: bool,
    },
    #[error("publishing the notification failed: {0}")]
    Notify(#[from] NotifyError),
    /// An item the table holds that does not read back as a record (written by hand, or by
    /// another version of the code).
    #[error("the audit item is not a record: {0}")]
    Unreadable(String),
}

impl RecordError {
    /// True when the same call may succeed later (throttling, timeouts, 5xx, a concurrent claim).
    pub fn is_transient(&self) -> bool {
        match self {
            RecordError::InProgress { .. } => true,
            RecordError::Unidentifiable(_)
            | RecordError::NotClaimed { .. }
            | RecordError::Unreadable(_) => false,
            RecordError::Store { transient, .. } => *transient,
            RecordError::Notify(err) => err.transient,
        }
    }

    pub(crate) fn store<E>(operation: &'static str, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        RecordError::Store {
            operation,
            message: DisplayErrorContext(err).to_string(),
            transient: platform::is_transient(err),
        }
    }
}

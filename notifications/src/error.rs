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
    #[error("publishing the notification failed: {message}")]
    Notify { message: String, transient: bool },
}

impl RecordError {
    /// True when the same call may succeed later (throttling, timeouts, 5xx, a concurrent claim).
    pub fn is_transient(&self) -> bool {
        match self {
            RecordError::InProgress { .. } => true,
            RecordError::Unidentifiable(_) | RecordError::NotClaimed { .. } => false,
            RecordError::Store { transient, .. } | RecordError::Notify { transient, .. } => {
                *transient
            }
        }
    }

    pub(crate) fn store<E>(operation: &'static str, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        RecordError::Store {
            operation,
            message: DisplayErrorContext(err).to_string(),
            transient: is_transient(err),
        }
    }

    pub(crate) fn notify<E>(err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        RecordError::Notify {
            message: DisplayErrorContext(err).to_string(),
            transient: is_transient(err),
        }
    }
}

/// Error codes AWS services use for "slow down" that arrive with a 400 status.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
    "TransactionInProgressException",
    "KMSThrottlingException",
];

/// Classifies any AWS SDK error: transient (retry, eventually DLQ) or permanent (a request that
/// will never succeed as sent: bad parameters, missing resources, denied access).
pub fn is_transient<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::ConstructionFailure(_) => false,
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            status >= 500
                || status == 429
                || service
                    .err()
                    .code()
                    .is_some_and(|code| THROTTLING_CODES.contains(&code))
        }
        // Timeouts, connection failures and unparseable responses.
        _ => true,
    }
}

//! Proving a deployment alive from the outside, as a user would: upload one canary per tier
//! where the routing rules send it, wait for each outcome in the audit trail, check it
//! (status, checksum, verdict tag, outputs present), remove what was made. `triage selftest`
//! runs it from a terminal against any deployment; the `canary` Lambda runs it on a schedule
//! and publishes the result as a metric, which an alarm watches.

pub mod config;
pub mod outcomes;
pub mod selftest;

/// Why a selftest could not run to its verdict (a missed canary is a verdict, not an error).
#[derive(Debug, thiserror::Error)]
pub enum CanaryError {
    /// What to upload, or where, could not be worked out: nothing was uploaded.
    #[error("{0}")]
    Setup(String),
    /// An S3 call failed.
    #[error("{what}: {message}")]
    S3 { what: String, message: String },
    #[error(transparent)]
    Audit(#[from] audit::QueryError),
}

impl CanaryError {
    pub(crate) fn s3<E: std::error::Error + 'static>(what: impl Into<String>, err: E) -> Self {
        CanaryError::S3 {
            what: what.into(),
            message: aws_sdk_s3::error::DisplayErrorContext(err).to_string(),
        }
    }
}

//! What every worker shares: [`step`] (one dispatched object, processed and recorded exactly
//! once: the part each handler would otherwise repeat), [`batch`] (SQS batches with partial
//! batch responses, for the workers a queue feeds), [`deadline`] (what an invocation has left,
//! so an item starts only when it can finish and be recorded), [`s3`] (reading the version
//! an event names in bounded memory, writing outputs that point back at their source) and
//! [`outputs`] (which bucket and key each output goes to).

pub mod batch;
pub mod deadline;
pub mod outputs;
pub mod s3;
pub mod step;

/// Why a worker's attempt at one object failed, and so what happens next: a permanent failure
/// is recorded FAILED with its reason; a transient one leaves the delivery to be retried.
/// S3 calls report theirs this way; workers use it for their own steps too.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Retrying cannot help: the version is gone, replaced, too large, or unprocessable.
    #[error("{0}")]
    Permanent(String),
    /// Throttling, timeouts, 5xx: the same call may succeed later.
    #[error("{0}")]
    Transient(String),
}

impl Failure {
    /// A failed AWS call (any service's client: the error types are shared), classified as
    /// [`platform::is_transient`] says.
    pub fn of_call<E>(
        call: &str,
        err: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> Self
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let message = format!(
            "{call} failed: {}",
            aws_sdk_s3::error::DisplayErrorContext(err)
        );
        if platform::is_transient(err) {
            Failure::Transient(message)
        } else {
            Failure::Permanent(message)
        }
    }
}

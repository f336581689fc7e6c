//! One worker stage on one dispatched object: skip it if this stage already recorded the
//! version, do the work, record the outcome once. Each handler supplies only its work.
//!
//! The work's permanent failures (a corrupt file, an unsupported type, an object deleted
//! since its upload) become FAILED records: retrying changes nothing. Its transient failures,
//! and recording that may succeed later, leave the delivery to be retried (SQS redelivers,
//! Lambda retries an async invoke), and after the retries it lands in a DLQ.

use crate::Failure;
use audit::{AuditRecord, RecordError, Recorder, Status};
use chrono::{DateTime, Utc};
use object_events::Dispatch;
use std::future::Future;
use tracing::{error, info, warn};

/// Why a delivery is left to be retried.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// Permanent, but with no object to record it against: the retries take it to the DLQ.
    #[error("not a dispatch from the router: {0}")]
    NotADispatch(String),
    #[error("{0}; it will be retried")]
    Transient(String),
    /// The invocation had too little time left to start and record it.
    #[error("not started: {left:?} left in the invocation, less than one item may take")]
    NotStarted { left: std::time::Duration },
    /// Recording failed in a way a retry may not mend; retried all the same, so nothing
    /// vanishes unrecorded.
    #[error("recording the outcome failed: {0}")]
    Record(RecordError),
}

impl From<RecordError> for StepError {
    fn from(err: RecordError) -> Self {
        if err.is_transient() {
            StepError::Transient(err.to_string())
        } else {
            StepError::Record(err)
        }
    }
}

/// What the step came to for a delivery that was not left to be retried.
#[derive(Debug)]
pub enum Stepped {
    /// This delivery did the work and wrote this record.
    Recorded(Box<AuditRecord>),
    /// An earlier delivery had recorded the stage: this one did nothing.
    AlreadyRecorded,
}

/// The router's dispatch in a message body.
pub fn parse_dispatch(body: &str) -> Result<Dispatch, StepError> {
    serde_json::from_str(body).map_err(|err| StepError::NotADispatch(err.to_string()))
}

/// Runs `work` on `dispatch` as `stage` and records what it gives, exactly once. `work` gets
/// the step's start time for its record and returns the record of its outcome; its permanent
/// failure is recorded FAILED with the reason.
pub async fn run<F, Fut>(
    recorder: &Recorder,
    stage: &str,
    dispatch: &Dispatch,
    work: F,
) -> Result<Stepped, StepError>
where
    F: FnOnce(DateTime<Utc>) -> Fut,
    Fut: Future<Output = Result<AuditRecord, Failure>>,
{
    let started_at = Utc::now();
    let (correlation_id, key) = (&dispatch.correlation_id, &dispatch.object.key);
    let probe = AuditRecord::for_dispatch(dispatch, stage, Status::Succeeded, started_at);
    if recorder.is_recorded(&probe).await? {
        info!(%correlation_id, %key, stage, "already recorded; duplicate delivery ignored");
        return Ok(Stepped::AlreadyRecorded);
    }
    let record = match work(started_at).await {
        Ok(record) => record,
        Err(Failure::Permanent(reason)) => {
            warn!(%correlation_id, %key, stage, reason, "failed");
            AuditRecord::for_dispatch(dispatch, stage, Status::Failed, started_at)
                .with_reason(reason)
        }
        Err(Failure::Transient(reason)) => return Err(StepError::Transient(reason)),
    };
    if let Err(err) = recorder.record(&record).await {
        if !err.is_transient() {
            error!(%correlation_id, %key, stage, error = %err, "recording failed");
        }
        return Err(err.into());
    }
    info!(
        %correlation_id,
        %key,
        stage,
        status = %record.status,
        duration_ms = record.duration_ms(),
        outputs = record.outputs.len(),
        "recorded"
    );
    Ok(Stepped::Recorded(Box::new(record)))
}

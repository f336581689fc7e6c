//! One object's pass: a dispatch from the queue in, one pass over the object, a manifest and
//! one audit record out, with an IN_PROGRESS record showing the bytes done while it runs.
//!
//! The queue redelivers what a pass gives back. A pass stopped by SIGTERM (a Spot reclaim, a
//! scale-in) or by a fault that may pass (after the per-part retries) records its progress,
//! releases its claim and is [`Outcome::Released`]: another task takes the object over from its
//! first byte, and the exactly-once record and notification stay those of the one pass that
//! finishes. A failure retrying cannot change is recorded FAILED with its reason.
//!
//! The compliance checks run in the same pass, and their verdict is the compliance tier's: a
//! `compliance` record, the verdict tags on the object, and an INFECTED object quarantined,
//! before the large-file record is finished.

use crate::config::TaskConfig;
use crate::digest::{Expected, Hashers, PassChecks, Verification};
use crate::manifest::{Manifest, Timings};
use crate::source::S3Source;
use crate::stream::{stream_object, StreamError};
use audit::{AuditRecord, Claim, RecordError, Recorder, Status};
use chrono::{DateTime, Utc};
use compliance::checker::{Checker, Judgement, Severity};
use compliance::content::sniff;
use compliance::quarantine::VerdictWriter;
use compliance::verdict::{first_signature, over, CheckOutcome};
use object_events::size::human;
use object_events::Dispatch;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use worker_common::s3::{source_metadata, S3Store};
use worker_common::Failure;

pub const STAGE: &str = "large-file";

pub struct LargeFileTask {
    pub store: S3Store,
    pub recorder: Recorder,
    /// Writes the compliance verdict: the same table and topic, as stage `compliance`.
    pub verdicts: VerdictWriter,
    pub config: TaskConfig,
    /// Compliance checks run in the same pass (none: hashing only).
    pub checkers: Arc<Vec<Box<dyn Checker>>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Recorded(Status),
    /// The object's record is complete: nothing was done.
    Duplicate,
    /// Another pass holds a live claim on the object: try again once it could have lapsed.
    Busy,
    /// The pass stopped before its end, its progress recorded and its claim released: the
    /// dispatch is to be delivered again after `retry_after`.
    Released {
        retry_after: Duration,
    },
}

/// A pass that did not produce its outputs.
enum Ending {
    /// The FAILED record's reason.
    Failed(String),
    /// Why the pass gave the object back, to be tried again after `retry_after`.
    Released {
        reason: String,
        retry_after: Duration,
    },
}

/// How long a fault that may pass (throttling, a network error that outlasted the per-part
/// retries) keeps the object waiting before another pass.
const TRANSIENT_RETRY_AFTER: Duration = Duration::from_secs(30);

/// What a successful pass produced.
struct Done {
    sha256: String,
    content_type: String,
    manifest_key: String,
    details: serde_json::Value,
    /// What the compliance checks found, when they found anything.
    findings: Option<String>,
    checks: BTreeMap<&'static str, Judgement>,
}

impl LargeFileTask {
    /// Processes the dispatched object until done, failed, or `cancel` (SIGTERM) fires.
    pub async fn run(
        &self,
        dispatch: &Dispatch,
        cancel: &CancellationToken,
    ) -> Result<Outcome, RecordError> {
        let started_at = Utc::now();
        let size = dispatch.object.size;
        let claim = self
            .recorder
            .claim(&self.in_progress(dispatch, started_at, 0, size))
            .await;
        match claim {
            Ok(Claim::AlreadyRecorded) => {
                info!(correlation_id = %dispatch.correlation_id, "already recorded; nothing to do");
                return Ok(Outcome::Duplicate);
            }
            Err(RecordError::InProgress { .. }) => {
                info!(correlation_id = %dispatch.correlation_id, "another pass holds the claim");
                return Ok(Outcome::Busy);
            }
            Ok(_) => {}
            Err(err) => return Err(err),
        }
        let progress = AtomicU64::new(0);
        let result = tokio::select! {
            result = self.process(dispatch, &progress, cancel) => result,
            never = self.report_progress(dispatch, started_at, &progress) => match never {},
        };
        let record = match result {
            Ok(done) => {
                let unconcluded = self
                    .conclude_verdict(dispatch, &done.checks, started_at)
                    .await;
                let findings = match (done.findings, unconcluded) {
                    (Some(found), Some(problem)) => Some(format!("{found} | {problem}")),
                    (found, problem) => found.or(problem),
                };
                let record = self
                    .record(dispatch, Status::Succeeded, started_at)
                    .with_sha256(done.sha256)
                    .with_content_type(done.content_type)
                    .with_outputs(vec![done.manifest_key])
                    .with_details(done.details);
                match findings {
                    Some(findings) => record.with_reason(findings),
                    None => record,
                }
            }
            Err(Ending::Failed(reason)) => {
                warn!(correlation_id = %dispatch.correlation_id, reason, "large file failed");
                self.record(dispatch, Status::Failed, started_at)
                    .with_reason(reason)
            }
            Err(Ending::Released {
                reason,
                retry_after,
            }) => {
                let bytes_done = progress.load(Ordering::Relaxed);
                warn!(correlation_id = %dispatch.correlation_id, reason, bytes_done, "released for another pass");
                let record = self
                    .in_progress(dispatch, started_at, bytes_done, size)
                    .with_reason(format!("released for another pass: {reason}"));
                self.recorder.progress(&record).await?;
                self.recorder.release(&record).await?;
                return Ok(Outcome::Released { retry_after });
            }
        };
        self.recorder.finish(&record).await?;
        info!(
            correlation_id = %record.correlation_id,
            key = %record.object.key,
            status = %record.status,
            duration_ms = record.duration_ms(),
            "recorded"
        );
        Ok(Outcome::Recorded(record.status))
    }

    /// Rewrites the IN_PROGRESS record every progress interval (which also renews the claim).
    async fn report_progress(
        &self,
        dispatch: &Dispatch,
        started_at: DateTime<Utc>,
        progress: &AtomicU64,
    ) -> std::convert::Infallible {
        let mut ticks = tokio::time::interval(self.config.progress_interval);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let done = progress.load(Ordering::Relaxed);
            let record = self.in_progress(dispatch, started_at, done, dispatch.object.size);
            match self.recorder.progress(&record).await {
                Ok(()) => info!(bytes_done = done, "progress"),
                Err(err) => warn!(error = %err, "progress update failed"),
            }
        }
    }

    /// The pass itself.
    async fn process(
        &self,
        dispatch: &Dispatch,
        progress: &AtomicU64,
        cancel: &CancellationToken,
    ) -> Result<Done, Ending> {
        let config = &self.config;
        let object = dispatch.object.object_ref();
        let started = Instant::now();
        let stored = self.store.describe(&object).await.map_err(ending)?;
        if stored.size > config.max_bytes {
            return Err(Ending::Failed(format!(
                "object of {} exceeds the large-file limit of {}",
                human(stored.size),
                human(config.max_bytes)
            )));
        }
        let described = started.elapsed();
        let expected = Expected::from_stored(&stored);
        let hashers = Hashers::start(
            expected,
            config.stream.part_size,
            Some(PassChecks {
                checkers: Arc::clone(&self.checkers),
                key: object.key.to_string(),
                size: stored.size,
            }),
        );
        let source = S3Source {
            store: self.store.clone(),
            object: object.clone(),
        };
        let streamed = stream_object(&source, stored.size, &config.stream, &hashers, progress, cancel)
            .await
            .map_err(|err| match err {
                StreamError::Source(failure) => ending(failure),
                StreamError::Interrupted { bytes_done } => Ending::Released {
                    reason: format!(
                        "interrupted by SIGTERM (task stopped or Spot capacity reclaimed) after {bytes_done} of {} bytes",
                        stored.size
                    ),
                    retry_after: Duration::ZERO,
                },
                StreamError::Hasher(err) => Ending::Failed(err.to_string()),
            })?;
        let digests = hashers
            .finish()
            .await
            .map_err(|err| Ending::Failed(err.to_string()))?;
        let streamed_in = started.elapsed() - described;
        if let Verification::Mismatched {
            against,
            stored,
            computed,
        } = &digests.verification
        {
            return Err(Ending::Failed(format!(
                "checksum mismatch: the bytes read do not match the {against} ({stored} stored, {computed} computed)"
            )));
        }
        let content_type = sniff(&streamed.head);
        let seconds = streamed_in.as_secs_f64().max(1e-9);
        let manifest = Manifest {
            source: &object,
            correlation_id: dispatch.correlation_id.as_str(),
            size: stored.size,
            sha256: &digests.sha256,
            content_type,
            verification: &digests.verification,
            part_size: config.stream.part_size,
            parts: Manifest::parts(&digests, stored.size, config.stream.part_size),
            retries: streamed.retries,
            timings_ms: Timings {
                describe: millis(described),
                stream: millis(streamed_in),
                total: millis(started.elapsed()),
            },
            throughput_mib_per_s: stored.size as f64 / (1024.0 * 1024.0) / seconds,
            checks: &digests.checks,
        };
        let manifest_json =
            serde_json::to_vec_pretty(&manifest).map_err(|err| Ending::Failed(err.to_string()))?;
        let manifest_output = config.outputs.place(&object, "manifests", "manifest.json");
        self.store
            .write(
                &manifest_output,
                manifest_json,
                "application/json",
                source_metadata(dispatch),
            )
            .await
            .map_err(ending)?;
        Ok(Done {
            details: json!({
                "size": stored.size,
                "verification": digests.verification,
                "part_size": config.stream.part_size,
                "parts": digests.part_crc32c.len(),
                "retries": streamed.retries,
                "throughput_mib_per_s": manifest.throughput_mib_per_s,
                "timings_ms": manifest.timings_ms,
                "checks": digests.checks.iter().map(|(name, j)| (*name, j.severity)).collect::<BTreeMap<_, _>>(),
            }),
            findings: findings(&digests.checks),
            checks: digests.checks,
            sha256: digests.sha256,
            content_type: content_type.to_owned(),
            manifest_key: manifest_output.listed(&object),
        })
    }

    /// Records the checks' verdict as the compliance tier does, tags the object with it and
    /// quarantines it when INFECTED, retrying transient failures here rather than streaming the
    /// whole object again. Returns why the verdict could not be concluded, if it could not.
    async fn conclude_verdict(
        &self,
        dispatch: &Dispatch,
        checks: &BTreeMap<&'static str, Judgement>,
        started_at: DateTime<Utc>,
    ) -> Option<String> {
        if checks.is_empty() {
            // A pass without checks (none configured) gives no verdict: nothing is called
            // clean unchecked, and the untagged object stays behind a fail-closed gate.
            return None;
        }
        let outcomes = checks.iter().map(|(name, judgement)| CheckOutcome {
            checker: name,
            status: Status::from(judgement.severity),
            reason: judgement.reason.as_deref(),
            signature: first_signature(&judgement.details),
        });
        let verdict = over(outcomes)?;
        let record = verdict.record(dispatch, started_at, STAGE);
        let mut last = String::new();
        for attempt in 1..=self.config.stream.attempts {
            match self.verdicts.write(record.clone(), &verdict).await {
                Ok(_) => {
                    info!(correlation_id = %record.correlation_id, verdict = %verdict.severity, "verdict");
                    return None;
                }
                Err(err) => {
                    warn!(attempt, error = %err, "concluding the compliance verdict failed");
                    last = err.to_string();
                    tokio::time::sleep(self.config.stream.retry_delay * attempt).await;
                }
            }
        }
        Some(format!("the compliance verdict was not recorded: {last}"))
    }

    fn record(
        &self,
        dispatch: &Dispatch,
        status: Status,
        started_at: DateTime<Utc>,
    ) -> AuditRecord {
        AuditRecord::for_dispatch(dispatch, STAGE, status, started_at)
    }

    fn in_progress(
        &self,
        dispatch: &Dispatch,
        started_at: DateTime<Utc>,
        bytes_done: u64,
        size: u64,
    ) -> AuditRecord {
        self.record(dispatch, Status::InProgress, started_at)
            .with_details(json!({ "bytes_done": bytes_done, "size": size }))
    }
}

/// The non-clean checks' reasons, each prefixed with its checker.
fn findings(checks: &BTreeMap<&'static str, Judgement>) -> Option<String> {
    let found: Vec<String> = checks
        .iter()
        .filter(|(_, judgement)| judgement.severity != Severity::Clean)
        .map(|(name, judgement)| {
            format!(
                "compliance {name} {}: {}",
                judgement.severity,
                judgement.reason.as_deref().unwrap_or("no reason given")
            )
        })
        .collect();
    (!found.is_empty()).then(|| found.join(" | "))
}

fn ending(failure: Failure) -> Ending {
    match failure {
        Failure::Permanent(reason) => Ending::Failed(reason),
        Failure::Transient(reason) => Ending::Released {
            reason,
            retry_after: TRANSIENT_RETRY_AFTER,
        },
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

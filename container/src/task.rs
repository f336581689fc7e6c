//! One run of the task: the router's dispatch in, one pass over the object, a manifest and one
//! audit record out, with an IN_PROGRESS record showing the bytes done while it runs.
//!
//! A Fargate task is run once: nothing redelivers it. So every failure the task can still
//! record is recorded FAILED with its reason (a transient one after the per-part retries), and
//! only a failure to record at all ends the task with an error, leaving the IN_PROGRESS record
//! to show, by its age, that the task died (`triage audit --status IN_PROGRESS --stale 15m`).
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
use object_events::ObjectRef;
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
    /// The object's record is complete, or another task holds its claim: nothing was done.
    Duplicate,
}

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
    pub async fn run(&self, cancel: &CancellationToken) -> Result<Outcome, RecordError> {
        let started_at = Utc::now();
        let size = self.config.dispatch.object.size;
        let claim = self
            .recorder
            .claim(&self.in_progress(started_at, 0, size))
            .await;
        match claim {
            Ok(Claim::AlreadyRecorded) | Err(RecordError::InProgress { .. }) => {
                info!(correlation_id = %self.config.dispatch.correlation_id, "already recorded or running elsewhere; nothing to do");
                return Ok(Outcome::Duplicate);
            }
            Ok(_) => {}
            Err(err) => return Err(err),
        }
        let progress = AtomicU64::new(0);
        let result = tokio::select! {
            result = self.process(&progress, cancel) => result,
            never = self.report_progress(started_at, &progress) => match never {},
        };
        let record = match result {
            Ok(done) => {
                let unconcluded = self.conclude_verdict(&done.checks, started_at).await;
                let findings = match (done.findings, unconcluded) {
                    (Some(found), Some(problem)) => Some(format!("{found} | {problem}")),
                    (found, problem) => found.or(problem),
                };
                let record = self
                    .record(Status::Succeeded, started_at)
                    .with_sha256(done.sha256)
                    .with_content_type(done.content_type)
                    .with_outputs(vec![done.manifest_key])
                    .with_details(done.details);
                match findings {
                    Some(findings) => record.with_reason(findings),
                    None => record,
                }
            }
            Err(reason) => {
                warn!(correlation_id = %self.config.dispatch.correlation_id, reason, "large file failed");
                self.record(Status::Failed, started_at).with_reason(reason)
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
        started_at: DateTime<Utc>,
        progress: &AtomicU64,
    ) -> std::convert::Infallible {
        let mut ticks = tokio::time::interval(self.config.progress_interval);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let done = progress.load(Ordering::Relaxed);
            let record = self.in_progress(started_at, done, self.config.dispatch.object.size);
            match self.recorder.progress(&record).await {
                Ok(()) => info!(bytes_done = done, "progress"),
                Err(err) => warn!(error = %err, "progress update failed"),
            }
        }
    }

    /// The pass itself; `Err` is the FAILED record's reason.
    async fn process(
        &self,
        progress: &AtomicU64,
        cancel: &CancellationToken,
    ) -> Result<Done, String> {
        let config = &self.config;
        let object = self.object();
        let started = Instant::now();
        let stored = self.store.describe(&object).await.map_err(reason)?;
        if stored.size > config.max_bytes {
            return Err(format!(
                "object of {} exceeds the large-file limit of {}",
                human(stored.size),
                human(config.max_bytes)
            ));
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
                StreamError::Source(failure) => reason(failure),
                StreamError::Interrupted { bytes_done } => format!(
                    "interrupted by SIGTERM (task stopped or Spot capacity reclaimed) after {bytes_done} of {} bytes; upload the object again to reprocess it",
                    stored.size
                ),
                StreamError::Hasher(err) => err.to_string(),
            })?;
        let digests = hashers.finish().await.map_err(|err| err.to_string())?;
        let streamed_in = started.elapsed() - described;
        if let Verification::Mismatched {
            against,
            stored,
            computed,
        } = &digests.verification
        {
            return Err(format!(
                "checksum mismatch: the bytes read do not match the {against} ({stored} stored, {computed} computed)"
            ));
        }
        let content_type = sniff(&streamed.head);
        let seconds = streamed_in.as_secs_f64().max(1e-9);
        let manifest = Manifest {
            source: &object,
            correlation_id: config.dispatch.correlation_id.as_str(),
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
        let manifest_json = serde_json::to_vec_pretty(&manifest).map_err(|err| err.to_string())?;
        let manifest_output = config.outputs.place(&object, "manifests", "manifest.json");
        self.store
            .write(
                &manifest_output,
                manifest_json,
                "application/json",
                source_metadata(&config.dispatch),
            )
            .await
            .map_err(reason)?;
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
    /// quarantines it when INFECTED; a task is never redelivered, so transient failures are
    /// retried here. Returns why the verdict could not be concluded, if it could not.
    async fn conclude_verdict(
        &self,
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
        let record = verdict.record(&self.config.dispatch, started_at, STAGE);
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

    fn object(&self) -> ObjectRef {
        self.config.dispatch.object.object_ref()
    }

    fn record(&self, status: Status, started_at: DateTime<Utc>) -> AuditRecord {
        AuditRecord::for_dispatch(&self.config.dispatch, STAGE, status, started_at)
    }

    fn in_progress(&self, started_at: DateTime<Utc>, bytes_done: u64, size: u64) -> AuditRecord {
        self.record(Status::InProgress, started_at)
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

fn reason(failure: Failure) -> String {
    match failure {
        Failure::Permanent(reason) => reason,
        Failure::Transient(reason) => {
            format!("{reason}; a task is not redelivered: upload the object again to retry")
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

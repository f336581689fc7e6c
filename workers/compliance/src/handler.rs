//! One checker Lambda: each message of its queue (a router dispatch fanned out by the
//! compliance topic) is one object checked once, recorded as `compliance.<checker>`; then the
//! verdict is written by whichever checker completes the set, exactly once, and an INFECTED
//! object is quarantined before the verdict is notified.

use crate::checker::malware::MalwareChecker;
use crate::checker::{Checker, Subject};
use crate::config::CheckerConfig;
use crate::quarantine::{ConcludeError, VerdictWriter};
use crate::signature_store::{self, LoadError};
use crate::verdict::{check_stage, decide, CHECK_STAGE_PREFIX};
use audit::{AuditRecord, Recorder, Status};
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use object_events::{Dispatch, Origin};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Instant;
use tracing::info;
use worker_common::batch::{handle_batch, Pace};
use worker_common::deadline::Invocation;
use worker_common::s3::{next_chunk, S3Store};
use worker_common::step::{self, parse_dispatch, StepError};
use worker_common::Failure;

pub struct CheckerLambda {
    pub store: S3Store,
    pub recorder: Recorder,
    /// Writes the verdict: the same table and topic as `recorder`, as stage `compliance`.
    pub verdicts: VerdictWriter,
    pub checker: InUse,
    pub config: CheckerConfig,
}

/// The checker a warm function uses. The malware checker is replaced when its signatures
/// change, so a check started under the old set finishes (and records) under it.
pub struct InUse {
    checker: RwLock<Arc<dyn Checker>>,
    /// When the signatures were last found current.
    checked_at: Mutex<Instant>,
}

impl InUse {
    pub fn new(checker: Box<dyn Checker>) -> Self {
        Self {
            checker: RwLock::new(Arc::from(checker)),
            checked_at: Mutex::new(Instant::now()),
        }
    }

    pub fn get(&self) -> Arc<dyn Checker> {
        Arc::clone(&self.checker.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn checked_within(&self, period: std::time::Duration) -> bool {
        self.checked_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed()
            < period
    }

    fn checked_now(&self) {
        *self
            .checked_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    fn replace(&self, checker: Arc<dyn Checker>) {
        *self.checker.write().unwrap_or_else(PoisonError::into_inner) = checker;
        self.checked_now();
    }
}

impl CheckerLambda {
    pub async fn handle_batch(&self, batch: SqsEvent, invocation: Invocation) -> SqsBatchResponse {
        let pace = Pace {
            concurrency: self.config.concurrency,
            invocation,
            item: self.config.item_time(),
        };
        handle_batch(batch, pace, |body| self.handle_message(body)).await
    }

    pub async fn handle_message(&self, body: String) -> Result<(), StepError> {
        let dispatch = parse_dispatch(&body)?;
        let origin = dispatch.object.origin;
        if !self
            .config
            .checkers
            .run_by(dispatch.content_kind, origin)
            .contains(&self.config.checker)
        {
            info!(correlation_id = %dispatch.correlation_id, key = %dispatch.object.key, %origin, "this run does not make this check");
            return Ok(());
        }
        // A rescan exists because the signatures changed: it is never judged by older ones.
        self.keep_signatures_current(origin == Origin::Rescan)
            .await?;
        let checker = self.checker.get();
        // A redelivered message skips the check it already recorded, not the verdict: the
        // delivery that recorded it may have stopped before concluding.
        step::run(
            &self.recorder,
            &check_stage(checker.name()),
            &dispatch,
            |started_at| self.check(checker.as_ref(), &dispatch, started_at),
        )
        .await?;
        self.conclude(&dispatch).await
    }

    /// Replaces the malware checker when its signature files have changed: asked when `now`,
    /// else at most every `signatures_refresh`.
    async fn keep_signatures_current(&self, now: bool) -> Result<(), StepError> {
        let Some(uri) = &self.config.signatures_uri else {
            return Ok(());
        };
        if !now && self.checker.checked_within(self.config.signatures_refresh) {
            return Ok(());
        }
        let unreadable = |err: LoadError| StepError::Transient(format!("signatures: {err}"));
        let current = signature_store::current_versions(&self.store.client, uri)
            .await
            .map_err(unreadable)?;
        let held = self.checker.get().provenance();
        if held.pointer("/signatures/files") == Some(&signature_store::recorded(&current)) {
            self.checker.checked_now();
            return Ok(());
        }
        let reloaded = MalwareChecker::load_listed(&self.store.client, uri, &current)
            .await
            .map_err(|err| StepError::Transient(format!("reloading the signatures: {err}")))?;
        self.checker.replace(Arc::new(reloaded));
        Ok(())
    }

    /// Streams the object through `checker`.
    async fn check(
        &self,
        checker: &dyn Checker,
        dispatch: &Dispatch,
        started_at: DateTime<Utc>,
    ) -> Result<AuditRecord, Failure> {
        let object = dispatch.object.object_ref();
        let clock = Instant::now();
        let opened = self.store.open(&object).await?;
        let mut body = opened.body;
        let mut run = checker.start(Subject {
            key: object.key.as_str(),
            declared_type: opened.content_type.as_deref(),
            size: opened.length,
        });
        let mut read = 0u64;
        while let Some(chunk) = next_chunk(&mut body).await? {
            read += chunk.len() as u64;
            run.update(&chunk);
        }
        if read != opened.length {
            return Err(Failure::Transient(format!(
                "read {read} of the object's {} bytes",
                opened.length
            )));
        }
        let judgement = tokio::task::block_in_place(|| run.finish())
            .map_err(|err| Failure::Transient(err.to_string()))?;
        let mut details = json!({
            "checker": checker.name(),
            "bytes": read,
            "check_ms": u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        if let (Some(fields), Value::Object(found)) = (details.as_object_mut(), judgement.details) {
            fields.extend(found);
        }
        let provenance = checker.provenance();
        if !provenance.is_null() {
            details["provenance"] = provenance;
        }
        let record = AuditRecord::for_dispatch(
            dispatch,
            check_stage(checker.name()),
            Status::from(judgement.severity),
            started_at,
        )
        .with_details(details);
        Ok(match judgement.reason {
            Some(reason) => record.with_reason(reason),
            None => record,
        })
    }

    /// Writes the verdict when every check the object needs has recorded. Two checkers can
    /// both see the set complete; the claim lets one write and notify.
    async fn conclude(&self, dispatch: &Dispatch) -> Result<(), StepError> {
        let object = dispatch.object.object_ref();
        let recorded = self
            .recorder
            .version_stages(&object, &dispatch.object.run, CHECK_STAGE_PREFIX)
            .await?;
        let Some(verdict) = decide(
            &self.config.checkers,
            dispatch.content_kind,
            dispatch.object.origin,
            &recorded,
        ) else {
            return Ok(());
        };
        // The verdict's duration is the whole check: from the upload to now.
        let started_at = dispatch.object.event_time.unwrap_or(dispatch.routed_at);
        let record = verdict.record(dispatch, started_at, self.config.checker);
        let concluded = self
            .verdicts
            .write(record, &verdict)
            .await
            .map_err(|err| match err {
                ConcludeError::Record(err) => StepError::from(err),
                ConcludeError::Transient(reason) => StepError::Transient(reason),
            })?;
        if concluded {
            info!(correlation_id = %dispatch.correlation_id, key = %object.key, verdict = %verdict.severity, "verdict");
        }
        Ok(())
    }
}

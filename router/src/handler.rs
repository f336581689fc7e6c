//! The router's handler: normalise -> route -> claim -> dispatch -> record, for a batch.
//!
//! Each SQS message succeeds or fails on its own (partial batch responses): a malformed body, an
//! unreadable record or a transient AWS fault fails only its message, which SQS redelivers and
//! eventually moves to the DLQ. Input that is merely bad (empty, oversize, no size) is recorded as
//! REJECTED and acknowledged, never retried.

use crate::batch_operations::{self, JobInvocation, JobResponse, ResultCode, Task, TaskResult};
use crate::dispatch::{DispatchError, Dispatcher};
use crate::policy::{Decision, RoutingPolicy};
use crate::verdict::{is_sqs_batch, judge, Verdict};
use crate::versions::{listed_object, requested_version, S3Versions};
use audit::{table, AuditRecord, Claim, RecordError, Recorded, Recorder, Status};
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use futures::future::join_all;
use object_events::{CorrelationId, Dispatch, Origin, S3Object};
use serde_json::{json, Value};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use tracing::{error, info, warn};

pub const STAGE: &str = "router";

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("{failed} of {total} messages failed and carry no messageId to report them by")]
    UnreportableFailures { failed: usize, total: usize },
    #[error("the event is neither an SQS batch nor an S3/SNS event: {0}")]
    Unrecognised(String),
    #[error("{0} objects of the event could not be routed; see the log for each")]
    Failed(usize),
    #[error("checking the large-file fleet: {0}")]
    Fleet(DispatchError),
}

/// EventBridge's scheduled tick (`rate(...)`), as opposed to an object event it forwards.
fn is_scheduled(event: &Value) -> bool {
    event["source"] == "aws.events" && event["detail-type"] == "Scheduled Event"
}

/// One object's route through the batch: its audit record and, when routed, its dispatch.
struct Work {
    message: usize,
    record: AuditRecord,
    dispatch: Option<Dispatch>,
}

pub struct Router<D> {
    policy: RoutingPolicy,
    dispatcher: D,
    recorder: Recorder,
    versions: S3Versions,
}

impl<D: Dispatcher> Router<D> {
    pub fn new(
        policy: RoutingPolicy,
        dispatcher: D,
        recorder: Recorder,
        versions: S3Versions,
    ) -> Self {
        Self {
            policy,
            dispatcher,
            recorder,
            versions,
        }
    }

    /// Entry point for any payload Lambda hands us: an SQS batch (the deployed wiring) gets a
    /// partial batch response, a Batch Operations invocation a result per task, the schedule's
    /// tick a check of the large-file fleet; a direct S3 or SNS event fails as a whole so Lambda
    /// retries it.
    pub async fn handle(&self, event: Value) -> Result<Value, HandlerError> {
        if is_scheduled(&event) {
            self.dispatcher
                .keep_large_fleet(0)
                .await
                .map_err(HandlerError::Fleet)?;
            return Ok(Value::Null);
        }
        if batch_operations::is_invocation(&event) {
            let invocation: JobInvocation = serde_json::from_value(event)
                .map_err(|err| HandlerError::Unrecognised(err.to_string()))?;
            let response = self.handle_batch_operations(&invocation).await;
            return serde_json::to_value(response)
                .map_err(|err| HandlerError::Unrecognised(err.to_string()));
        }
        if is_sqs_batch(&event) {
            let batch: SqsEvent = serde_json::from_value(event)
                .map_err(|err| HandlerError::Unrecognised(err.to_string()))?;
            let response = self.handle_sqs(batch).await?;
            return serde_json::to_value(response)
                .map_err(|err| HandlerError::Unrecognised(err.to_string()));
        }
        let (failed, _) = self.process(&[(None, event.to_string())]).await;
        match failed.len() {
            0 => Ok(Value::Null),
            n => Err(HandlerError::Failed(n)),
        }
    }

    pub async fn handle_sqs(&self, batch: SqsEvent) -> Result<SqsBatchResponse, HandlerError> {
        let messages: Vec<(Option<String>, String)> = batch
            .records
            .into_iter()
            .map(|message| (message.message_id, message.body.unwrap_or_default()))
            .collect();
        let (failed, _) = self.process(&messages).await;
        let mut response = SqsBatchResponse::default();
        let mut unreportable = 0;
        for index in failed {
            match &messages[index].0 {
                Some(id) => response.add_failure(id.clone()),
                None => unreportable += 1,
            }
        }
        if unreportable > 0 {
            return Err(HandlerError::UnreportableFailures {
                failed: unreportable,
                total: messages.len(),
            });
        }
        Ok(response)
    }

    /// Each task's version is looked up (the router may list versions, not read objects) and
    /// announced as its upload's event would have been, then routed with the others as one
    /// batch. A task whose object is gone fails for good; one that hit a transient fault is
    /// retried by Batch Operations.
    pub async fn handle_batch_operations(&self, invocation: &JobInvocation) -> JobResponse {
        let job = &invocation.job.id;
        let lookups = join_all(invocation.tasks.iter().map(|task| self.task_object(task))).await;
        let mut results: Vec<Option<TaskResult>> = Vec::new();
        let mut messages = Vec::new();
        let mut task_of_message = Vec::new();
        for (index, (task, lookup)) in invocation.tasks.iter().zip(lookups).enumerate() {
            match lookup {
                Ok(object) => {
                    let body = json!({ "Records": [object.to_event_record()] }).to_string();
                    messages.push((Some(task.task_id.clone()), body));
                    task_of_message.push(index);
                    results.push(None);
                }
                Err(result) => {
                    warn!(job, task = %task.task_id, key = %task.s3_key, reason = %result.result_string, "batch operations task not routed");
                    results.push(Some(result));
                }
            }
        }
        let (failed, work) = self.process(&messages).await;
        for (message, task_index) in task_of_message.into_iter().enumerate() {
            let task = &invocation.tasks[task_index];
            results[task_index] = Some(if failed.contains(&message) {
                TaskResult::new(
                    task,
                    ResultCode::TemporaryFailure,
                    "routing failed and will be retried; the router's log has the reason",
                )
            } else {
                let outcomes: Vec<String> = work
                    .iter()
                    .filter(|item| item.message == message)
                    .map(|item| outcome(&item.record))
                    .collect();
                TaskResult::new(task, ResultCode::Succeeded, outcomes.join("; "))
            });
        }
        invocation.respond(results.into_iter().flatten().collect())
    }

    /// The object a task names, as its creation's event would describe it, or the task's
    /// failure.
    async fn task_object(&self, task: &Task) -> Result<S3Object, TaskResult> {
        let permanent =
            |reason: String| TaskResult::new(task, ResultCode::PermanentFailure, reason);
        let bucket = task
            .bucket()
            .ok_or_else(|| permanent("the task names no bucket".into()))?;
        let key = task
            .key()
            .map_err(|err| permanent(format!("unusable key: {err}")))?;
        let listed = self
            .versions
            .list(bucket, key.as_str())
            .await
            .map_err(|err| {
                let code = if err.transient {
                    ResultCode::TemporaryFailure
                } else {
                    ResultCode::PermanentFailure
                };
                TaskResult::new(task, code, err.to_string())
            })?;
        let missing = || match task.version_id() {
            Some(version) => format!("s3://{bucket}/{key} has no version {version}"),
            None => format!("s3://{bucket}/{key} does not exist (deleted, or never written)"),
        };
        let version = requested_version(key.as_str(), task.version_id(), &listed)
            .ok_or_else(|| permanent(missing()))?;
        listed_object(bucket, version, Origin::BatchOperations)
            .ok_or_else(|| permanent(missing()))?
            .map_err(|err| permanent(format!("unusable key: {err}")))
    }

    /// Processes messages (id, body); returns the indices of those that must be retried, and
    /// the work planned for the others.
    async fn process(&self, messages: &[(Option<String>, String)]) -> (BTreeSet<usize>, Vec<Work>) {
        let mut failed = BTreeSet::new();
        let work = self.plan_all(messages, &mut failed);
        let work = self.resolve_versions(work, &mut failed).await;
        let (unique, duplicates) = split_duplicates(&work);
        let (to_dispatch, mut to_complete) = self.claim_all(unique, &mut failed).await;
        to_complete.extend(self.dispatch_claimed(to_dispatch, &mut failed).await);
        self.complete_all(&to_complete, &mut failed).await;
        // A copy shares the fate of the first: acknowledged with it, or retried with it.
        for (copy, first) in duplicates {
            if failed.contains(&first) {
                failed.insert(copy);
            }
        }
        (failed, work)
    }

    fn plan_all(
        &self,
        messages: &[(Option<String>, String)],
        failed: &mut BTreeSet<usize>,
    ) -> Vec<Work> {
        let mut work = Vec::new();
        for (index, (message_id, body)) in messages.iter().enumerate() {
            let message_id = message_id.as_deref().unwrap_or("-");
            // The policy and the parser see untrusted input: a panic there costs one message.
            match catch_unwind(AssertUnwindSafe(|| self.plan(index, message_id, body))) {
                Ok(Ok(planned)) => work.extend(planned),
                Ok(Err(reason)) => {
                    error!(
                        message_id,
                        reason, "message failed; it will be retried and end in the DLQ"
                    );
                    failed.insert(index);
                }
                Err(_) => {
                    error!(
                        message_id,
                        "routing panicked on this message; it will be retried and end in the DLQ"
                    );
                    failed.insert(index);
                }
            }
        }
        work
    }

    /// Gives work announced by eTag alone the version it names, so it joins that version's
    /// history (see [`crate::versions`]). A transient lookup failure fails its message; a
    /// permanent one (no permission to list versions) leaves the eTag as the identity.
    async fn resolve_versions(&self, work: Vec<Work>, failed: &mut BTreeSet<usize>) -> Vec<Work> {
        let lookups = join_all(work.into_iter().map(|mut item| async move {
            let object = &item.record.object;
            let (None, Some(etag)) = (&object.version_id, &object.etag) else {
                return Ok(item);
            };
            match self
                .versions
                .version_of(&object.bucket, object.key.as_str(), etag)
                .await
            {
                Ok(Some(version)) => {
                    if let Some(dispatch) = &mut item.dispatch {
                        dispatch.object.version_id = Some(version.clone());
                    }
                    item.record.object.version_id = Some(version);
                    Ok(item)
                }
                Ok(None) => Ok(item),
                Err(err) if err.transient => {
                    warn!(correlation_id = %item.record.correlation_id, error = %err, "could not resolve the announced version; the message will be retried");
                    Err(item.message)
                }
                Err(err) => {
                    warn!(correlation_id = %item.record.correlation_id, error = %err, "could not resolve the announced version; recording it under its eTag");
                    Ok(item)
                }
            }
        }))
        .await;
        let mut resolved = Vec::new();
        for lookup in lookups {
            match lookup {
                Ok(item) => resolved.push(item),
                Err(message) => {
                    failed.insert(message);
                }
            }
        }
        // Work of a failed message is not done now: all of it is retried together.
        resolved.retain(|item| !failed.contains(&item.message));
        resolved
    }

    /// Records what needs no dispatch and claims what does. Returns the claimed work still to
    /// dispatch, and the work whose dispatch an earlier delivery already made.
    async fn claim_all<'w>(
        &self,
        work: Vec<&'w Work>,
        failed: &mut BTreeSet<usize>,
    ) -> (Vec<&'w Work>, Vec<&'w Work>) {
        let claims = join_all(work.iter().map(|item| self.claim(item))).await;
        let (mut to_dispatch, mut to_complete) = (Vec::new(), Vec::new());
        for (item, claim) in work.into_iter().zip(claims) {
            match claim {
                Err(err) => {
                    log_record_error(item, &err);
                    failed.insert(item.message);
                }
                Ok(None) | Ok(Some(Claim::AlreadyRecorded)) => {}
                Ok(Some(Claim::Resumed { applied: true })) => to_complete.push(item),
                Ok(Some(Claim::Fresh | Claim::Resumed { applied: false })) => {
                    to_dispatch.push(item)
                }
            }
        }
        (to_dispatch, to_complete)
    }

    /// Dispatches claimed work in one batch; returns what was dispatched and marked applied.
    async fn dispatch_claimed<'w>(
        &self,
        claimed: Vec<&'w Work>,
        failed: &mut BTreeSet<usize>,
    ) -> Vec<&'w Work> {
        let (claimed, dispatches): (Vec<&Work>, Vec<Dispatch>) = claimed
            .into_iter()
            .filter_map(|item| Some((item, item.dispatch.clone()?)))
            .unzip();
        let results = self.dispatcher.dispatch(&dispatches).await;
        let outcomes = join_all(claimed.into_iter().zip(results).map(|(item, result)| async move {
            let reason = match result {
                Ok(()) => match self.recorder.mark_applied(&item.record).await {
                    Ok(()) => return Ok(item),
                    // The retry re-dispatches once the claim lease expires; tiers are idempotent.
                    Err(err) => format!("dispatched, but recording that failed: {err}"),
                },
                Err(err) => {
                    // Free the claim so the retry does not wait for the lease to run out.
                    if let Err(release) = self.recorder.release(&item.record).await {
                        warn!(correlation_id = %item.record.correlation_id, error = %release, "could not release the claim");
                    }
                    let advice = if err.transient {
                        "transient; the message will be retried"
                    } else {
                        "permanent: check the tier's configuration, then redrive the DLQ"
                    };
                    format!("{err} ({advice})")
                }
            };
            Err((item, reason))
        }))
        .await;
        let mut dispatched = Vec::new();
        for outcome in outcomes {
            match outcome {
                Ok(item) => dispatched.push(item),
                Err((item, reason)) => {
                    error!(correlation_id = %item.record.correlation_id, key = %item.record.object.key, reason, "dispatch failed; the message fails and SQS redelivers it");
                    failed.insert(item.message);
                }
            }
        }
        dispatched
    }

    /// Publishes the notifications of dispatched work and marks its records done.
    async fn complete_all(&self, work: &[&Work], failed: &mut BTreeSet<usize>) {
        let completed =
            join_all(work.iter().map(|item| self.recorder.complete(&item.record))).await;
        for (item, result) in work.iter().zip(completed) {
            match result {
                Ok(()) => log_recorded(item),
                Err(err) => {
                    log_record_error(item, &err);
                    failed.insert(item.message);
                }
            }
        }
    }

    /// Records outcomes that need no dispatch; claims those that do. `None`: nothing more to do.
    async fn claim(&self, item: &Work) -> Result<Option<Claim>, RecordError> {
        if item.dispatch.is_some() {
            let claim = self.recorder.claim(&item.record).await?;
            if claim == Claim::AlreadyRecorded {
                info!(correlation_id = %item.record.correlation_id, key = %item.record.object.key, "duplicate delivery: already routed");
            }
            return Ok(Some(claim));
        }
        match self.recorder.record(&item.record).await? {
            Recorded::New => log_recorded(item),
            Recorded::Duplicate => {
                info!(correlation_id = %item.record.correlation_id, key = %item.record.object.key, "duplicate delivery: already recorded")
            }
        }
        Ok(None)
    }

    /// Everything about one message that needs no I/O: parse, normalise, route.
    fn plan(&self, index: usize, message_id: &str, body: &str) -> Result<Vec<Work>, String> {
        let started_at = Utc::now();
        let mut work = Vec::new();
        for verdict in judge(&self.policy, body)? {
            match verdict {
                Verdict::Dropped { why } => info!(message_id, why, "acknowledged and dropped"),
                Verdict::Invalid { object, reason } => {
                    let correlation_id = CorrelationId::from_string(message_id);
                    let record = AuditRecord::finished_now(
                        object,
                        STAGE,
                        Status::Rejected,
                        correlation_id,
                        started_at,
                    )
                    .with_reason(reason);
                    work.push(Work {
                        message: index,
                        record,
                        dispatch: None,
                    });
                }
                Verdict::Decided { object, decision } => {
                    work.push(route(index, object, decision, started_at))
                }
            }
        }
        Ok(work)
    }
}

fn route(message: usize, object: S3Object, decision: Decision, started_at: DateTime<Utc>) -> Work {
    let correlation_id = CorrelationId::for_object(&object);
    let record = |status: Status| {
        AuditRecord::finished_now(
            object.object_ref(),
            STAGE,
            status,
            correlation_id.clone(),
            started_at,
        )
        .with_uploaded_by(object.uploaded_by.clone())
        .in_run(object.run.clone(), object.origin)
    };
    match decision {
        Decision::Route { tier, rule, note } => {
            let mut routed = record(Status::Routed).with_tier(Some(tier));
            routed.reason = note;
            let dispatch = Dispatch::new(object, tier, rule, started_at);
            Work {
                message,
                record: routed,
                dispatch: Some(dispatch),
            }
        }
        Decision::Reject { reason } => Work {
            message,
            record: record(Status::Rejected).with_reason(reason),
            dispatch: None,
        },
        Decision::Ignore { reason } => Work {
            message,
            record: record(Status::Ignored).with_reason(reason),
            dispatch: None,
        },
    }
}

/// The same object twice in one batch (a redelivery beside the original) is settled here
/// rather than by racing conditional writes: the first copy is processed, and each other copy
/// is returned as (its message, the first copy's message).
fn split_duplicates(work: &[Work]) -> (Vec<&Work>, Vec<(usize, usize)>) {
    let mut first_message = HashMap::new();
    let mut unique = Vec::new();
    let mut duplicates = Vec::new();
    for item in work {
        let record = &item.record;
        let identity = (
            table::partition_key(&record.object),
            table::sort_key(record).ok(),
        );
        match first_message.entry(identity) {
            Entry::Vacant(entry) => {
                entry.insert(item.message);
                unique.push(item);
            }
            Entry::Occupied(entry) => {
                info!(correlation_id = %record.correlation_id, key = %record.object.key, "duplicate of an object earlier in this batch");
                duplicates.push((item.message, *entry.get()));
            }
        }
    }
    (unique, duplicates)
}

/// What the router decided, for a Batch Operations completion report: `ROUTED to thumbnail`,
/// `REJECTED: zero-byte object`.
fn outcome(record: &AuditRecord) -> String {
    let mut outcome = record.status.to_string();
    if let Some(tier) = record.tier {
        outcome.push_str(&format!(" to {}", tier.as_str()));
    }
    if let Some(reason) = &record.reason {
        outcome.push_str(&format!(": {reason}"));
    }
    outcome
}

fn log_recorded(item: &Work) {
    let record = &item.record;
    info!(
        correlation_id = %record.correlation_id,
        bucket = %record.object.bucket,
        key = %record.object.key,
        size = record.object.size,
        status = %record.status,
        tier = record.tier.map(|t| t.as_str()),
        reason = record.reason.as_deref(),
        duration_ms = record.duration_ms(),
        "routed"
    );
}

fn log_record_error(item: &Work, err: &RecordError) {
    let record = &item.record;
    let fields = (record.correlation_id.as_str(), record.object.key.as_str());
    if err.is_transient() {
        warn!(correlation_id = fields.0, key = fields.1, error = %err, "recording failed transiently; the message will be retried");
    } else {
        error!(correlation_id = fields.0, key = fields.1, error = %err, "recording failed; the message will be retried and end in the DLQ");
    }
}

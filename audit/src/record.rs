use crate::fit::{fit_details, fit_text};
use chrono::{DateTime, Utc};
use object_events::{CorrelationId, Dispatch, ObjectRef, Origin, Run, Tier};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The stage of the compliance verdict over all of an object's checks (each check records as
/// `compliance.<checker>`).
pub const VERDICT_STAGE: &str = "compliance";

/// Where an object version stands after one stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// The router accepted the object and handed it to a tier.
    Routed,
    /// A long-running stage has started and reports its progress in `details`; its last
    /// update time is `finished_at`. A stale one means the worker died without recording.
    InProgress,
    Succeeded,
    /// Processing was attempted and failed permanently (bad input, unsupported content).
    Failed,
    /// Refused before processing (empty, too large, unreadable event record).
    Rejected,
    /// Not ours to process (outside every routing prefix).
    Ignored,
    /// A compliance check, or the verdict over all of them, found nothing wrong.
    Clean,
    /// Something a person should look at: personal data, a denied or mislabelled type, a
    /// check that could not run.
    Flagged,
    /// A malware signature matched.
    Infected,
    /// No check could judge the content (too large to inspect, a type the checks do not
    /// read, a password-protected document): explicitly not clean.
    Unsupported,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Routed => "ROUTED",
            Status::InProgress => "IN_PROGRESS",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::Rejected => "REJECTED",
            Status::Ignored => "IGNORED",
            Status::Clean => "CLEAN",
            Status::Flagged => "FLAGGED",
            Status::Infected => "INFECTED",
            Status::Unsupported => "UNSUPPORTED",
        }
    }

    pub const ALL: [Status; 10] = [
        Status::Routed,
        Status::InProgress,
        Status::Succeeded,
        Status::Failed,
        Status::Rejected,
        Status::Ignored,
        Status::Clean,
        Status::Flagged,
        Status::Infected,
        Status::Unsupported,
    ];

    /// Which class of notification the status makes: `failure` for outcomes someone must act
    /// on, `success` otherwise, `progress` for a stage still running. Subscribers filter on it.
    pub fn outcome(self) -> &'static str {
        match self {
            Status::Failed
            | Status::Rejected
            | Status::Flagged
            | Status::Infected
            | Status::Unsupported => "failure",
            Status::InProgress => "progress",
            Status::Routed | Status::Succeeded | Status::Ignored | Status::Clean => "success",
        }
    }
}

impl std::str::FromStr for Status {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                let known: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown status {text:?} ({})", known.join(", "))
            })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stage's outcome for one run on one object version: one audit item, one notification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    #[serde(flatten)]
    pub object: ObjectRef,
    /// Which step produced the record: `router`, `thumbnail`, `compliance.malware`, ...
    pub stage: String,
    /// The first run (`null`) or the id of the reprocess request that ran the stage again.
    #[serde(default)]
    pub run: Run,
    /// Who announced the object to the router: its upload, a backfill, a reprocess request...
    #[serde(default)]
    pub origin: Origin,
    pub status: Status,
    pub tier: Option<Tier>,
    pub reason: Option<String>,
    /// The content type as sniffed from the bytes, not as claimed by the key or the uploader.
    pub content_type: Option<String>,
    pub sha256: Option<String>,
    pub outputs: Vec<String>,
    /// What only this stage knows (a thumbnail's dimensions, a document's page count...),
    /// as a JSON object.
    pub details: Option<serde_json::Value>,
    pub uploaded_by: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub correlation_id: CorrelationId,
}

impl AuditRecord {
    /// A record of a stage that started at `started_at` and finishes now.
    pub fn finished_now(
        object: ObjectRef,
        stage: impl Into<String>,
        status: Status,
        correlation_id: CorrelationId,
        started_at: DateTime<Utc>,
    ) -> Self {
        Self {
            object,
            stage: stage.into(),
            run: Run::first(),
            origin: Origin::Upload,
            status,
            tier: None,
            reason: None,
            content_type: None,
            sha256: None,
            outputs: Vec::new(),
            details: None,
            uploaded_by: None,
            started_at,
            finished_at: Utc::now().max(started_at),
            correlation_id,
        }
    }

    /// The record of `stage`'s outcome for the object a router dispatch names: its tier,
    /// uploader and correlation id come from the dispatch.
    pub fn for_dispatch(
        dispatch: &Dispatch,
        stage: impl Into<String>,
        status: Status,
        started_at: DateTime<Utc>,
    ) -> Self {
        Self::finished_now(
            dispatch.object.object_ref(),
            stage,
            status,
            dispatch.correlation_id.clone(),
            started_at,
        )
        .with_tier(Some(dispatch.tier))
        .with_uploaded_by(dispatch.object.uploaded_by.clone())
        .in_run(dispatch.object.run.clone(), dispatch.object.origin)
    }

    /// The record as part of `run`, started by `origin`.
    pub fn in_run(mut self, run: Run, origin: Origin) -> Self {
        self.run = run;
        self.origin = origin;
        self
    }

    pub fn with_tier(mut self, tier: Option<Tier>) -> Self {
        self.tier = tier;
        self
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(fit_text(reason.into()));
        self
    }

    pub fn with_uploaded_by(mut self, principal: Option<String>) -> Self {
        self.uploaded_by = principal;
        self
    }

    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    pub fn with_sha256(mut self, sha256: impl Into<String>) -> Self {
        self.sha256 = Some(sha256.into());
        self
    }

    pub fn with_outputs(mut self, outputs: Vec<String>) -> Self {
        self.outputs = outputs;
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(fit_details(details));
        self
    }

    pub fn duration_ms(&self) -> u64 {
        u64::try_from((self.finished_at - self.started_at).num_milliseconds()).unwrap_or(0)
    }

    /// The record as the per-stage metrics count it.
    pub fn metric_outcome<'a>(&'a self, environment: &'a str) -> platform::metrics::Outcome<'a> {
        platform::metrics::Outcome {
            environment,
            stage: &self.stage,
            status: self.status.as_str(),
            timestamp_ms: self.finished_at.timestamp_millis(),
            duration_ms: self.duration_ms(),
            bytes: self.object.size,
            bucket: &self.object.bucket,
            key: self.object.key.as_str(),
            correlation_id: self.correlation_id.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use object_events::ObjectKey;

    #[test]
    fn the_metrics_count_the_record_when_it_finished_with_its_duration_and_size() {
        let started = Utc
            .timestamp_millis_opt(1_700_000_000_000)
            .single()
            .expect("time");
        let mut record = AuditRecord::finished_now(
            ObjectRef {
                bucket: "uploads".into(),
                key: ObjectKey::new("uploads/images/cat photo.jpg").expect("valid key"),
                version_id: Some("v1".into()),
                etag: None,
                size: Some(2048),
            },
            "thumbnail",
            Status::Failed,
            CorrelationId::from_string("req-1"),
            started,
        );
        record.finished_at = started + chrono::Duration::milliseconds(1234);
        let outcome = record.metric_outcome("prod");
        assert_eq!(
            outcome,
            platform::metrics::Outcome {
                environment: "prod",
                stage: "thumbnail",
                status: "FAILED",
                timestamp_ms: 1_700_000_001_234,
                duration_ms: 1234,
                bytes: Some(2048),
                bucket: "uploads",
                key: "uploads/images/cat photo.jpg",
                correlation_id: "req-1",
            }
        );
    }
}

//! The sweep: records that were claimed and then left, so nothing stays unfinished forever.
//!
//! A delivery that dies holding a claim is normally finished by the next delivery once the
//! claim's lease runs out. When no delivery comes (the event went to a DLQ, the large-file
//! task was stopped, every retry was spent), the record would stay claimed for good and its
//! object would never be announced. The sweep looks for claims older than every redelivery
//! could be and ends each one exactly once:
//! - **applied** (the stage's work and effect are done, only the announcement is missing): it
//!   is announced as recorded;
//! - **claimed** (the effect never happened: a dispatch, a quarantine, the large-file pass):
//!   it is recorded FAILED "abandoned" with what it was, and announced as a failure.
//!
//! Each takeover is conditional on the claim the sweep saw, so a delivery that moves the
//! record meanwhile (or a second sweep) wins and the sweep leaves it alone.

use crate::error::RecordError;
use crate::record::{AuditRecord, Status};
use crate::recorder::{delivery_state, Recorder};
use crate::table::{self, attr, delivery, Item, CLAIMED_AT};
use chrono::{DateTime, Days, Utc};
use serde_json::json;
use std::time::Duration;

/// What the sweep did with one record it found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Swept {
    /// Recorded FAILED "abandoned" and announced.
    Abandoned,
    /// Its outcome was complete but unannounced: announced as recorded.
    Announced,
    /// A delivery (or another sweep) moved it since it was listed: left alone.
    Moved,
}

/// One sweep's work, for its log line and the scheduled function's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    /// `<bucket>/<key> <stage>` of each record recorded FAILED "abandoned".
    pub abandoned: Vec<String>,
    /// Records announced as they were recorded.
    pub announced: Vec<String>,
    /// Records a delivery finished or renewed while the sweep ran.
    pub moved: usize,
    /// Items that could not be read back as records, with why (left for a person).
    pub unreadable: Vec<String>,
}

/// Ends every record claimed before `now - abandoned_after` and not finished since.
/// `abandoned_after` must outlast every redelivery that could still finish it (the stack
/// derives it so; `cli/tests/consistency/sizing.rs` checks it).
pub async fn sweep(
    recorder: &Recorder,
    abandoned_after: Duration,
    now: DateTime<Utc>,
) -> Result<SweepReport, RecordError> {
    let after = chrono::Duration::from_std(abandoned_after).unwrap_or(chrono::Duration::MAX);
    let cutoff = now - after;
    // Items live for the table's retention: no claim older than that is left to find.
    let retention_days = recorder.settings().retention.as_secs().div_ceil(86_400);
    let oldest = cutoff
        .checked_sub_days(Days::new(retention_days))
        .unwrap_or(cutoff);
    let mut report = SweepReport::default();
    for item in recorder.unfinished(oldest, cutoff).await? {
        let label = format!(
            "{}/{} {}",
            table::text(&item, attr::BUCKET).unwrap_or_default(),
            table::text(&item, attr::KEY).unwrap_or_default(),
            table::text(&item, attr::STAGE).unwrap_or_default(),
        );
        match recorder.end_abandoned(&item, now).await {
            Ok(Swept::Abandoned) => report.abandoned.push(label),
            Ok(Swept::Announced) => report.announced.push(label),
            Ok(Swept::Moved) => report.moved += 1,
            Err(RecordError::Unreadable(reason)) => {
                report.unreadable.push(format!("{label}: {reason}"))
            }
            Err(err) => return Err(err),
        }
    }
    Ok(report)
}

/// The FAILED record that replaces `record`, a claim made at `claimed_at` by `worker` that
/// nobody finished.
pub fn abandoned(
    record: AuditRecord,
    worker: &str,
    claimed_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AuditRecord {
    let was = record.status;
    let idle = humantime::format_duration(Duration::from_secs(
        u64::try_from((now - claimed_at).num_seconds()).unwrap_or(0),
    ));
    let mut details = match record.details.clone() {
        Some(serde_json::Value::Object(details)) => details,
        _ => serde_json::Map::new(),
    };
    details.insert(
        "abandoned".into(),
        json!({
            "status": was.as_str(),
            "worker": worker,
            "claimed_at": table::timestamp(claimed_at),
        }),
    );
    let stage = record.stage.clone();
    let mut failed = record
        .with_reason(format!(
            "abandoned: the {stage} stage ({worker}) claimed it at {} as {was} and neither finished \
             nor reported progress for {idle}; no delivery is left to retry it (see the DLQs, or \
             run it again with `triage reprocess`)",
            table::timestamp(claimed_at)
        ))
        .with_details(serde_json::Value::Object(details));
    failed.status = Status::Failed;
    failed.finished_at = now.max(failed.started_at);
    failed
}

impl Recorder {
    /// Items still unannounced whose claim was made in `[from, before)`: the `unfinished`
    /// index, one partition per day.
    pub async fn unfinished(
        &self,
        from: DateTime<Utc>,
        before: DateTime<Utc>,
    ) -> Result<Vec<Item>, RecordError> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let mut found = Vec::new();
        let mut day = from.date_naive();
        while day <= before.date_naive() {
            let mut pages = self
                .dynamodb
                .query()
                .table_name(&self.settings.table)
                .index_name(table::UNFINISHED_INDEX)
                .key_condition_expression("#day = :day AND #claimed_at < :before")
                .expression_attribute_names("#day", table::UNFINISHED_INDEX_KEY)
                .expression_attribute_names("#claimed_at", CLAIMED_AT)
                .expression_attribute_values(
                    ":day",
                    AttributeValue::S(day.format("%Y-%m-%d").to_string()),
                )
                .expression_attribute_values(
                    ":before",
                    AttributeValue::N(before.timestamp_millis().to_string()),
                )
                .into_paginator()
                .items()
                .send();
            while let Some(item) = pages.next().await {
                found.push(item.map_err(|err| RecordError::store("Query", &err))?);
            }
            day = match day.checked_add_days(Days::new(1)) {
                Some(next) => next,
                None => break,
            };
        }
        Ok(found)
    }

    /// Ends one record the sweep found (see the module's documentation).
    pub async fn end_abandoned(
        &self,
        item: &Item,
        now: DateTime<Utc>,
    ) -> Result<Swept, RecordError> {
        let record = table::from_item(item).map_err(RecordError::Unreadable)?;
        let state = delivery_state(item).to_owned();
        if state == delivery::NOTIFIED {
            return Ok(Swept::Moved);
        }
        let claimed_at_ms: i64 = table::number(item, CLAIMED_AT).unwrap_or(0);
        if !self.take_over(&record, &state, claimed_at_ms, now).await? {
            return Ok(Swept::Moved);
        }
        if state == delivery::APPLIED {
            self.complete(&record).await?;
            return Ok(Swept::Announced);
        }
        let worker = table::text(item, attr::WORKER).unwrap_or_else(|| "unknown".into());
        let claimed_at = DateTime::from_timestamp_millis(claimed_at_ms).unwrap_or_default();
        self.finish(&abandoned(record, &worker, claimed_at, now))
            .await?;
        Ok(Swept::Abandoned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use object_events::{CorrelationId, ObjectKey, ObjectRef, Tier};

    #[test]
    fn an_abandoned_record_fails_saying_what_it_was_and_keeps_its_progress() {
        let claimed = Utc
            .with_ymd_and_hms(2026, 12, 1, 10, 0, 0)
            .single()
            .expect("time");
        let now = claimed + chrono::Duration::hours(6) + chrono::Duration::minutes(5);
        let mut stalled = AuditRecord::finished_now(
            ObjectRef {
                bucket: "uploads".into(),
                key: ObjectKey::new("uploads/big/video.mp4").expect("key"),
                version_id: Some("v1".into()),
                etag: None,
                size: Some(3 << 30),
            },
            "large-file",
            Status::InProgress,
            CorrelationId::from_string("c0ffee"),
            claimed - chrono::Duration::minutes(1),
        )
        .with_tier(Some(Tier::Large))
        .with_details(json!({"bytes_done": 1024}));
        stalled.finished_at = claimed;

        let failed = abandoned(stalled.clone(), "large-file", claimed, now);
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(failed.finished_at, now);
        assert_eq!(failed.started_at, stalled.started_at);
        assert_eq!(failed.tier, Some(Tier::Large));
        assert_eq!(
            failed.reason.as_deref(),
            Some(
                "abandoned: the large-file stage (large-file) claimed it at \
                 2026-12-01T10:00:00.000Z as IN_PROGRESS and neither finished nor reported \
                 progress for 6h 5m; no delivery is left to retry it (see the DLQs, or run it \
                 again with `triage reprocess`)"
            )
        );
        assert_eq!(
            failed.details,
            Some(json!({
                "bytes_done": 1024,
                "abandoned": {
                    "status": "IN_PROGRESS",
                    "worker": "large-file",
                    "claimed_at": "2026-12-01T10:00:00.000Z",
                },
            }))
        );
    }
}

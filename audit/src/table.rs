//! The audit table's layout, in one place: the item codec the recorder writes and the table
//! definition tests and local tooling create (terraform declares the same table for AWS).
//!
//! | attribute | role |
//! |---|---|
//! | `pk` = `<bucket>/<key>` | partition key: every version and stage of one object |
//! | `sk` = `<v:versionId or e:eTag>#<stage>[#<run>]` | sort key: one item per version, stage and run; the first run has no suffix, later ones (`triage reprocess`, `rescan`) their run id, which sorts by time |
//! | `status_day` = `<STATUS>#<yyyy-mm-dd>` | GSI `by-status` partition: "what failed today/in the last hour" |
//! | `tier_day` = `<tier>#<yyyy-mm-dd>` | GSI `by-tier` partition: "what went through tier X today" |
//! | `finished_at` (RFC 3339, ms, UTC) | sort key of both GSIs, so time ranges are key conditions |
//! | `expires_at` (epoch seconds) | DynamoDB TTL |
//! | `delivery` = `claimed`/`applied`/`notified`, `claimed_at` (epoch ms) | exactly-once bookkeeping |
//! | `unfinished_day` = `<yyyy-mm-dd>` of `claimed_at` | GSI `unfinished` partition (sort key `claimed_at`), present only until the record is notified: what the sweep finds abandoned |
//! | `run`, `origin` | the run id (absent on the first run) and who announced the object (absent for an upload's own event) |
//! | `superseded_by` | set, and both GSI keys removed, when a later run records the same stage |
//!
//! The day is part of the GSI partition keys so one status or tier never becomes a hot partition.
//! The GSIs are sparse: an item superseded by a later run leaves them, so "what failed in the
//! last hour" lists the latest outcomes only, while the object's history keeps every run; a
//! notified item leaves `unfinished`, so it holds only the records still in flight.

use crate::record::AuditRecord;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use chrono::{DateTime, SecondsFormat, Utc};
use object_events::{CorrelationId, ObjectKey, ObjectRef, Origin, Run, VersionError};
use std::collections::HashMap;
use std::time::Duration;

pub const PARTITION_KEY: &str = "pk";
pub const SORT_KEY: &str = "sk";
pub const STATUS_INDEX: &str = "by-status";
pub const STATUS_INDEX_KEY: &str = "status_day";
pub const TIER_INDEX: &str = "by-tier";
pub const TIER_INDEX_KEY: &str = "tier_day";
pub const INDEX_SORT_KEY: &str = "finished_at";
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// Records not yet notified, by the day they were last claimed, oldest claim first.
pub const UNFINISHED_INDEX: &str = "unfinished";
pub const UNFINISHED_INDEX_KEY: &str = "unfinished_day";
/// Where a record is in claim -> effect -> notification (see [`crate::Recorder`]); one of
/// the [`delivery`] states. Records written without a claim have none and count as notified.
pub const DELIVERY: &str = "delivery";
/// The run that replaced this item's outcome (see [`crate::Recorder::claim`]).
pub const SUPERSEDED_BY: &str = "superseded_by";

pub mod delivery {
    pub const CLAIMED: &str = "claimed";
    pub const APPLIED: &str = "applied";
    pub const NOTIFIED: &str = "notified";
}

/// Names of the plain attributes of an audit item, shared by the writer ([`to_item`]) and
/// the reader ([`crate::query`]).
pub mod attr {
    pub const BUCKET: &str = "bucket";
    pub const KEY: &str = "key";
    pub const STAGE: &str = "stage";
    pub const STATUS: &str = "status";
    pub const STARTED_AT: &str = "started_at";
    pub const DURATION_MS: &str = "duration_ms";
    pub const CORRELATION_ID: &str = "correlation_id";
    pub const WORKER: &str = "worker";
    pub const ENVIRONMENT: &str = "environment";
    pub const OUTPUTS: &str = "outputs";
    pub const TIER: &str = "tier";
    pub const VERSION_ID: &str = "version_id";
    pub const ETAG: &str = "etag";
    pub const REASON: &str = "reason";
    pub const CONTENT_TYPE: &str = "content_type";
    pub const SHA256: &str = "sha256";
    pub const UPLOADED_BY: &str = "uploaded_by";
    pub const SIZE: &str = "size";
    pub const RUN: &str = "run";
    pub const ORIGIN: &str = "origin";
    /// The stage's own details, as a JSON string.
    pub const DETAILS: &str = "details";
}
/// When the record's current delivery claimed it, epoch milliseconds: the sort key of the
/// `unfinished` index.
pub const CLAIMED_AT: &str = "claimed_at";

/// The `unfinished` index's partition for a claim made at `claimed_at_ms`.
pub fn unfinished_day(claimed_at_ms: i64) -> AttributeValue {
    let day = DateTime::<Utc>::from_timestamp_millis(claimed_at_ms)
        .unwrap_or_default()
        .format("%Y-%m-%d");
    s(day.to_string())
}

pub type Item = HashMap<String, AttributeValue>;

/// The primary key of the item for one record.
pub fn item_key(record: &AuditRecord) -> Result<Item, VersionError> {
    Ok(HashMap::from([
        (PARTITION_KEY.to_owned(), s(partition_key(&record.object))),
        (SORT_KEY.to_owned(), s(sort_key(record)?)),
    ]))
}

pub fn partition_key(object: &ObjectRef) -> String {
    format!("{}/{}", object.bucket, object.key)
}

pub fn sort_key(record: &AuditRecord) -> Result<String, VersionError> {
    run_sort_key(&record.object, &record.stage, record.run.id())
}

/// The sort key of `stage`'s item in the run with id `run` (`None`: the first run).
pub fn run_sort_key(
    object: &ObjectRef,
    stage: &str,
    run: Option<&str>,
) -> Result<String, VersionError> {
    let stage_key = format!("{}#{stage}", object.version_token()?);
    Ok(match run {
        None => stage_key,
        Some(run) => format!("{stage_key}#{run}"),
    })
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The full item for a record, written by `worker` in `environment`, kept for `retention`.
pub fn to_item(
    record: &AuditRecord,
    worker: &str,
    environment: &str,
    retention: Duration,
) -> Result<Item, VersionError> {
    let mut item = item_key(record)?;
    let day = record.finished_at.format("%Y-%m-%d");
    let object = &record.object;
    let expires_at =
        record.finished_at.timestamp() + i64::try_from(retention.as_secs()).unwrap_or(i64::MAX / 2);
    let mut put = |name: &str, value: AttributeValue| {
        item.insert(name.to_owned(), value);
    };
    put(attr::BUCKET, s(&object.bucket));
    put(attr::KEY, s(object.key.as_str()));
    put(attr::STAGE, s(&record.stage));
    put(attr::STATUS, s(record.status.as_str()));
    put(STATUS_INDEX_KEY, s(format!("{}#{day}", record.status)));
    put(attr::STARTED_AT, s(timestamp(record.started_at)));
    put(INDEX_SORT_KEY, s(timestamp(record.finished_at)));
    put(attr::DURATION_MS, n(record.duration_ms()));
    put(attr::CORRELATION_ID, s(record.correlation_id.as_str()));
    put(attr::WORKER, s(worker));
    put(attr::ENVIRONMENT, s(environment));
    put(
        attr::OUTPUTS,
        AttributeValue::L(record.outputs.iter().map(s).collect()),
    );
    put(TTL_ATTRIBUTE, n(expires_at));
    if let Some(tier) = record.tier {
        put(attr::TIER, s(tier.as_str()));
        put(TIER_INDEX_KEY, s(format!("{tier}#{day}")));
    }
    let optional = [
        (attr::VERSION_ID, &object.version_id),
        (attr::ETAG, &object.etag),
        (attr::REASON, &record.reason),
        (attr::CONTENT_TYPE, &record.content_type),
        (attr::SHA256, &record.sha256),
        (attr::UPLOADED_BY, &record.uploaded_by),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            put(name, s(value));
        }
    }
    if let Some(size) = object.size {
        put(attr::SIZE, n(size));
    }
    if let Some(run) = record.run.id() {
        put(attr::RUN, s(run));
    }
    if record.origin != Origin::Upload {
        put(attr::ORIGIN, s(record.origin.as_str()));
    }
    if let Some(details) = &record.details {
        put(attr::DETAILS, s(details.to_string()));
    }
    Ok(item)
}

/// The record an item holds, as [`to_item`] wrote it: what the sweep finishes for a delivery
/// that never did. The writer's name and environment are the item's, not the record's.
pub fn from_item(item: &Item) -> Result<AuditRecord, String> {
    let required = |name: &str| text(item, name).ok_or_else(|| format!("the item has no {name}"));
    let time = |name: &str| -> Result<DateTime<Utc>, String> {
        let value = required(name)?;
        DateTime::parse_from_rfc3339(&value)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|err| format!("{name} {value:?}: {err}"))
    };
    let origin = match text(item, attr::ORIGIN) {
        None => Origin::Upload,
        Some(origin) => serde_json::from_value(serde_json::Value::String(origin.clone()))
            .map_err(|_| format!("unknown origin {origin:?}"))?,
    };
    let run = match text(item, attr::RUN) {
        None => Run::first(),
        Some(id) => Run::parse(&id).map_err(|err| err.to_string())?,
    };
    let key = required(attr::KEY)?;
    Ok(AuditRecord {
        object: ObjectRef {
            bucket: required(attr::BUCKET)?,
            key: ObjectKey::new(key.as_str()).map_err(|err| format!("key {key:?}: {err}"))?,
            version_id: text(item, attr::VERSION_ID),
            etag: text(item, attr::ETAG),
            size: number(item, attr::SIZE),
        },
        stage: required(attr::STAGE)?,
        run,
        origin,
        status: required(attr::STATUS)?.parse()?,
        tier: text(item, attr::TIER)
            .map(|tier| tier.parse())
            .transpose()?,
        reason: text(item, attr::REASON),
        content_type: text(item, attr::CONTENT_TYPE),
        sha256: text(item, attr::SHA256),
        outputs: strings(item, attr::OUTPUTS),
        details: text(item, attr::DETAILS)
            .map(|json| serde_json::from_str(&json).map_err(|err| format!("details: {err}")))
            .transpose()?,
        uploaded_by: text(item, attr::UPLOADED_BY),
        started_at: time(attr::STARTED_AT)?,
        finished_at: time(INDEX_SORT_KEY)?,
        correlation_id: CorrelationId::from_string(required(attr::CORRELATION_ID)?),
    })
}

/// A string attribute of an item.
pub(crate) fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|value| value.as_s().ok()).cloned()
}

/// A number attribute of an item.
pub(crate) fn number<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name)
        .and_then(|value| value.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// A list-of-strings attribute of an item (empty when absent).
pub(crate) fn strings(item: &Item, name: &str) -> Vec<String> {
    item.get(name)
        .and_then(|value| value.as_l().ok())
        .map(|list| list.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
        .unwrap_or_default()
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Creates the audit table as terraform declares it (for tests and the local stack).
pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), aws_sdk_dynamodb::Error> {
    let string_attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |name: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
    };
    let index =
        |name: &str, partition: &str, sort: &str| -> Result<GlobalSecondaryIndex, BuildError> {
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(partition, KeyType::Hash)?)
                .key_schema(key(sort, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
        };
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute(PARTITION_KEY)?)
        .attribute_definitions(string_attribute(SORT_KEY)?)
        .attribute_definitions(string_attribute(STATUS_INDEX_KEY)?)
        .attribute_definitions(string_attribute(TIER_INDEX_KEY)?)
        .attribute_definitions(string_attribute(INDEX_SORT_KEY)?)
        .attribute_definitions(string_attribute(UNFINISHED_INDEX_KEY)?)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(CLAIMED_AT)
                .attribute_type(ScalarAttributeType::N)
                .build()?,
        )
        .key_schema(key(PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(SORT_KEY, KeyType::Range)?)
        .global_secondary_indexes(index(STATUS_INDEX, STATUS_INDEX_KEY, INDEX_SORT_KEY)?)
        .global_secondary_indexes(index(TIER_INDEX, TIER_INDEX_KEY, INDEX_SORT_KEY)?)
        .global_secondary_indexes(index(UNFINISHED_INDEX, UNFINISHED_INDEX_KEY, CLAIMED_AT)?)
        .send()
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;
    use chrono::TimeZone;
    use object_events::{CorrelationId, ObjectKey, Tier};

    fn record() -> AuditRecord {
        let started = Utc
            .with_ymd_and_hms(2026, 11, 23, 23, 59, 59)
            .single()
            .expect("valid time");
        let mut record = AuditRecord::finished_now(
            ObjectRef {
                bucket: "uploads".into(),
                key: ObjectKey::new("uploads/images/cat photo.jpg").expect("valid key"),
                version_id: Some("3Lg".into()),
                etag: Some("abc".into()),
                size: Some(42),
            },
            "router",
            Status::Failed,
            CorrelationId::from_string("c0ffee"),
            started,
        )
        .with_tier(Some(Tier::Thumbnail))
        .with_reason("corrupt JPEG")
        .with_outputs(vec!["processed/a.jpg".into()]);
        record.finished_at = started + chrono::Duration::milliseconds(1500);
        record
    }

    fn string(item: &Item, name: &str) -> String {
        match item.get(name) {
            Some(AttributeValue::S(value)) => value.clone(),
            other => panic!("{name}: expected a string, got {other:?}"),
        }
    }

    #[test]
    fn item_keys_serve_the_three_questions() {
        let item =
            to_item(&record(), "router", "dev", Duration::from_secs(86_400)).expect("identifiable");
        assert_eq!(
            string(&item, PARTITION_KEY),
            "uploads/uploads/images/cat photo.jpg"
        );
        assert_eq!(string(&item, SORT_KEY), "v:3Lg#router");
        // Finished after midnight: the record belongs to the day it finished.
        assert_eq!(string(&item, STATUS_INDEX_KEY), "FAILED#2026-11-24");
        assert_eq!(string(&item, TIER_INDEX_KEY), "thumbnail#2026-11-24");
        assert_eq!(string(&item, INDEX_SORT_KEY), "2026-11-24T00:00:00.500Z");
        assert_eq!(string(&item, "reason"), "corrupt JPEG");
        assert_eq!(
            item.get("duration_ms"),
            Some(&AttributeValue::N("1500".into()))
        );
        assert_eq!(item.get("size"), Some(&AttributeValue::N("42".into())));
        let expires = Utc
            .with_ymd_and_hms(2026, 11, 25, 0, 0, 0)
            .single()
            .expect("valid time");
        assert_eq!(
            item.get(TTL_ATTRIBUTE),
            Some(&AttributeValue::N(expires.timestamp().to_string()))
        );
        assert_eq!(
            item.get("outputs"),
            Some(&AttributeValue::L(vec![AttributeValue::S(
                "processed/a.jpg".into()
            )]))
        );
    }

    #[test]
    fn a_later_run_is_its_own_item_beside_the_first() {
        let run = object_events::Run::parse("r20261202T190000-0123abcd").expect("a run id");
        let rerun = record().in_run(run, Origin::Reprocess);
        let item = to_item(&rerun, "router", "dev", Duration::ZERO).expect("identifiable");
        assert_eq!(
            string(&item, SORT_KEY),
            "v:3Lg#router#r20261202T190000-0123abcd"
        );
        assert_eq!(string(&item, attr::RUN), "r20261202T190000-0123abcd");
        assert_eq!(string(&item, attr::ORIGIN), "reprocess");
        let first = to_item(&record(), "router", "dev", Duration::ZERO).expect("identifiable");
        assert!(!first.contains_key(attr::RUN) && !first.contains_key(attr::ORIGIN));
    }

    #[test]
    fn an_item_reads_back_as_the_record_it_was_written_from() {
        let run = object_events::Run::parse("r20261202T190000-0123abcd").expect("a run id");
        for record in [
            record(),
            record()
                .in_run(run, Origin::Reprocess)
                .with_tier(None)
                .with_sha256("ab12")
                .with_content_type("image/jpeg")
                .with_uploaded_by(Some("AWS:AIDA".into()))
                .with_details(serde_json::json!({"width": 64})),
        ] {
            let item = to_item(&record, "router", "dev", Duration::ZERO).expect("identifiable");
            assert_eq!(from_item(&item), Ok(record));
        }
        let mut unknown = to_item(&record(), "router", "dev", Duration::ZERO).expect("item");
        unknown.insert(attr::STATUS.into(), s("DONE"));
        assert!(from_item(&unknown)
            .expect_err("not a status")
            .starts_with("unknown status \"DONE\""));
    }

    #[test]
    fn records_without_a_tier_stay_out_of_the_tier_index() {
        let item = to_item(&record().with_tier(None), "router", "dev", Duration::ZERO)
            .expect("identifiable");
        assert!(!item.contains_key(TIER_INDEX_KEY));
        assert!(!item.contains_key("tier"));
    }
}

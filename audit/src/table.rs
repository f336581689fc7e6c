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
//! | `run`, `origin` | the run id (absent on the first run) and who announced the object (absent for an upload's own event) |
//! | `superseded_by` | set, and both GSI keys removed, when a later run records the same stage |
//!
//! The day is part of the GSI partition keys so one status or tier never becomes a hot partition.
//! The GSIs are sparse: an item superseded by a later run leaves them, so "what failed in the
//! last hour" lists the latest outcomes only, while the object's history keeps every run.

use crate::record::AuditRecord;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use chrono::{DateTime, SecondsFormat, Utc};
use object_events::{ObjectRef, Origin, VersionError};
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
pub(crate) const CLAIMED_AT: &str = "claimed_at";

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
    let index = |name: &str, partition: &str| -> Result<GlobalSecondaryIndex, BuildError> {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(partition, KeyType::Hash)?)
            .key_schema(key(INDEX_SORT_KEY, KeyType::Range)?)
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
        .key_schema(key(PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(SORT_KEY, KeyType::Range)?)
        .global_secondary_indexes(index(STATUS_INDEX, STATUS_INDEX_KEY)?)
        .global_secondary_indexes(index(TIER_INDEX, TIER_INDEX_KEY)?)
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
    fn records_without_a_tier_stay_out_of_the_tier_index() {
        let item = to_item(&record().with_tier(None), "router", "dev", Duration::ZERO)
            .expect("identifiable");
        assert!(!item.contains_key(TIER_INDEX_KEY));
        assert!(!item.contains_key("tier"));
    }
}

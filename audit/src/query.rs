//! Reading the audit trail back: the three questions the table is designed for.

use crate::record::Status;
use crate::table::{
    self, attr, Item, INDEX_SORT_KEY, PARTITION_KEY, STATUS_INDEX, STATUS_INDEX_KEY, TIER_INDEX,
    TIER_INDEX_KEY,
};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Days, Utc};
use object_events::Tier;
use serde::Serialize;

/// One audit item as stored, whichever stage wrote it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub bucket: String,
    pub key: String,
    /// The versionId, or the eTag on unversioned buckets.
    pub version: String,
    pub version_id: Option<String>,
    pub etag: Option<String>,
    pub stage: String,
    /// The run id; `None` for the first run.
    pub run: Option<String>,
    /// Who announced the object (`backfill`, `reprocess`...); `None` for an upload's event.
    pub origin: Option<String>,
    /// The later run whose outcome replaced this one (the item is history).
    pub superseded_by: Option<String>,
    pub status: String,
    pub tier: Option<String>,
    pub reason: Option<String>,
    pub outputs: Vec<String>,
    pub details: Option<serde_json::Value>,
    pub sha256: Option<String>,
    pub content_type: Option<String>,
    pub size: Option<u64>,
    pub duration_ms: Option<u64>,
    pub correlation_id: Option<String>,
    pub uploaded_by: Option<String>,
    pub worker: Option<String>,
    pub environment: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: String,
    /// `notified` once the stage is complete; `claimed`/`applied` while a delivery is still
    /// finishing it (or, after a crash, until a redelivery does).
    pub delivery: Option<String>,
}

impl AuditEntry {
    pub fn is_complete(&self) -> bool {
        self.delivery
            .as_deref()
            .is_none_or(|d| d == table::delivery::NOTIFIED)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("querying audit table {table} failed: {message}")]
pub struct QueryError {
    pub table: String,
    pub message: String,
}

pub struct AuditTrail {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl AuditTrail {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Every stage of every version of one object, oldest first.
    pub async fn object_history(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Vec<AuditEntry>, QueryError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_values(":pk", AttributeValue::S(format!("{bucket}/{key}")));
        let mut entries = self.collect(query).await?;
        entries.sort_by(|a, b| a.finished_at.cmp(&b.finished_at));
        Ok(entries)
    }

    /// Records with `status` that finished at or after `since`, oldest first.
    pub async fn by_status(
        &self,
        status: Status,
        since: DateTime<Utc>,
    ) -> Result<Vec<AuditEntry>, QueryError> {
        self.by_day_index(STATUS_INDEX, STATUS_INDEX_KEY, status.as_str(), since)
            .await
    }

    /// Records of `tier` that finished at or after `since`, oldest first.
    pub async fn by_tier(
        &self,
        tier: Tier,
        since: DateTime<Utc>,
    ) -> Result<Vec<AuditEntry>, QueryError> {
        self.by_day_index(TIER_INDEX, TIER_INDEX_KEY, tier.as_str(), since)
            .await
    }

    /// The day-partitioned indexes hold one partition per value and day: query each day in range.
    async fn by_day_index(
        &self,
        index: &str,
        partition: &str,
        value: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<AuditEntry>, QueryError> {
        let today = Utc::now().date_naive();
        let mut day = since.date_naive();
        let mut entries = Vec::new();
        while day <= today {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("#day = :day AND #at >= :since")
                .expression_attribute_names("#day", partition)
                .expression_attribute_names("#at", INDEX_SORT_KEY)
                .expression_attribute_values(
                    ":day",
                    AttributeValue::S(format!("{value}#{}", day.format("%Y-%m-%d"))),
                )
                .expression_attribute_values(":since", AttributeValue::S(table::timestamp(since)));
            entries.extend(self.collect(query).await?);
            day = match day.checked_add_days(Days::new(1)) {
                Some(next) => next,
                None => break,
            };
        }
        Ok(entries)
    }

    async fn collect(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<AuditEntry>, QueryError> {
        entries(query).await.map_err(|err| QueryError {
            table: self.table.clone(),
            message: DisplayErrorContext(&err).to_string(),
        })
    }
}

/// Every item of every page `query` returns, as entries.
pub(crate) async fn entries(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
) -> Result<
    Vec<AuditEntry>,
    aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::query::QueryError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
> {
    let mut pages = query.into_paginator().items().send();
    let mut entries = Vec::new();
    while let Some(item) = pages.next().await {
        entries.push(entry_from_item(&item?));
    }
    Ok(entries)
}

fn entry_from_item(item: &Item) -> AuditEntry {
    let text = |name: &str| table::text(item, name);
    let number = |name: &str| table::number(item, name);
    let outputs = table::strings(item, attr::OUTPUTS);
    AuditEntry {
        bucket: text(attr::BUCKET).unwrap_or_default(),
        key: text(attr::KEY).unwrap_or_default(),
        version: text(attr::VERSION_ID)
            .or_else(|| text(attr::ETAG))
            .unwrap_or_default(),
        version_id: text(attr::VERSION_ID),
        etag: text(attr::ETAG),
        stage: text(attr::STAGE).unwrap_or_default(),
        run: text(attr::RUN),
        origin: text(attr::ORIGIN),
        superseded_by: text(table::SUPERSEDED_BY),
        status: text(attr::STATUS).unwrap_or_default(),
        tier: text(attr::TIER),
        reason: text(attr::REASON),
        outputs,
        details: text(attr::DETAILS).and_then(|json| serde_json::from_str(&json).ok()),
        sha256: text(attr::SHA256),
        content_type: text(attr::CONTENT_TYPE),
        size: number(attr::SIZE),
        duration_ms: number(attr::DURATION_MS),
        correlation_id: text(attr::CORRELATION_ID),
        uploaded_by: text(attr::UPLOADED_BY),
        worker: text(attr::WORKER),
        environment: text(attr::ENVIRONMENT),
        started_at: text(attr::STARTED_AT),
        finished_at: text(INDEX_SORT_KEY).unwrap_or_default(),
        delivery: text(table::DELIVERY),
    }
}

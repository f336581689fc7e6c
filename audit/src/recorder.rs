use crate::error::RecordError;
use crate::query::{entries, AuditEntry};
use crate::record::AuditRecord;
use crate::table::{
    self, delivery, CLAIMED_AT, DELIVERY, PARTITION_KEY, SORT_KEY, UNFINISHED_INDEX_KEY,
};
use crate::{Notifier, Origin, RecorderSettings};
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use object_events::{ObjectRef, Run};
use platform::metrics;
use std::sync::Arc;

/// The result of [`Recorder::claim`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// First delivery: the caller owns the record and must apply its effect, then complete.
    Fresh,
    /// An earlier delivery claimed the record and stopped before completing it (a crash, a
    /// failed publish). `applied` tells whether its effect (e.g. the dispatch) already happened.
    Resumed { applied: bool },
    /// The record is complete: this delivery is a duplicate and must do nothing.
    AlreadyRecorded,
}

impl Claim {
    pub fn needs_effect(self) -> bool {
        matches!(self, Claim::Fresh | Claim::Resumed { applied: false })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
}

/// Writes audit items and has them announced, exactly once per (object version, stage, run).
///
/// Each item moves `claimed` -> `applied` (when the stage has an effect to guard, such as a
/// dispatch) -> `notified`. Redeliveries that find a finished item stop; ones that find an
/// unfinished item whose claim has expired finish it, so a crash between the write and the
/// publish delays a notification but never loses it. (A crash after the publish and before
/// marking it done can repeat that one notification: SNS has no exactly-once publish.)
#[derive(Clone, Debug)]
pub struct Recorder {
    pub(crate) dynamodb: aws_sdk_dynamodb::Client,
    notifier: Arc<dyn Notifier>,
    pub(crate) settings: RecorderSettings,
}

impl Recorder {
    pub fn new(
        dynamodb: aws_sdk_dynamodb::Client,
        notifier: Arc<dyn Notifier>,
        settings: RecorderSettings,
    ) -> Self {
        Self {
            dynamodb,
            notifier,
            settings,
        }
    }

    pub fn settings(&self) -> &RecorderSettings {
        &self.settings
    }

    /// Records a stage outcome that has no effect of its own to guard: write, then notify.
    /// The item is written applied (nothing is left to do but announce it), so a sweep that
    /// finds it unannounced announces it as it is.
    pub async fn record(&self, record: &AuditRecord) -> Result<Recorded, RecordError> {
        match self.claim_as(record, delivery::APPLIED).await? {
            Claim::AlreadyRecorded => Ok(Recorded::Duplicate),
            Claim::Fresh | Claim::Resumed { .. } => {
                self.complete(record).await?;
                Ok(Recorded::New)
            }
        }
    }

    /// Whether this record's (object version, stage) is already complete: a worker asks before
    /// doing work that a duplicate delivery would only repeat.
    pub async fn is_recorded(&self, record: &AuditRecord) -> Result<bool, RecordError> {
        let existing = self
            .dynamodb
            .get_item()
            .table_name(&self.settings.table)
            .set_key(Some(table::item_key(record)?))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| RecordError::store("GetItem", &err))?;
        Ok(existing
            .item
            .is_some_and(|item| delivery_state(&item) == delivery::NOTIFIED))
    }

    /// Every stage recorded in `run` on `object`'s version whose name starts with
    /// `stage_prefix`, read consistently: what a stage that waits for others (the compliance
    /// verdict) decides on.
    pub async fn version_stages(
        &self,
        object: &ObjectRef,
        run: &Run,
        stage_prefix: &str,
    ) -> Result<Vec<AuditEntry>, RecordError> {
        let mut recorded = self.stages_of_every_run(object, stage_prefix).await?;
        recorded.retain(|entry| entry.run.as_deref() == run.id());
        Ok(recorded)
    }

    async fn stages_of_every_run(
        &self,
        object: &ObjectRef,
        stage_prefix: &str,
    ) -> Result<Vec<AuditEntry>, RecordError> {
        let sk_prefix = format!("{}#{stage_prefix}", object.version_token()?);
        let query = self
            .dynamodb
            .query()
            .table_name(&self.settings.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#sk", SORT_KEY)
            .expression_attribute_values(":pk", AttributeValue::S(table::partition_key(object)))
            .expression_attribute_values(":prefix", AttributeValue::S(sk_prefix))
            .consistent_read(true);
        entries(query)
            .await
            .map_err(|err| RecordError::store("Query", &err))
    }

    /// Takes the earlier runs' items of the record's stage out of both GSIs (they stay in the
    /// object's history, marked `superseded_by`), so the status and tier queries answer with
    /// the latest outcome. Idempotent: a takeover of the claim does it again.
    async fn supersede_earlier_runs(&self, record: &AuditRecord) -> Result<(), RecordError> {
        let Some(run) = record.run.id() else {
            return Ok(());
        };
        let earlier = self
            .stages_of_every_run(&record.object, &record.stage)
            .await?
            .into_iter()
            .filter(|entry| {
                entry.stage == record.stage
                    && entry.superseded_by.is_none()
                    && entry.run.as_deref().is_none_or(|other| other < run)
            });
        for entry in earlier {
            let sort_key =
                table::run_sort_key(&record.object, &record.stage, entry.run.as_deref())?;
            self.dynamodb
                .update_item()
                .table_name(&self.settings.table)
                .key(
                    PARTITION_KEY,
                    AttributeValue::S(table::partition_key(&record.object)),
                )
                .key(SORT_KEY, AttributeValue::S(sort_key))
                .update_expression("SET #superseded = :run REMOVE #status_day, #tier_day")
                .condition_expression("attribute_exists(#pk)")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_names("#superseded", table::SUPERSEDED_BY)
                .expression_attribute_names("#status_day", table::STATUS_INDEX_KEY)
                .expression_attribute_names("#tier_day", table::TIER_INDEX_KEY)
                .expression_attribute_values(":run", AttributeValue::S(run.to_owned()))
                .send()
                .await
                .map_err(|err| RecordError::store("UpdateItem", &err))?;
        }
        Ok(())
    }

    /// Writes the record if it is new, or takes over an abandoned one; the caller applies
    /// its effect ([`Claim::needs_effect`]) before completing it.
    pub async fn claim(&self, record: &AuditRecord) -> Result<Claim, RecordError> {
        self.claim_as(record, delivery::CLAIMED).await
    }

    /// [`Self::claim`], a new item written in delivery `state`.
    async fn claim_as(&self, record: &AuditRecord, state: &str) -> Result<Claim, RecordError> {
        let now = Utc::now();
        let item = self.item(record, state, now.timestamp_millis())?;
        let written = self
            .dynamodb
            .put_item()
            .table_name(&self.settings.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .send()
            .await;
        match written {
            Ok(_) => {
                self.supersede_earlier_runs(record).await?;
                return Ok(Claim::Fresh);
            }
            Err(err) if condition_failed(&err) => {}
            Err(err) => return Err(RecordError::store("PutItem", &err)),
        }

        let existing = self
            .dynamodb
            .get_item()
            .table_name(&self.settings.table)
            .set_key(Some(table::item_key(record)?))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| RecordError::store("GetItem", &err))?;
        let existing = existing.item.unwrap_or_default();
        let found = delivery_state(&existing);
        if found == delivery::NOTIFIED {
            return Ok(Claim::AlreadyRecorded);
        }
        let claimed_at: i64 = table::number(&existing, CLAIMED_AT).unwrap_or(0);
        let lease_ms = i64::try_from(self.settings.claim_lease.as_millis()).unwrap_or(i64::MAX);
        if claimed_at.saturating_add(lease_ms) > now.timestamp_millis()
            || !self.take_over(record, found, claimed_at, now).await?
        {
            return Err(self.in_progress(record));
        }
        self.supersede_earlier_runs(record).await?;
        Ok(Claim::Resumed {
            applied: found == delivery::APPLIED,
        })
    }

    /// Rewrites a claimed, unfinished record (an IN_PROGRESS one with fresh progress in its
    /// details) and renews the claim, so a long-running stage keeps its lease while it reports.
    pub async fn progress(&self, record: &AuditRecord) -> Result<(), RecordError> {
        self.overwrite(
            record,
            delivery::CLAIMED,
            "#delivery = :expected",
            delivery::CLAIMED,
        )
        .await
    }

    /// Replaces a claimed record by its final outcome, then publishes it and marks it done.
    pub async fn finish(&self, record: &AuditRecord) -> Result<(), RecordError> {
        self.overwrite(
            record,
            delivery::APPLIED,
            "#delivery <> :expected",
            delivery::NOTIFIED,
        )
        .await?;
        self.complete(record).await
    }

    /// Puts the whole item for `record` in delivery `state`, claimed now, if the item exists
    /// and `condition` on its delivery state (`:expected` standing for `expected`) holds.
    async fn overwrite(
        &self,
        record: &AuditRecord,
        state: &str,
        condition: &str,
        expected: &str,
    ) -> Result<(), RecordError> {
        let item = self.item(record, state, Utc::now().timestamp_millis())?;
        let written = self
            .dynamodb
            .put_item()
            .table_name(&self.settings.table)
            .set_item(Some(item))
            .condition_expression(format!("attribute_exists(#pk) AND {condition}"))
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#delivery", DELIVERY)
            .expression_attribute_values(":expected", AttributeValue::S(expected.into()))
            .send()
            .await;
        match written {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Err(RecordError::NotClaimed {
                object: record.object.to_string(),
                stage: record.stage.clone(),
            }),
            Err(err) => Err(RecordError::store("PutItem", &err)),
        }
    }

    /// The full audit item for `record`, in delivery `state`, claimed at `claimed_at_ms`.
    fn item(
        &self,
        record: &AuditRecord,
        state: &str,
        claimed_at_ms: i64,
    ) -> Result<table::Item, RecordError> {
        let mut item = table::to_item(
            record,
            &self.settings.worker,
            &self.settings.environment,
            self.settings.retention,
        )?;
        item.insert(DELIVERY.into(), AttributeValue::S(state.into()));
        item.insert(
            CLAIMED_AT.into(),
            AttributeValue::N(claimed_at_ms.to_string()),
        );
        item.insert(
            UNFINISHED_INDEX_KEY.into(),
            table::unfinished_day(claimed_at_ms),
        );
        Ok(item)
    }

    /// Notes that the claimed record's effect happened, so a takeover does not repeat it.
    pub async fn mark_applied(&self, record: &AuditRecord) -> Result<(), RecordError> {
        self.set_delivery(record, delivery::APPLIED, None).await
    }

    /// Gives up a claim after the effect failed, so the next delivery can retry at once: the
    /// claim is dated one lease back (not to zero, which the sweep would take for ancient).
    pub async fn release(&self, record: &AuditRecord) -> Result<(), RecordError> {
        let lease_ms = i64::try_from(self.settings.claim_lease.as_millis()).unwrap_or(i64::MAX);
        let expired = Utc::now().timestamp_millis().saturating_sub(lease_ms);
        self.set_delivery(record, delivery::CLAIMED, Some(expired))
            .await
    }

    /// Announces the record and marks it done.
    pub async fn complete(&self, record: &AuditRecord) -> Result<(), RecordError> {
        let origin = Origin {
            worker: &self.settings.worker,
            environment: &self.settings.environment,
        };
        self.notifier.notify(record, origin).await?;
        if self.settings.emit_metrics {
            metrics::emit(&record.metric_outcome(&self.settings.environment));
        }
        self.set_delivery(record, delivery::NOTIFIED, None).await
    }

    async fn set_delivery(
        &self,
        record: &AuditRecord,
        state: &str,
        claimed_at: Option<i64>,
    ) -> Result<(), RecordError> {
        let mut update = self
            .dynamodb
            .update_item()
            .table_name(&self.settings.table)
            .set_key(Some(table::item_key(record)?))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#delivery", DELIVERY)
            .expression_attribute_values(":state", AttributeValue::S(state.into()));
        update = match claimed_at {
            Some(ms) => update
                .update_expression(
                    "SET #delivery = :state, #claimed_at = :claimed_at, #unfinished_day = :day",
                )
                .expression_attribute_names("#claimed_at", CLAIMED_AT)
                .expression_attribute_names("#unfinished_day", UNFINISHED_INDEX_KEY)
                .expression_attribute_values(":claimed_at", AttributeValue::N(ms.to_string()))
                .expression_attribute_values(":day", table::unfinished_day(ms)),
            // Announced: out of the index of what is still in flight.
            None if state == delivery::NOTIFIED => update
                .update_expression("SET #delivery = :state REMOVE #unfinished_day")
                .expression_attribute_names("#unfinished_day", UNFINISHED_INDEX_KEY),
            None => update.update_expression("SET #delivery = :state"),
        };
        update
            .send()
            .await
            .map_err(|err| RecordError::store("UpdateItem", &err))?;
        Ok(())
    }

    /// Takes over the claim on `record`'s item if it is still the one seen (in delivery
    /// `state`, claimed at `claimed_at_ms`): a redelivery's way in once the lease has run out,
    /// and the sweep's. A delivery that moved the item since (renewed its claim, or noted its
    /// effect applied) keeps it.
    pub(crate) async fn take_over(
        &self,
        record: &AuditRecord,
        state: &str,
        claimed_at_ms: i64,
        now: chrono::DateTime<Utc>,
    ) -> Result<bool, RecordError> {
        let now_ms = now.timestamp_millis();
        let taken = self
            .dynamodb
            .update_item()
            .table_name(&self.settings.table)
            .set_key(Some(table::item_key(record)?))
            .update_expression("SET #claimed_at = :now, #unfinished_day = :day")
            .condition_expression("#claimed_at = :seen AND #delivery = :state")
            .expression_attribute_names("#claimed_at", CLAIMED_AT)
            .expression_attribute_names("#unfinished_day", UNFINISHED_INDEX_KEY)
            .expression_attribute_names("#delivery", DELIVERY)
            .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
            .expression_attribute_values(":day", table::unfinished_day(now_ms))
            .expression_attribute_values(":seen", AttributeValue::N(claimed_at_ms.to_string()))
            .expression_attribute_values(":state", AttributeValue::S(state.into()))
            .send()
            .await;
        match taken {
            Ok(_) => Ok(true),
            Err(err) if condition_failed(&err) => Ok(false),
            Err(err) => Err(RecordError::store("UpdateItem", &err)),
        }
    }

    fn in_progress(&self, record: &AuditRecord) -> RecordError {
        RecordError::InProgress {
            object: record.object.to_string(),
            stage: record.stage.clone(),
        }
    }
}

/// Items written without a claim carry no state and count as notified.
pub(crate) fn delivery_state(item: &table::Item) -> &str {
    match item.get(DELIVERY) {
        Some(AttributeValue::S(state)) => state,
        _ => delivery::NOTIFIED,
    }
}

fn condition_failed<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    err.as_service_error().and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

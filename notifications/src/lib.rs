//! The notifications users subscribe to: every outcome the audit trail records is published
//! once to the SNS notifications topic, with message attributes that subscription filter
//! policies match on (`status`, `outcome`, `stage`, `tier`, ...; named filters in
//! `filters.json`), as a message per protocol ([`Message`]): a summary for e-mail, the record as
//! versioned JSON for everything else. [`SnsNotifier`] is the audit trail's
//! [`Notifier`](audit::Notifier) in every deployment.

pub mod filters;
mod message;

pub use message::{printable, Message, MAX_SUBJECT_CHARS, SCHEMA, SCHEMA_DOCUMENT};

use audit::{
    AuditRecord, Notifier, NotifyError, Origin, Recorder, RecorderSettings, VERDICT_STAGE,
};
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;
use std::collections::HashMap;
use std::sync::Arc;

/// Publishes each recorded outcome to one SNS topic.
#[derive(Clone, Debug)]
pub struct SnsNotifier {
    sns: aws_sdk_sns::Client,
    topic_arn: String,
    /// Named in the e-mail's `triage audit` command.
    audit_table: String,
}

impl SnsNotifier {
    /// The recorder every binary uses: the audit table through DynamoDB, announcements to the
    /// settings' topic, both clients from `aws`.
    pub fn recorder(aws: &aws_config::SdkConfig, settings: RecorderSettings) -> Recorder {
        let notifier = SnsNotifier {
            sns: aws_sdk_sns::Client::new(aws),
            topic_arn: settings.topic_arn.clone(),
            audit_table: settings.table.clone(),
        };
        Recorder::new(
            aws_sdk_dynamodb::Client::new(aws),
            Arc::new(notifier),
            settings,
        )
    }
}

#[async_trait::async_trait]
impl Notifier for SnsNotifier {
    async fn notify(&self, record: &AuditRecord, origin: Origin<'_>) -> Result<(), NotifyError> {
        let message = Message::compose(record, origin, &self.audit_table);
        let mut publish = self
            .sns
            .publish()
            .topic_arn(&self.topic_arn)
            .message_structure("json")
            .message(message.structured())
            .subject(message.subject);
        for (name, value) in attributes(record, origin.environment) {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|err| NotifyError {
                    message: err.to_string(),
                    transient: false,
                })?;
            publish = publish.message_attributes(name, attribute);
        }
        publish.send().await.map_err(|err| NotifyError {
            message: DisplayErrorContext(&err).to_string(),
            transient: platform::is_transient(&err),
        })?;
        Ok(())
    }
}

/// SNS attributes a subscription filter policy can match on (values must be non-empty).
/// The reason is cut to stay well inside SNS's limits and readable in an email subject line.
fn attributes(record: &AuditRecord, environment: &str) -> HashMap<&'static str, String> {
    const MAX_REASON_CHARS: usize = 512;
    let mut attributes = HashMap::from([
        ("status", record.status.as_str().to_owned()),
        ("outcome", record.status.outcome().to_owned()),
        ("stage", record.stage.clone()),
        ("bucket", record.object.bucket.clone()),
        ("key", record.object.key.to_string()),
        ("environment", environment.to_owned()),
    ]);
    if let Some(tier) = record.tier {
        attributes.insert("tier", tier.as_str().to_owned());
    }
    if let Some(reason) = &record.reason {
        attributes.insert("reason", reason.chars().take(MAX_REASON_CHARS).collect());
    }
    // Only a verdict has it: `{"verdict": ["INFECTED"]}` subscribes to malware found, not to
    // each check.
    if record.stage == VERDICT_STAGE {
        attributes.insert("verdict", record.status.as_str().to_owned());
    }
    attributes.retain(|_, value| !value.is_empty());
    attributes
}

#[cfg(test)]
mod tests {
    use super::*;
    use audit::Status;
    use chrono::Utc;
    use object_events::{CorrelationId, ObjectKey, ObjectRef};

    fn record(stage: &str, status: Status) -> AuditRecord {
        let object = ObjectRef {
            bucket: "uploads".into(),
            key: ObjectKey::new("uploads/compliance/a.txt").expect("key"),
            version_id: Some("v1".into()),
            etag: None,
            size: Some(1),
        };
        AuditRecord::finished_now(
            object,
            stage,
            status,
            CorrelationId::from_string("c"),
            Utc::now(),
        )
        .with_reason("malware: signatures matched: Eicar-Test-Signature")
    }

    #[test]
    fn a_verdict_carries_a_verdict_attribute_and_a_check_does_not() {
        let verdict = attributes(&record("compliance", Status::Infected), "prod");
        assert_eq!(verdict["verdict"], "INFECTED");
        assert_eq!(verdict["outcome"], "failure");
        assert_eq!(verdict["stage"], "compliance");
        let check = attributes(&record("compliance.malware", Status::Infected), "prod");
        assert!(!check.contains_key("verdict"));
    }
}

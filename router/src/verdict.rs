//! The router's verdict on one message, before any AWS call. The handler acts on it and
//! `triage route` prints it, so the dry run cannot drift from what the router does.

use crate::policy::{Decision, RoutingPolicy};
use object_events::{normalise_json, ObjectRef, RecordOutcome, S3Object};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Acknowledged with no record: `s3:TestEvent`, or an event that is not ObjectCreated.
    Dropped { why: String },
    /// Names its object but cannot be routed (no size, say): recorded REJECTED.
    Invalid { object: ObjectRef, reason: String },
    /// A created object and what the policy decided for it.
    Decided {
        object: S3Object,
        decision: Decision,
    },
}

/// Judges every record of one message body. `Err` means the whole message fails (it is
/// retried, then lands in the DLQ): the body is not an S3 event in any envelope we know, or a
/// record does not even say which object it is about.
pub fn judge(policy: &RoutingPolicy, body: &str) -> Result<Vec<Verdict>, String> {
    normalise_json(body)
        .map_err(|err| err.to_string())?
        .into_iter()
        .map(|outcome| match outcome {
            RecordOutcome::TestEvent => Ok(Verdict::Dropped {
                why: "s3:TestEvent: acknowledged and dropped".into(),
            }),
            RecordOutcome::NotCreated { event_name } => Ok(Verdict::Dropped {
                why: format!("{event_name} is not an ObjectCreated event"),
            }),
            RecordOutcome::Invalid(invalid) => match invalid.object {
                Some(object) => Ok(Verdict::Invalid {
                    object,
                    reason: invalid.reason,
                }),
                None => Err(format!("unidentifiable S3 record: {}", invalid.reason)),
            },
            RecordOutcome::Created(object) => {
                let decision = policy.route(&object.bucket, &object.key, object.size);
                Ok(Verdict::Decided { object, decision })
            }
        })
        .collect()
}

/// Whether a Lambda payload is an SQS batch (judged message by message) rather than one S3 or
/// SNS event.
pub fn is_sqs_batch(event: &Value) -> bool {
    event
        .pointer("/Records/0/eventSource")
        .and_then(Value::as_str)
        .is_some_and(|source| source == "aws:sqs")
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_events::Tier;

    fn policy() -> RoutingPolicy {
        RoutingPolicy::new(
            RoutingPolicy::default_rules(),
            crate::policy::DEFAULT_RESERVED_PREFIX,
            crate::policy::DEFAULT_LARGE_LIMIT,
        )
        .expect("the default rules are valid")
    }

    fn s3_event(event_name: &str, object: Value) -> String {
        serde_json::json!({ "Records": [{
            "eventSource": "aws:s3", "eventName": event_name,
            "s3": { "bucket": { "name": "uploads-bucket" }, "object": object }
        }]})
        .to_string()
    }

    #[test]
    fn a_created_object_carries_the_policy_decision() {
        let body = s3_event(
            "ObjectCreated:Put",
            serde_json::json!({ "key": "uploads/documents/a+b.pdf", "size": 10, "eTag": "e1" }),
        );
        let verdicts = judge(&policy(), &body).expect("a valid event");
        let [Verdict::Decided { object, decision }] = verdicts.as_slice() else {
            panic!("expected one decision, got {verdicts:?}");
        };
        assert_eq!(object.key.as_str(), "uploads/documents/a b.pdf");
        assert!(
            matches!(
                decision,
                Decision::Route {
                    tier: Tier::Document,
                    ..
                }
            ),
            "{decision:?}"
        );
    }

    #[test]
    fn removals_are_dropped_and_sizeless_records_invalid() {
        let removed = s3_event(
            "ObjectRemoved:Delete",
            serde_json::json!({ "key": "uploads/x" }),
        );
        assert!(matches!(
            judge(&policy(), &removed).expect("valid").as_slice(),
            [Verdict::Dropped { why }] if why.contains("ObjectRemoved:Delete")
        ));
        let sizeless = s3_event(
            "ObjectCreated:Put",
            serde_json::json!({ "key": "uploads/x.pdf", "eTag": "e1" }),
        );
        assert!(matches!(
            judge(&policy(), &sizeless).expect("valid").as_slice(),
            [Verdict::Invalid { object, .. }] if object.key.as_str() == "uploads/x.pdf"
        ));
    }

    #[test]
    fn a_record_without_a_key_fails_its_message() {
        let body = s3_event("ObjectCreated:Put", serde_json::json!({ "size": 3 }));
        assert!(judge(&policy(), &body).is_err());
        assert!(judge(&policy(), "not json").is_err());
    }

    #[test]
    fn sqs_batches_are_told_from_direct_events() {
        let batch = serde_json::json!({ "Records": [{ "eventSource": "aws:sqs", "body": "{}" }] });
        let direct = serde_json::json!({ "Records": [{ "eventSource": "aws:s3" }] });
        assert!(is_sqs_batch(&batch));
        assert!(!is_sqs_batch(&direct));
    }
}

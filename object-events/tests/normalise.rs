use object_events::{
    normalise, normalise_json, EnvelopeError, ObjectKey, Origin, RecordOutcome, Run, S3Object,
};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../samples/events")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn created(outcomes: &[RecordOutcome]) -> Vec<&S3Object> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            RecordOutcome::Created(object) => Some(object),
            _ => None,
        })
        .collect()
}

#[test]
fn every_envelope_of_the_same_event_yields_the_same_object() {
    let direct = normalise_json(&fixture("s3-put.json")).expect("direct event");
    let objects = created(&direct);
    assert_eq!(objects.len(), 1);
    let object = objects[0];
    assert_eq!(object.bucket, "triage-uploads-dev");
    assert_eq!(
        object.key.as_str(),
        "uploads/images/cat photo + friends.jpg"
    );
    assert_eq!(object.raw_key, "uploads/images/cat+photo+%2B+friends.jpg");
    assert_eq!(object.size, 1234);
    assert_eq!(
        object.etag.as_deref(),
        Some("0123456789abcdef0123456789abcdef")
    );
    assert_eq!(object.version_id.as_deref(), Some("3Lg7sFzZ8vK1"));
    assert_eq!(object.sequencer.as_deref(), Some("0062A3B1C2D3E4F5A6"));
    assert_eq!(object.event_name, "ObjectCreated:Put");
    assert_eq!(object.uploaded_by.as_deref(), Some("AWS:AIDAEXAMPLE"));
    assert_eq!(
        object.event_time.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-23T09:15:02.123+00:00")
    );

    for envelope in ["sqs-s3-put.json", "sns-s3-put.json", "sqs-sns-s3-put.json"] {
        assert_eq!(
            normalise_json(&fixture(envelope)).expect(envelope),
            direct,
            "{envelope}"
        );
    }
}

#[test]
fn an_eventbridge_event_yields_the_object_its_notification_would() {
    let from_notification = normalise_json(&fixture("s3-put.json")).expect("notification");
    let bridged = normalise_json(&fixture("eventbridge-object-created.json")).expect("event");
    let [RecordOutcome::Created(object)] = bridged.as_slice() else {
        panic!("not one created object: {bridged:?}");
    };
    let [RecordOutcome::Created(notified)] = from_notification.as_slice() else {
        panic!("not one created object: {from_notification:?}");
    };
    // EventBridge carries the key as it is, not form-encoded.
    assert_eq!(object.raw_key, "uploads/images/cat photo + friends.jpg");
    assert_eq!(object.uploaded_by.as_deref(), Some("123456789012"));
    assert_eq!(
        object.event_time.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-23T09:15:02+00:00")
    );
    let same_fields = |o: &S3Object| {
        (
            o.bucket.clone(),
            o.key.clone(),
            o.size,
            o.etag.clone(),
            o.version_id.clone(),
            o.sequencer.clone(),
            o.event_name.clone(),
            o.origin,
            o.run.clone(),
        )
    };
    assert_eq!(same_fields(object), same_fields(notified));

    // What an EventBridge rule's SQS target receives, inside Lambda's SQS event.
    let body = fixture("eventbridge-object-created.json");
    let in_sqs = json!({"Records": [{"eventSource": "aws:sqs", "body": body}]});
    assert_eq!(normalise(&in_sqs).expect("SQS event"), bridged);
}

#[test]
fn eventbridge_events_other_than_created_and_without_fields_are_named() {
    let event = |detail_type: &str, object: Value| {
        json!({"source": "aws.s3", "detail-type": detail_type,
               "detail": {"bucket": {"name": "b"}, "object": object}})
    };
    assert_eq!(
        normalise(&event("Object Deleted", json!({"key": "k"}))).expect("event"),
        [RecordOutcome::NotCreated {
            event_name: "Object Deleted".into()
        }]
    );
    let invalid = |object: Value| match normalise(&event("Object Created", object))
        .expect("event")
        .as_slice()
    {
        [RecordOutcome::Invalid(invalid)] => invalid.clone(),
        other => panic!("not invalid: {other:?}"),
    };
    assert_eq!(
        invalid(json!({"size": 1})).reason,
        "EventBridge event in bucket b has no detail.object.key"
    );
    let no_size = invalid(json!({"key": "a b", "etag": "e"}));
    assert_eq!(
        no_size.reason,
        "EventBridge event has no detail.object.size"
    );
    let object = no_size.object.expect("identifiable by its eTag");
    assert_eq!(object.key.as_str(), "a b");
    assert!(invalid(json!({"key": "k", "size": "big"}))
        .reason
        .starts_with("EventBridge event has a field of the wrong type"));
}

#[test]
fn the_emulators_eventbridge_shape_parses() {
    // moto writes `eTag`, a numeric `time` and `reason` without the API's name.
    let moto = json!({"source": "aws.s3", "detail-type": "Object Created", "time": 1.7e9,
        "detail": {"bucket": {"name": "b"}, "reason": "ObjectCreated",
                   "object": {"key": "uploads/a+b.txt", "size": 3, "eTag": "abc", "version-id": "v1"}}});
    let outcomes = normalise(&moto).expect("event");
    let [RecordOutcome::Created(object)] = outcomes.as_slice() else {
        panic!("not created: {outcomes:?}");
    };
    assert_eq!(object.key.as_str(), "uploads/a+b.txt");
    assert_eq!(object.etag.as_deref(), Some("abc"));
    assert_eq!(object.version_id.as_deref(), Some("v1"));
    assert_eq!(object.event_time, None);
}

#[test]
fn emulator_events_without_identity_fields_parse_and_decode_slashes() {
    let outcomes = normalise_json(&fixture("moto-s3-put.json")).expect("moto event");
    let objects = created(&outcomes);
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].key.as_str(), "uploads/documents/日本 été.pdf");
    assert_eq!(objects[0].version_id, None);
}

#[test]
fn every_record_is_handled_in_order() {
    let outcomes = normalise_json(&fixture("s3-multi-record.json")).expect("event");
    let keys: Vec<&str> = created(&outcomes).iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        ["uploads/images/a.png", "uploads/documents/report 2026.pdf"]
    );
    assert_eq!(
        outcomes[2],
        RecordOutcome::NotCreated {
            event_name: "ObjectRemoved:Delete".into()
        }
    );
}

#[test]
fn test_events_are_recognised_in_any_envelope() {
    let test_event = fixture("s3-test-event.json");
    assert_eq!(
        normalise_json(&test_event),
        Ok(vec![RecordOutcome::TestEvent])
    );
    let in_sqs = json!({"Records": [{"eventSource": "aws:sqs", "body": test_event}]});
    assert_eq!(normalise(&in_sqs), Ok(vec![RecordOutcome::TestEvent]));
}

#[test]
fn records_missing_required_fields_are_invalid_with_reasons() {
    let outcomes = normalise_json(&fixture("s3-missing-fields.json")).expect("event");
    let [RecordOutcome::Invalid(no_size), RecordOutcome::Invalid(no_bucket)] = outcomes.as_slice()
    else {
        panic!("expected two invalid records, got {outcomes:?}");
    };
    assert_eq!(no_size.reason, "S3 record has no s3.object.size");
    let object = no_size
        .object
        .as_ref()
        .expect("identifiable despite the missing size");
    assert_eq!(object.key.as_str(), "uploads/images/no-size.png");
    assert_eq!(no_bucket.reason, "S3 record has no s3.bucket.name");
    assert_eq!(no_bucket.object, None);
}

#[test]
fn wrong_types_and_bad_keys_are_invalid_not_panics() {
    let event = json!({"Records": [
        {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": "k", "size": "12"}}},
        {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": "", "size": 1}}},
        {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": "%FF", "size": 1}}},
        {"s3": {}},
        42
    ]});
    let outcomes = normalise(&event).expect("envelope is fine");
    let reasons: Vec<String> = outcomes
        .iter()
        .map(|o| match o {
            RecordOutcome::Invalid(invalid) => invalid.reason.clone(),
            other => panic!("expected invalid, got {other:?}"),
        })
        .collect();
    assert!(reasons[0].contains("wrong type"), "{}", reasons[0]);
    assert_eq!(reasons[1], "S3 record in bucket b: object key is empty");
    assert!(reasons[2].contains("UTF-8"), "{}", reasons[2]);
    assert_eq!(reasons[3], "S3 record has no eventName");
    assert!(reasons[4].contains("wrong type"), "{}", reasons[4]);
}

#[test]
fn malformed_envelopes_are_errors() {
    assert!(matches!(
        normalise_json("not json {"),
        Err(EnvelopeError::NotJson(_))
    ));
    assert!(matches!(
        normalise_json("[1,2]"),
        Err(EnvelopeError::Unrecognised(_))
    ));
    assert!(matches!(
        normalise_json(r#"{"hello":1}"#),
        Err(EnvelopeError::Unrecognised(_))
    ));
    assert!(matches!(
        normalise_json(r#"{"Records":{}}"#),
        Err(EnvelopeError::Unrecognised(_))
    ));
    let mut nested = json!({"Records": []});
    for _ in 0..8 {
        nested = json!({"Type": "Notification", "Message": nested.to_string()});
    }
    assert_eq!(normalise(&nested), Err(EnvelopeError::TooDeep));
}

/// Encodes a key as S3 does in events; `encode_slash` mimics emulators that also encode `/`.
fn encode_like_s3(key: &str, encode_slash: bool) -> String {
    let encoded = ObjectKey::new(key)
        .expect("a valid key")
        .to_event_encoding();
    if encode_slash {
        encoded.replace('/', "%2F")
    } else {
        encoded
    }
}

fn s3_event(raw_key: &str, size: u64) -> Value {
    json!({"Records": [{
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "b"}, "object": {"key": raw_key, "size": size, "eTag": "e"}}
    }]})
}

fn wrap(event: Value, envelope: u8) -> Value {
    let sns = |message: &Value| json!({"Type": "Notification", "Message": message.to_string()});
    let sqs = |body: String| json!({"Records": [{"eventSource": "aws:sqs", "body": body}]});
    match envelope {
        0 => event,
        1 => sqs(event.to_string()),
        2 => json!({"Records": [{"EventSource": "aws:sns", "Sns": sns(&event)}]}),
        _ => sqs(sns(&event).to_string()),
    }
}

fn awkward_key() -> impl Strategy<Value = String> {
    let awkward_char = prop_oneof![
        Just('+'),
        Just(' '),
        Just('/'),
        Just('%'),
        Just('&'),
        Just('='),
        Just('é'),
        Just('🐱'),
        any::<char>().prop_filter("S3 keys are UTF-8 text", |c| *c != '\0'),
    ];
    proptest::collection::vec(awkward_char, 1..400)
        .prop_map(|chars| chars.into_iter().collect::<String>())
        .prop_filter("S3 keys are at most 1024 bytes", |k| {
            k.len() <= object_events::MAX_KEY_BYTES
        })
}

proptest! {
    #[test]
    fn any_key_survives_encoding_in_any_envelope(
        key in awkward_key(),
        size in 1u64..=5 * 1024 * 1024 * 1024,
        encode_slash in any::<bool>(),
        envelope in 0u8..4,
    ) {
        let raw_key = encode_like_s3(&key, encode_slash);
        let outcomes = normalise(&wrap(s3_event(&raw_key, size), envelope)).expect("valid envelope");
        prop_assert_eq!(outcomes.len(), 1);
        let RecordOutcome::Created(object) = &outcomes[0] else {
            return Err(TestCaseError::fail(format!("not created: {:?}", outcomes[0])));
        };
        prop_assert_eq!(object.key.as_str(), key.as_str());
        prop_assert_eq!(&object.raw_key, &raw_key);
        prop_assert_eq!(object.size, size);
    }

    #[test]
    fn any_key_survives_an_eventbridge_event_direct_or_in_sqs(
        key in awkward_key(),
        size in 0u64..=5 * 1024 * 1024 * 1024,
        in_sqs in any::<bool>(),
    ) {
        let event = json!({"source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": "b"}, "reason": "CompleteMultipartUpload",
                       "object": {"key": key, "size": size, "etag": "e", "version-id": "v"}}});
        let event = if in_sqs { wrap(event, 1) } else { event };
        let outcomes = normalise(&event).expect("valid envelope");
        prop_assert_eq!(outcomes.len(), 1);
        let RecordOutcome::Created(object) = &outcomes[0] else {
            return Err(TestCaseError::fail(format!("not created: {:?}", outcomes[0])));
        };
        prop_assert_eq!(object.key.as_str(), key.as_str());
        prop_assert_eq!(&object.raw_key, &key);
        prop_assert_eq!(object.size, size);
        prop_assert_eq!(object.version_id.as_deref(), Some("v"));
        prop_assert_eq!(object.event_name.as_str(), "ObjectCreated:CompleteMultipartUpload");
    }

    #[test]
    fn arbitrary_json_never_panics(body in "\\PC{0,200}") {
        let _ = normalise_json(&body);
    }
}

#[test]
fn a_1024_byte_key_of_multibyte_characters_is_accepted() {
    let key = format!("uploads/{}", "日".repeat((1024 - 8) / 3)) + "ab";
    assert_eq!(key.len(), 1024);
    let outcomes = normalise(&s3_event(&encode_like_s3(&key, false), 1)).expect("event");
    let objects = created(&outcomes);
    assert_eq!(objects[0].key, ObjectKey::new(key).expect("valid key"));
}

#[test]
fn an_object_announced_by_us_reads_back_as_the_same_object_with_its_run() {
    let key = ObjectKey::new("uploads/documents/Q3 report+final (1).pdf").expect("valid key");
    let mut object = S3Object::put("uploads", key, 4096, Some("0cc175b9".into()));
    object.version_id = Some("3HL4kqtJlcpXroDTDmJ".into());
    object.uploaded_by = Some("AWS:AIDAEXAMPLE".into());
    object.origin = Origin::Reprocess;
    object.run = Run::parse("r20261202T190000-0123abcd").expect("a run id");
    object.raw_key = "uploads/documents/Q3+report%2Bfinal+%281%29.pdf".into();
    let event = json!({ "Records": [object.to_event_record()] });
    assert_eq!(event["Records"][0]["s3"]["object"]["key"], object.raw_key);
    assert_eq!(
        created(&normalise(&event).expect("an event")),
        vec![&object]
    );

    // An upload's own event says nothing of runs: the first run.
    object.origin = Origin::Upload;
    object.run = Run::first();
    let event = json!({ "Records": [object.to_event_record()] });
    assert!(event["Records"][0].get("s3triage").is_none());
    assert_eq!(
        created(&normalise(&event).expect("an event")),
        vec![&object]
    );
}

#[test]
fn an_announcement_with_a_forged_run_id_is_not_an_object_to_route() {
    let mut event = s3_event("uploads/a.txt", 1);
    event["Records"][0]["s3triage"] = json!({ "origin": "reprocess", "run": "x#router" });
    let outcomes = normalise(&event).expect("an envelope");
    assert!(
        matches!(&outcomes[..], [RecordOutcome::Invalid(invalid)] if invalid.object.is_none()),
        "{outcomes:?}"
    );
}

//! The published schema (`schema/notification-1.json`) describes what is published: records of
//! every shape validate, every field a record has is in the schema, and the schema is strict
//! enough to refuse a broken record.

use audit::{AuditRecord, Origin, Status};
use chrono::Utc;
use notifications::{Message, SCHEMA_DOCUMENT};
use object_events::{CorrelationId, ObjectKey, ObjectRef, Run, Tier};
use serde_json::{json, Value};
use testkit::json_schema::violations;

const ORIGIN: Origin<'static> = Origin {
    worker: "compliance",
    environment: "dev",
};

fn published(record: &AuditRecord) -> Value {
    Message::compose(record, ORIGIN, "s3-triage-dev-audit").json
}

fn records() -> Vec<AuditRecord> {
    let object = |key: &str, version_id: Option<&str>| ObjectRef {
        bucket: "acme-uploads".into(),
        key: ObjectKey::new(key).expect("key"),
        version_id: version_id.map(str::to_owned),
        etag: Some("\"9b2cf535f27731c974343645a3985328\"".into()),
        size: Some(12_345),
    };
    let started = Utc::now();
    let correlation = CorrelationId::from_string("c-1");
    vec![
        // The router's record of an object outside every prefix: no tier, no version.
        AuditRecord::finished_now(
            object("elsewhere/a b+c ü.txt", None),
            "router",
            Status::Ignored,
            correlation.clone(),
            started,
        ),
        AuditRecord::finished_now(
            object(&format!("uploads/images/{}", "é".repeat(500)), Some("v1")),
            "thumbnail",
            Status::Succeeded,
            correlation.clone(),
            started,
        )
        .with_tier(Some(Tier::Thumbnail))
        .with_content_type("image/jpeg")
        .with_sha256("a".repeat(64))
        .with_outputs(vec!["processed/thumbnails/x-256.webp".into()])
        .with_details(json!({"width": 256, "height": 171}))
        .with_uploaded_by(Some("AWS:AIDAEXAMPLE".into())),
        AuditRecord::finished_now(
            object("uploads/compliance/a.zip", Some("v2")),
            "compliance",
            Status::Infected,
            correlation,
            started,
        )
        .with_tier(Some(Tier::Compliance))
        .with_reason("malware: signatures matched: Eicar-Test-Signature in a.zip!eicar.com")
        .in_run(
            Run::requested(started, "rescan"),
            object_events::Origin::Rescan,
        ),
    ]
}

#[test]
fn every_shape_of_record_validates_against_the_published_schema() {
    let documents: Vec<Value> = records().iter().map(published).collect();
    assert_eq!(
        violations(SCHEMA_DOCUMENT, &documents),
        Vec::<String>::new()
    );
}

#[test]
fn the_schema_names_every_field_a_record_has() {
    let schema: Value = serde_json::from_str(SCHEMA_DOCUMENT).expect("JSON");
    let described = schema["properties"].as_object().expect("properties");
    for document in records().iter().map(published) {
        for field in document.as_object().expect("an object").keys() {
            assert!(
                described.contains_key(field),
                "{field} is not in the schema"
            );
        }
    }
}

#[test]
fn a_broken_record_is_refused() {
    let mut document = published(&records()[1]);
    document["status"] = "DONE".into();
    document["sha256"] = "not-a-digest".into();
    document
        .as_object_mut()
        .expect("object")
        .remove("finished_at");
    document["started_at"] = "yesterday".into();
    let found = violations(SCHEMA_DOCUMENT, &[document]);
    for field in ["/status", "/sha256", "finished_at", "/started_at"] {
        assert!(
            found.iter().any(|violation| violation.contains(field)),
            "{field} not refused: {found:?}"
        );
    }
}

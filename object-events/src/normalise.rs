//! One place that understands every shape an S3 event arrives in: S3 event notifications
//! (direct, in SQS, in SNS, SNS in SQS) and S3's EventBridge events (as an EventBridge rule
//! delivers them to SQS).
//!
//! Parsing is deliberately lenient: only the fields we use must be present. Emulated events
//! lack `userIdentity` and `requestParameters`, which `aws_lambda_events::s3::S3Event` requires,
//! so we read records through our own minimal structs instead.

use crate::run::Announcement;
use crate::{ObjectKey, ObjectRef, S3Object};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// Envelopes nest at most SNS-inside-SQS deep (plus a whole Lambda SQS event around that);
/// anything deeper is not an S3 event.
const MAX_ENVELOPE_DEPTH: usize = 4;

/// The `source` of the events S3 sends to EventBridge.
const EVENTBRIDGE_SOURCE: &str = "aws.s3";
/// The `detail-type` of an EventBridge event for a created object.
const EVENTBRIDGE_CREATED: &str = "Object Created";

/// What became of one record of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordOutcome {
    /// An `ObjectCreated:*` record with everything routing needs.
    Created(S3Object),
    /// The `s3:TestEvent` S3 sends when a notification configuration is saved: acknowledge, drop.
    TestEvent,
    /// Any other S3 event (removals, restores, replication...): not ours to process.
    NotCreated { event_name: String },
    /// A record that cannot be processed, with as much of the object as could be read.
    Invalid(InvalidRecord),
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvalidRecord {
    pub reason: String,
    /// Present when bucket, key and a version marker were readable, so the rejection can be
    /// recorded against the object.
    pub object: Option<ObjectRef>,
}

/// The message as a whole is not an S3 event in any envelope we know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("message body is not JSON: {0}")]
    NotJson(String),
    #[error("message is not an S3 event, SNS notification or SQS message: {0}")]
    Unrecognised(String),
    #[error("envelopes nested deeper than {MAX_ENVELOPE_DEPTH} levels")]
    TooDeep,
}

/// Normalises a message body (an SQS body, an SNS message, a Lambda payload) given as text.
pub fn normalise_json(body: &str) -> Result<Vec<RecordOutcome>, EnvelopeError> {
    let value: Value =
        serde_json::from_str(body).map_err(|err| EnvelopeError::NotJson(err.to_string()))?;
    normalise(&value)
}

/// Normalises an already parsed event: one outcome per S3 record, in order, across envelopes.
pub fn normalise(event: &Value) -> Result<Vec<RecordOutcome>, EnvelopeError> {
    let mut outcomes = Vec::new();
    unwrap_envelope(event, 0, &mut outcomes)?;
    Ok(outcomes)
}

fn unwrap_envelope(
    value: &Value,
    depth: usize,
    out: &mut Vec<RecordOutcome>,
) -> Result<(), EnvelopeError> {
    if depth > MAX_ENVELOPE_DEPTH {
        return Err(EnvelopeError::TooDeep);
    }
    let Some(object) = value.as_object() else {
        return Err(EnvelopeError::Unrecognised(format!(
            "expected a JSON object, got {}",
            kind_of(value)
        )));
    };

    if object.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        out.push(RecordOutcome::TestEvent);
        return Ok(());
    }
    if object.get("source").and_then(Value::as_str) == Some(EVENTBRIDGE_SOURCE)
        && object.contains_key("detail-type")
    {
        out.push(eventbridge_event(value));
        return Ok(());
    }
    // SNS notification JSON as SQS receives it without raw message delivery.
    if object.get("Type").and_then(Value::as_str) == Some("Notification") {
        let message = object
            .get("Message")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                EnvelopeError::Unrecognised("SNS notification without a Message string".into())
            })?;
        return unwrap_text(message, depth, out);
    }
    let Some(records) = object.get("Records") else {
        let mut keys: Vec<&str> = object.keys().map(String::as_str).take(8).collect();
        keys.sort_unstable();
        return Err(EnvelopeError::Unrecognised(format!(
            "no Records; top-level keys {keys:?}"
        )));
    };
    let records = records.as_array().ok_or_else(|| {
        EnvelopeError::Unrecognised(format!("Records is {}, not an array", kind_of(records)))
    })?;
    for record in records {
        if let Some(sns) = record.get("Sns") {
            match sns.get("Message").and_then(Value::as_str) {
                Some(message) => unwrap_text(message, depth, out)?,
                None => out.push(invalid("SNS record without a Message string", None)),
            }
        } else if record.get("eventSource").and_then(Value::as_str) == Some("aws:sqs") {
            match record.get("body").and_then(Value::as_str) {
                Some(body) => unwrap_text(body, depth, out)?,
                None => out.push(invalid("SQS record without a body", None)),
            }
        } else {
            out.push(s3_record(record));
        }
    }
    Ok(())
}

fn unwrap_text(
    text: &str,
    depth: usize,
    out: &mut Vec<RecordOutcome>,
) -> Result<(), EnvelopeError> {
    let inner: Value =
        serde_json::from_str(text).map_err(|err| EnvelopeError::NotJson(err.to_string()))?;
    unwrap_envelope(&inner, depth + 1, out)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn invalid(reason: impl Into<String>, object: Option<ObjectRef>) -> RecordOutcome {
    RecordOutcome::Invalid(InvalidRecord {
        reason: reason.into(),
        object,
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct LenientRecord {
    event_name: Option<String>,
    event_time: Option<String>,
    user_identity: Option<LenientIdentity>,
    s3: Option<LenientS3>,
    /// [`crate::run::ANNOUNCEMENT_FIELD`]
    #[serde(rename = "s3triage")]
    announcement: Option<Announcement>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct LenientIdentity {
    principal_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LenientS3 {
    bucket: Option<LenientBucket>,
    object: Option<LenientObject>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LenientBucket {
    name: Option<String>,
}

/// An object as either shape describes it: S3 notifications write `eTag` and `versionId`,
/// EventBridge events `etag` (moto: `eTag`) and `version-id`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LenientObject {
    key: Option<String>,
    size: Option<u64>,
    #[serde(rename = "eTag", alias = "etag")]
    etag: Option<String>,
    #[serde(rename = "versionId", alias = "version-id")]
    version_id: Option<String>,
    sequencer: Option<String>,
}

/// The shape a record came in: what its fields are called in reasons, how its key is written.
#[derive(Clone, Copy)]
enum Shape {
    Notification,
    EventBridge,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Notification => "S3 record",
            Shape::EventBridge => "EventBridge event",
        }
    }

    /// Where bucket and object sit: `s3.bucket`, `detail.object`...
    fn parent(self) -> &'static str {
        match self {
            Shape::Notification => "s3",
            Shape::EventBridge => "detail",
        }
    }

    fn key(self, raw: &str) -> Result<ObjectKey, crate::KeyError> {
        match self {
            Shape::Notification => ObjectKey::from_event_encoding(raw),
            Shape::EventBridge => ObjectKey::new(raw),
        }
    }

    /// The record as `T`, or why it is not one.
    fn parse<T: serde::de::DeserializeOwned>(self, value: &Value) -> Result<T, String> {
        T::deserialize(value)
            .map_err(|err| format!("{} has a field of the wrong type: {err}", self.name()))
    }
}

fn s3_record(record: &Value) -> RecordOutcome {
    let shape = Shape::Notification;
    let parsed: LenientRecord = match shape.parse(record) {
        Ok(parsed) => parsed,
        Err(reason) => return invalid(reason, None),
    };
    let event_name = parsed.event_name.unwrap_or_default();
    if event_name.is_empty() {
        return invalid("S3 record has no eventName", None);
    }
    if !event_name.starts_with("ObjectCreated:") {
        return RecordOutcome::NotCreated { event_name };
    }
    let s3 = parsed.s3.unwrap_or_default();
    created(Created {
        shape,
        bucket: s3.bucket,
        object: s3.object.unwrap_or_default(),
        event_time: parsed.event_time,
        event_name,
        uploaded_by: parsed
            .user_identity
            .and_then(|identity| identity.principal_id),
        announcement: parsed.announcement.unwrap_or_default(),
    })
}

/// What either shape says of a created object, read but not yet checked.
struct Created {
    shape: Shape,
    bucket: Option<LenientBucket>,
    object: LenientObject,
    event_time: Option<String>,
    event_name: String,
    uploaded_by: Option<String>,
    announcement: Announcement,
}

fn created(event: Created) -> RecordOutcome {
    let (shape, object) = (event.shape, event.object);
    let (name, parent) = (shape.name(), shape.parent());
    let Some(bucket) = event
        .bucket
        .and_then(|b| b.name)
        .filter(|name| !name.is_empty())
    else {
        return invalid(format!("{name} has no {parent}.bucket.name"), None);
    };
    let Some(raw_key) = object.key else {
        return invalid(
            format!("{name} in bucket {bucket} has no {parent}.object.key"),
            None,
        );
    };
    let key = match shape.key(&raw_key) {
        Ok(key) => key,
        Err(err) => return invalid(format!("{name} in bucket {bucket}: {err}"), None),
    };
    let etag = object
        .etag
        .map(|etag| etag.trim_matches('"').to_owned())
        .filter(|e| !e.is_empty());
    let version_id = object.version_id.filter(|v| !v.is_empty());
    let Some(size) = object.size else {
        let object_ref = ObjectRef {
            bucket,
            key,
            version_id,
            etag,
            size: None,
        };
        let identifiable = object_ref.version_token().is_ok();
        return invalid(
            format!("{name} has no {parent}.object.size"),
            identifiable.then_some(object_ref),
        );
    };
    RecordOutcome::Created(S3Object {
        bucket,
        key,
        raw_key,
        size,
        etag,
        version_id,
        sequencer: object.sequencer,
        event_time: event
            .event_time
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)),
        event_name: event.event_name,
        uploaded_by: event.uploaded_by,
        origin: event.announcement.origin,
        run: event.announcement.run,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LenientEventBridge {
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
    /// RFC 3339 text on AWS; moto writes a number, which says nothing we rely on.
    time: Option<Value>,
    detail: Option<LenientDetail>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LenientDetail {
    bucket: Option<LenientBucket>,
    object: Option<LenientObject>,
    /// The API call that created the object: `PutObject`, `CopyObject`, ...
    reason: Option<String>,
    requester: Option<String>,
}

/// An S3 event as EventBridge delivers it: one object per event, its key not encoded.
fn eventbridge_event(event: &Value) -> RecordOutcome {
    let shape = Shape::EventBridge;
    let parsed: LenientEventBridge = match shape.parse(event) {
        Ok(parsed) => parsed,
        Err(reason) => return invalid(reason, None),
    };
    let detail_type = parsed.detail_type.unwrap_or_default();
    if detail_type != EVENTBRIDGE_CREATED {
        return RecordOutcome::NotCreated {
            event_name: detail_type,
        };
    }
    let detail = parsed.detail.unwrap_or_default();
    created(Created {
        shape,
        bucket: detail.bucket,
        object: detail.object.unwrap_or_default(),
        event_time: parsed.time.and_then(|t| t.as_str().map(str::to_owned)),
        event_name: created_event_name(detail.reason.as_deref()),
        uploaded_by: detail.requester,
        announcement: Announcement::default(),
    })
}

/// The S3 notification event name for an EventBridge `reason`, so records read the same
/// whichever path announced the object.
fn created_event_name(reason: Option<&str>) -> String {
    let kind = match reason {
        Some("PutObject") => "Put",
        Some("POST Object") => "Post",
        Some("CopyObject") => "Copy",
        Some(other) if !other.is_empty() => other,
        _ => "*",
    };
    format!("ObjectCreated:{kind}")
}

//! What one announcement says to each kind of subscriber. SNS delivers one publish per
//! protocol from a message structure: e-mail gets a subject and a short plain-text summary a
//! person can act on; every other protocol (SQS, HTTP(S), Lambda, `email-json`) gets the record
//! as JSON, marked with the version of its published schema (`schema/notification-1.json`).

use audit::{AuditRecord, Origin};
use serde_json::{json, Value};
use std::fmt::Write;

/// The `schema` field of every JSON message: the `$id` of the schema it follows.
pub const SCHEMA: &str = "urn:s3-triage:notification:1";
/// The published schema, for consumers and for the tests that hold records to it.
pub const SCHEMA_DOCUMENT: &str = include_str!("../schema/notification-1.json");
/// SNS refuses a subject of 100 characters or more, or one that is not printable ASCII.
pub const MAX_SUBJECT_CHARS: usize = 99;
/// The reason as an e-mail shows it; the whole one is in the record.
const MAX_EMAIL_REASON_CHARS: usize = 600;

/// One outcome, as each audience receives it.
#[derive(Debug, Clone)]
pub struct Message {
    /// The JSON record (SQS, HTTP(S), Lambda). Not called `record`: the consistency test
    /// derives each binary's AWS calls from names, and `.record` reaches `audit::record`.
    pub json: Value,
    /// The e-mail subject: `FAILED thumbnail: uploads/images/x.jpg`.
    pub subject: String,
    /// The e-mail body: plain text.
    pub email: String,
}

impl Message {
    /// `record`, recorded by `origin`; the e-mail names `audit_table` in the command that
    /// shows the rest.
    pub fn compose(record: &AuditRecord, origin: Origin<'_>, audit_table: &str) -> Self {
        Self {
            json: record_json(record, origin),
            subject: subject(record),
            email: email(record, origin, audit_table),
        }
    }

    /// The Publish `Message` for `MessageStructure=json`: `default` serves every protocol
    /// without an entry of its own.
    pub fn structured(&self) -> String {
        json!({ "default": self.json.to_string(), "email": self.email }).to_string()
    }
}

/// The record as JSON, with who recorded it, how long the stage took, and its
/// `notification_id`: the record's identity in the audit table (object version and stage).
/// SNS has no exactly-once publish: a worker that dies after its publish and before the table
/// says so is taken over, and the record is announced again under the same id; consumers that
/// must not act twice keep the ids they have seen.
fn record_json(record: &AuditRecord, origin: Origin<'_>) -> Value {
    let mut body = serde_json::to_value(record).unwrap_or_default();
    if let Some(fields) = body.as_object_mut() {
        fields.insert("schema".into(), SCHEMA.into());
        if let Ok(sort_key) = audit::table::sort_key(record) {
            let id = format!("{}#{sort_key}", audit::table::partition_key(&record.object));
            fields.insert("notification_id".into(), id.into());
        }
        fields.insert("worker".into(), origin.worker.into());
        fields.insert("environment".into(), origin.environment.into());
        fields.insert("duration_ms".into(), record.duration_ms().into());
    }
    body
}

/// `STATUS stage: key`, the key shortened in its middle (keeping its start and its file name)
/// to fit SNS's limit. SNS takes printable ASCII alone (a publish with anything else fails, and
/// the record would never be announced): other characters show as `?`, the key is whole in the
/// body and the record.
fn subject(record: &AuditRecord) -> String {
    let lead = format!("{} {}: ", record.status.as_str(), record.stage);
    let key: String = printable(record.object.key.as_str())
        .chars()
        .map(|c| if c.is_ascii() { c } else { '?' })
        .collect();
    let room = MAX_SUBJECT_CHARS.saturating_sub(lead.len());
    format!("{lead}{}", shorten(&key, room, "..."))
}

/// `text` in at most `room` characters: whole, or its first third and its end around `cut`.
fn shorten(text: &str, room: usize, cut: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= room {
        return text.to_owned();
    }
    let kept = room.saturating_sub(cut.chars().count());
    let head = kept / 3;
    let tail = kept - head;
    let mut short: String = chars[..head].iter().collect();
    short.push_str(cut);
    short.extend(&chars[chars.len() - tail..]);
    short
}

/// `text` with control characters shown as `\n`, `\u{7}`...: keys and reasons come from
/// uploaders and files, and a line break in them must not forge a line of a summary.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn email(record: &AuditRecord, origin: Origin<'_>, audit_table: &str) -> String {
    let object = &record.object;
    let key = printable(object.key.as_str());
    let mut text = String::new();
    let stage = match record.tier {
        Some(tier) if tier.as_str() != record.stage => format!("{} (tier {tier})", record.stage),
        _ => record.stage.clone(),
    };
    let _ = writeln!(text, "{} at stage {stage}", record.status.as_str());
    let _ = writeln!(text);
    let mut field = |name: &str, value: &str| {
        let _ = writeln!(text, "{name:<12} {value}");
    };
    if let Some(reason) = &record.reason {
        let reason = printable(reason);
        field("Reason:", &shorten(&reason, MAX_EMAIL_REASON_CHARS, "…"));
    }
    field("Bucket:", &object.bucket);
    field("Key:", &key);
    field(
        "Version:",
        object.version_id.as_deref().unwrap_or("(unversioned)"),
    );
    if let Some(size) = object.size {
        field("Size:", &object_events::size::human(size));
    }
    if let Some(content_type) = &record.content_type {
        field("Content:", &printable(content_type));
    }
    if !record.outputs.is_empty() {
        field("Outputs:", &record.outputs.len().to_string());
    }
    field(
        "Finished:",
        &format!(
            "{} after {:.3} s",
            record.finished_at.format("%Y-%m-%d %H:%M:%S UTC"),
            record.duration_ms() as f64 / 1000.0
        ),
    );
    field(
        "Environment:",
        &format!("{} (recorded by {})", origin.environment, origin.worker),
    );
    let _ = writeln!(text);
    let _ = writeln!(text, "The whole record and the object's history:");
    let _ = writeln!(
        text,
        "  triage audit --table {} --bucket {} --key {}",
        shell_quoted(audit_table),
        shell_quoted(&object.bucket),
        shell_quoted(object.key.as_str())
    );
    text
}

/// `text` as one POSIX shell word. Control characters cannot be typed into a quoted word, so
/// a key with them is shown escaped (the command then names it only roughly).
fn shell_quoted(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        return text.to_owned();
    }
    format!("'{}'", printable(text).replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use audit::Status;
    use chrono::{TimeZone, Utc};
    use object_events::{CorrelationId, ObjectKey, ObjectRef, Tier};

    const ORIGIN: Origin<'static> = Origin {
        worker: "thumbnail",
        environment: "prod",
    };

    fn record(key: &str, stage: &str, status: Status) -> AuditRecord {
        let object = ObjectRef {
            bucket: "acme-uploads".into(),
            key: ObjectKey::new(key).expect("key"),
            version_id: Some("3HL4kqtJlcpXroDTDmJ".into()),
            etag: Some("\"9b2cf535f27731c974343645a3985328\"".into()),
            size: Some(3 * 1024 * 1024),
        };
        let started = Utc
            .with_ymd_and_hms(2026, 12, 6, 12, 1, 0)
            .single()
            .expect("time");
        let mut record = AuditRecord::finished_now(
            object,
            stage,
            status,
            CorrelationId::from_string("c-1"),
            started,
        );
        record.finished_at = started + chrono::Duration::milliseconds(1234);
        record.with_tier(Some(Tier::Thumbnail))
    }

    fn failed(key: &str) -> AuditRecord {
        record(key, "thumbnail", Status::Failed)
            .with_reason("image: corrupt JPEG data: premature end of data segment")
    }

    #[test]
    fn the_subject_says_what_happened_to_which_key() {
        let message = Message::compose(&failed("uploads/images/x.jpg"), ORIGIN, "audit");
        assert_eq!(message.subject, "FAILED thumbnail: uploads/images/x.jpg");
    }

    #[test]
    fn a_1024_byte_key_is_shortened_in_the_middle_to_fit_the_subject() {
        let name = format!(
            "{}-holiday.jpg",
            "x".repeat(1024 - "uploads/images/-holiday.jpg".len())
        );
        let key = format!("uploads/images/{name}");
        assert_eq!(key.len(), 1024);
        let message = Message::compose(&failed(&key), ORIGIN, "audit");
        let subject = &message.subject;
        assert_eq!(subject.chars().count(), MAX_SUBJECT_CHARS, "{subject}");
        assert!(
            subject.starts_with("FAILED thumbnail: uploads/images/xx"),
            "{subject}"
        );
        assert!(subject.ends_with("xxx-holiday.jpg"), "{subject}");
        assert_eq!(subject.matches("...").count(), 1, "{subject}");
        assert!(subject.is_ascii(), "{subject}");
        // The body keeps the whole key.
        assert!(message.email.contains(&format!("Key:         {key}\n")));
    }

    #[test]
    fn line_breaks_in_a_key_or_reason_cannot_forge_lines_of_the_summary() {
        let key = "uploads/images/a.jpg\nStatus: CLEAN";
        let record = record(key, "thumbnail", Status::Failed).with_reason("bad\r\nCLEAN");
        let message = Message::compose(&record, ORIGIN, "audit");
        assert!(!message.subject.contains('\n'), "{}", message.subject);
        assert!(
            message.subject.contains(r"a.jpg\nStatus"),
            "{}",
            message.subject
        );
        assert!(
            !message
                .email
                .lines()
                .any(|line| line.starts_with("Status") || line.starts_with("CLEAN")),
            "{}",
            message.email
        );
        assert!(
            message.email.contains(r"Reason:      bad\r\nCLEAN"),
            "{}",
            message.email
        );
    }

    #[test]
    fn the_email_says_outcome_reason_object_stage_time_and_how_to_see_the_rest() {
        let message = Message::compose(
            &failed("uploads/images/Tom's cat + dog.jpg"),
            ORIGIN,
            "s3-triage-prod-audit",
        );
        assert_eq!(
            message.email,
            "FAILED at stage thumbnail\n\
             \n\
             Reason:      image: corrupt JPEG data: premature end of data segment\n\
             Bucket:      acme-uploads\n\
             Key:         uploads/images/Tom's cat + dog.jpg\n\
             Version:     3HL4kqtJlcpXroDTDmJ\n\
             Size:        3 MiB\n\
             Finished:    2026-12-06 12:01:01 UTC after 1.234 s\n\
             Environment: prod (recorded by thumbnail)\n\
             \n\
             The whole record and the object's history:\n  \
             triage audit --table s3-triage-prod-audit --bucket acme-uploads \
             --key 'uploads/images/Tom'\\''s cat + dog.jpg'\n"
        );
    }

    #[test]
    fn a_check_names_its_tier_and_a_long_reason_is_cut() {
        let record = record(
            "uploads/compliance/a.zip",
            "compliance.malware",
            Status::Infected,
        )
        .with_tier(Some(Tier::Compliance))
        .with_reason(format!(
            "signatures matched: {}",
            "Win.Trojan.X ".repeat(100)
        ));
        let message = Message::compose(&record, ORIGIN, "audit");
        assert!(message
            .email
            .starts_with("INFECTED at stage compliance.malware (tier compliance)\n"));
        let reason = message
            .email
            .lines()
            .find(|line| line.starts_with("Reason:"))
            .expect("a reason line");
        assert!(
            reason.chars().count() < MAX_EMAIL_REASON_CHARS + 20,
            "{reason}"
        );
        assert!(reason.contains('…'));
    }

    #[test]
    fn e_mail_gets_the_summary_and_every_other_protocol_the_versioned_record() {
        let message = Message::compose(&failed("uploads/images/x.jpg"), ORIGIN, "audit");
        let published: Value = serde_json::from_str(&message.structured()).expect("JSON");
        assert_eq!(published["email"], message.email.as_str());
        let record: Value =
            serde_json::from_str(published["default"].as_str().expect("a string")).expect("JSON");
        assert_eq!(record["schema"], SCHEMA);
        assert_eq!(record["status"], "FAILED");
        assert_eq!(record["key"], "uploads/images/x.jpg");
        assert_eq!(record["duration_ms"], 1234);
        assert_eq!(
            record["notification_id"],
            "acme-uploads/uploads/images/x.jpg#v:3HL4kqtJlcpXroDTDmJ#thumbnail"
        );
    }

    #[test]
    fn the_largest_record_still_fits_one_sns_message() {
        // Quotes double when the record is quoted again inside the message structure.
        let details = json!({ "a": "\"".repeat(2000), "list": vec!["\"\"\"\"".repeat(500); 400] });
        let record = failed(&format!("uploads/{}", "\"".repeat(1000)))
            .with_reason("\"".repeat(5000))
            .with_details(details)
            .with_outputs(vec![format!("processed/{}", "\"".repeat(1000)); 4]);
        let published = Message::compose(&record, ORIGIN, "audit").structured();
        assert!(published.len() < 256 * 1024, "{} bytes", published.len());
    }
}

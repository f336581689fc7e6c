//! Per-stage metrics as CloudWatch Embedded Metric Format: one JSON line on stdout per
//! recorded outcome, which Lambda's log pipeline turns into metrics (the large-file task's
//! log group does the same through metric filters on these lines), so counting costs no API
//! call. Alarms and the dashboard in terraform/modules/operations read these names.

use crate::AuditRecord;
use serde_json::json;
use std::io::Write;

pub const NAMESPACE: &str = "s3-triage";
/// Dimension set of every metric: one series per environment, stage and outcome.
pub const DIMENSIONS: [&str; 3] = ["Environment", "Stage", "Status"];

/// The EMF line for one recorded outcome: `Outcomes` (count), `Duration` (ms) and `Bytes`
/// (the object's size, when known), plus the object and correlation id to find its logs.
pub fn emf_line(record: &AuditRecord, environment: &str) -> String {
    let mut metrics = vec![
        json!({"Name": "Outcomes", "Unit": "Count"}),
        json!({"Name": "Duration", "Unit": "Milliseconds"}),
    ];
    if record.object.size.is_some() {
        metrics.push(json!({"Name": "Bytes", "Unit": "Bytes"}));
    }
    let mut line = json!({
        "_aws": {
            "Timestamp": record.finished_at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [DIMENSIONS],
                "Metrics": metrics,
            }],
        },
        "Environment": environment,
        "Stage": record.stage,
        "Status": record.status.as_str(),
        "Outcomes": 1,
        "Duration": record.duration_ms(),
        "bucket": record.object.bucket,
        "key": record.object.key.to_string(),
        "correlation_id": record.correlation_id.to_string(),
    });
    if let Some(size) = record.object.size {
        line["Bytes"] = size.into();
    }
    line.to_string()
}

/// Writes the record's EMF line to stdout in one write, so it never interleaves with a log line.
pub fn emit(record: &AuditRecord, environment: &str) {
    let mut line = emf_line(record, environment);
    line.push('\n');
    // A lost metric line must not fail the stage whose outcome is already recorded.
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;
    use chrono::{TimeZone, Utc};
    use object_events::{CorrelationId, ObjectKey, ObjectRef};
    use serde_json::Value;

    fn record(size: Option<u64>) -> AuditRecord {
        let started = Utc
            .timestamp_millis_opt(1_700_000_000_000)
            .single()
            .expect("time");
        let mut record = AuditRecord::finished_now(
            ObjectRef {
                bucket: "uploads".into(),
                key: ObjectKey::new("uploads/images/cat photo.jpg").expect("valid key"),
                version_id: Some("v1".into()),
                etag: None,
                size,
            },
            "thumbnail",
            Status::Failed,
            CorrelationId::from_string("req-1"),
            started,
        );
        record.finished_at = started + chrono::Duration::milliseconds(1234);
        record
    }

    #[test]
    fn the_line_declares_outcomes_duration_and_bytes_under_the_stage_dimensions() {
        let line: Value =
            serde_json::from_str(&emf_line(&record(Some(2048)), "prod")).expect("JSON");
        let declared = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], "s3-triage");
        assert_eq!(
            declared["Dimensions"],
            json!([["Environment", "Stage", "Status"]])
        );
        let names: Vec<&str> = declared["Metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .filter_map(|metric| metric["Name"].as_str())
            .collect();
        assert_eq!(names, ["Outcomes", "Duration", "Bytes"]);
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_001_234_i64);
        assert_eq!(line["Environment"], "prod");
        assert_eq!(line["Stage"], "thumbnail");
        assert_eq!(line["Status"], "FAILED");
        assert_eq!(line["Outcomes"], 1);
        assert_eq!(line["Duration"], 1234);
        assert_eq!(line["Bytes"], 2048);
        assert_eq!(line["key"], "uploads/images/cat photo.jpg");
        assert_eq!(line["correlation_id"], "req-1");
    }

    #[test]
    fn an_unknown_size_declares_no_bytes_metric() {
        let line: Value = serde_json::from_str(&emf_line(&record(None), "dev")).expect("JSON");
        let metrics = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .cloned();
        assert_eq!(metrics.map(|metrics| metrics.len()), Some(2));
        assert!(line.get("Bytes").is_none());
    }
}

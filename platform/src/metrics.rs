//! Per-stage metrics as CloudWatch Embedded Metric Format: one JSON line on stdout per
//! recorded outcome, which Lambda's log pipeline turns into metrics (the large-file task's
//! log group does the same through metric filters on these lines), so counting costs no API
//! call. Alarms and the dashboard in terraform/modules/operations read these names.

use serde_json::json;
use std::io::Write;

pub const NAMESPACE: &str = "s3-triage";
/// Dimension set of every metric: one series per environment, stage and outcome.
pub const DIMENSIONS: [&str; 3] = ["Environment", "Stage", "Status"];
/// The roll-up of every stage and outcome of one environment: what the silence alarm counts.
pub const ENVIRONMENT_DIMENSIONS: [&str; 1] = ["Environment"];

/// One stage's outcome for one object, as the metrics see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome<'a> {
    pub environment: &'a str,
    pub stage: &'a str,
    pub status: &'a str,
    /// When the outcome was recorded, epoch milliseconds.
    pub timestamp_ms: i64,
    pub duration_ms: u64,
    /// The object's size, when known.
    pub bytes: Option<u64>,
    pub bucket: &'a str,
    pub key: &'a str,
    pub correlation_id: &'a str,
}

/// The EMF line for one outcome: `Outcomes` (count), `Duration` (ms) and `Bytes` (when the
/// size is known), plus the object and correlation id to find its logs.
pub fn emf_line(outcome: &Outcome<'_>) -> String {
    let mut metrics = vec![
        json!({"Name": "Outcomes", "Unit": "Count"}),
        json!({"Name": "Duration", "Unit": "Milliseconds"}),
    ];
    if outcome.bytes.is_some() {
        metrics.push(json!({"Name": "Bytes", "Unit": "Bytes"}));
    }
    let mut line = json!({
        "_aws": {
            "Timestamp": outcome.timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [&DIMENSIONS[..], &ENVIRONMENT_DIMENSIONS[..]],
                "Metrics": metrics,
            }],
        },
        "Environment": outcome.environment,
        "Stage": outcome.stage,
        "Status": outcome.status,
        "Outcomes": 1,
        "Duration": outcome.duration_ms,
        "bucket": outcome.bucket,
        "key": outcome.key,
        "correlation_id": outcome.correlation_id,
    });
    if let Some(size) = outcome.bytes {
        line["Bytes"] = size.into();
    }
    line.to_string()
}

/// Writes the outcome's EMF line to stdout.
pub fn emit(outcome: &Outcome<'_>) {
    write_line(emf_line(outcome));
}

/// The EMF line for one canary run: `CanaryMisses`, how many tiers' canaries missed (0 when
/// every tier answered), per environment. Its alarm also fires when no run reports at all.
pub fn canary_line(environment: &str, tiers_missed: usize, timestamp_ms: i64) -> String {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [ENVIRONMENT_DIMENSIONS],
                "Metrics": [{"Name": "CanaryMisses", "Unit": "Count"}],
            }],
        },
        "Environment": environment,
        "CanaryMisses": tiers_missed,
    })
    .to_string()
}

/// Writes the canary run's EMF line to stdout.
pub fn emit_canary(environment: &str, tiers_missed: usize, timestamp_ms: i64) {
    write_line(canary_line(environment, tiers_missed, timestamp_ms));
}

/// Writes one line to stdout in one write, so it never interleaves with a log line. A lost
/// metric line must not fail the work it counts, which is already done.
fn write_line(mut line: String) {
    line.push('\n');
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn outcome(bytes: Option<u64>) -> Outcome<'static> {
        Outcome {
            environment: "prod",
            stage: "thumbnail",
            status: "FAILED",
            timestamp_ms: 1_700_000_001_234,
            duration_ms: 1234,
            bytes,
            bucket: "uploads",
            key: "uploads/images/cat photo.jpg",
            correlation_id: "req-1",
        }
    }

    #[test]
    fn the_line_declares_outcomes_duration_and_bytes_under_the_stage_dimensions() {
        let line: Value = serde_json::from_str(&emf_line(&outcome(Some(2048)))).expect("JSON");
        let declared = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], "s3-triage");
        assert_eq!(
            declared["Dimensions"],
            json!([["Environment", "Stage", "Status"], ["Environment"]])
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
    fn a_canary_run_counts_the_tiers_that_missed_per_environment() {
        let line: Value =
            serde_json::from_str(&canary_line("prod", 2, 1_700_000_000_000)).expect("JSON");
        let declared = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], "s3-triage");
        assert_eq!(declared["Dimensions"], json!([["Environment"]]));
        assert_eq!(declared["Metrics"][0]["Name"], "CanaryMisses");
        assert_eq!(line["Environment"], "prod");
        assert_eq!(line["CanaryMisses"], 2);
    }

    #[test]
    fn an_unknown_size_declares_no_bytes_metric() {
        let line: Value = serde_json::from_str(&emf_line(&outcome(None))).expect("JSON");
        let metrics = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .cloned();
        assert_eq!(metrics.map(|metrics| metrics.len()), Some(2));
        assert!(line.get("Bytes").is_none());
    }
}

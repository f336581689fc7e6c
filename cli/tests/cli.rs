//! The `triage` binary as a user runs it.

use audit::{AuditRecord, Status};
use chrono::Utc;
use object_events::{CorrelationId, ObjectKey, ObjectRef, Tier};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use testkit::resources::{unique, TestResources};
use testkit::stage::WorkerStage;

fn triage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(args)
        .env_remove("TRIAGE_ROUTING_RULES")
        .env_remove("TRIAGE_OUTPUT_BUCKETS")
        .env_remove("TRIAGE_AUDIT_TABLE")
        .output()
        .expect("triage runs")
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../samples/events")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn route_explains_where_a_key_and_size_go() {
    let report = json_of(&triage(&[
        "route",
        "--key",
        "uploads/images/cat photo.jpg",
        "--size",
        "20MiB",
        "--json",
    ]));
    assert_eq!(report[0]["outcome"], "thumbnail");
    assert_eq!(report[0]["rule"], "images");
    let oversize = json_of(&triage(&[
        "route",
        "--key",
        "uploads/images/cat photo.jpg",
        "--size",
        "20971521",
        "--json",
    ]));
    assert_eq!(oversize[0]["outcome"], "large");
    let table = triage(&["route", "--key", "elsewhere/x", "--size", "1"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("KEY"), "{text}");
    assert!(
        text.contains("IGNORED") && text.contains("key matches no routing rule"),
        "{text}"
    );
}

#[test]
fn route_sends_an_attachment_where_its_e_mail_went() {
    let attachment = "processed/attachments/team-media/mail/q3.eml/1-report.pdf";
    let rules = r#"[{"name":"team-mail","bucket":"team-media","prefix":"mail/","tier":"document"},
                    {"name":"compliance","prefix":"uploads/","tier":"compliance"}]"#;
    let routed = |extra: &[&str]| {
        let mut args = vec![
            "route",
            "--key",
            attachment,
            "--size",
            "5",
            "--bucket",
            "stack-uploads",
            "--rules",
            rules,
            "--json",
        ];
        args.extend_from_slice(extra);
        json_of(&triage(&args))
    };
    let kept_elsewhere = routed(&["--output-buckets", "team-media=stack-uploads"]);
    assert_eq!(kept_elsewhere[0]["outcome"], "document");
    assert_eq!(kept_elsewhere[0]["rule"], "team-mail");
    // Without the map, the key names no source this deployment watches.
    assert_eq!(routed(&[])[0]["outcome"], "IGNORED");
}

#[test]
fn route_judges_each_message_of_an_sqs_batch_on_its_own() {
    let report = json_of(&triage(&[
        "route",
        "--event",
        &fixture("sqs-router-batch.json"),
        "--json",
    ]));
    let outcomes: Vec<&str> = report
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["outcome"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(outcomes, ["thumbnail", "FAILED", "DROPPED"]);
    assert_eq!(report[0]["key"], "uploads/images/cat photo + friends.jpg");
}

#[test]
fn invalid_rules_are_refused_with_the_rule_named() {
    let output = triage(&[
        "route",
        "--key",
        "uploads/x",
        "--size",
        "1",
        "--rules",
        r#"[{"name":"everything","prefix":"","tier":"large"}]"#,
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("rule \"everything\"") && stderr.contains("reserved prefix"),
        "{stderr}"
    );
}

#[tokio::test]
async fn audit_reads_an_objects_history_and_recent_failures() {
    let stage = WorkerStage::new("thumbnail").await;
    let (aws, recorder) = (&stage.aws, &stage.recorder);
    let audit_table = stage.recorder_settings().table;
    let object = ObjectRef {
        bucket: "uploads".into(),
        key: ObjectKey::new("uploads/images/broken photo.jpg").expect("key"),
        version_id: Some("v7".into()),
        etag: None,
        size: Some(512),
    };
    let failed = AuditRecord::finished_now(
        object,
        "thumbnail",
        Status::Failed,
        CorrelationId::from_string("corr-9"),
        Utc::now(),
    )
    .with_tier(Some(Tier::Thumbnail))
    .with_reason("unsupported format tiff");
    recorder.record(&failed).await.expect("recorded");

    let endpoint = aws.emulator.endpoint();
    let history = json_of(&triage(&[
        "audit",
        "--endpoint-url",
        endpoint,
        "--table",
        &audit_table,
        "--bucket",
        "uploads",
        "--key",
        "uploads/images/broken photo.jpg",
        "--json",
    ]));
    assert_eq!(history.as_array().map(Vec::len), Some(1));
    let entry = &history[0];
    for (field, expected) in [
        ("bucket", "uploads"),
        ("key", "uploads/images/broken photo.jpg"),
        ("version", "v7"),
        ("stage", "thumbnail"),
        ("tier", "thumbnail"),
        ("status", "FAILED"),
        ("reason", "unsupported format tiff"),
        ("correlation_id", "corr-9"),
    ] {
        assert_eq!(entry[field], expected, "{field}");
    }
    assert_eq!(entry["size"], 512);

    let failures = triage(&[
        "audit",
        "--endpoint-url",
        endpoint,
        "--table",
        &audit_table,
        "--status",
        "failed",
        "--since",
        "1h",
    ]);
    let text = String::from_utf8_lossy(&failures.stdout);
    assert!(
        failures.status.success(),
        "{}",
        String::from_utf8_lossy(&failures.stderr)
    );
    assert!(
        text.contains("uploads/images/broken photo.jpg")
            && text.contains("unsupported format tiff"),
        "{text}"
    );
    let no_tier_activity = json_of(&triage(&[
        "audit",
        "--endpoint-url",
        endpoint,
        "--table",
        &audit_table,
        "--tier",
        "document",
        "--json",
    ]));
    assert_eq!(no_tier_activity, serde_json::json!([]));
}

#[tokio::test]
async fn dlq_lists_dead_letters_and_redrives_them_to_their_source() {
    let aws = TestResources::new().await;
    let (source, dlq) = aws.queue_with_dlq("source", 3, 30).await;
    for body in ["first", "second"] {
        aws.sqs
            .send_message()
            .queue_url(&dlq)
            .message_body(body)
            .send()
            .await
            .expect("sent");
    }
    let state_file = std::env::temp_dir().join(format!("{}.json", unique("dlq-state")));
    let state =
        serde_json::json!({"endpoint_url": aws.emulator.endpoint(), "dlq_urls": {"test": dlq}});
    std::fs::write(&state_file, state.to_string()).expect("state file");
    let state_arg = state_file.display().to_string();

    let listed = json_of(&triage(&["dlq", "--state-file", &state_arg, "--json"]));
    assert_eq!(listed[0]["messages"], 2);
    assert_eq!(listed[0]["source_queue_url"], source.as_str());

    let redriven = json_of(&triage(&[
        "dlq",
        "--state-file",
        &state_arg,
        "--redrive",
        "--json",
    ]));
    assert_eq!(redriven[0]["redriven"], 2);
    assert_eq!(redriven[0]["messages"], 0);
    let mut moved = aws.drain(&source).await;
    moved.sort();
    assert_eq!(moved, ["first", "second"]);
    let _ = std::fs::remove_file(state_file);
}

#[tokio::test]
async fn audit_finds_tasks_that_stopped_reporting_progress() {
    let stage = WorkerStage::new("large-file").await;
    let (aws, recorder) = (&stage.aws, &stage.recorder);
    let audit_table = stage.recorder_settings().table;
    for (key, minutes_ago) in [("uploads/big/dead.bin", 20), ("uploads/big/alive.bin", 0)] {
        let mut record = AuditRecord::finished_now(
            ObjectRef {
                bucket: "uploads".into(),
                key: ObjectKey::new(key).expect("key"),
                version_id: None,
                etag: Some("e1".into()),
                size: Some(1 << 30),
            },
            "large-file",
            Status::InProgress,
            CorrelationId::from_string(key),
            Utc::now() - chrono::Duration::minutes(30),
        )
        .with_tier(Some(Tier::Large))
        .with_details(serde_json::json!({ "bytes_done": 123_456, "size": 1u64 << 30 }));
        record.finished_at = Utc::now() - chrono::Duration::minutes(minutes_ago);
        recorder.claim(&record).await.expect("claimed");
    }

    let endpoint = aws.emulator.endpoint();
    let args = [
        "audit",
        "--endpoint-url",
        endpoint,
        "--table",
        &audit_table,
        "--status",
        "in_progress",
        "--stale",
        "15m",
    ];
    let stale = json_of(&triage(&[&args[..], &["--json"]].concat()));
    let keys: Vec<&str> = stale
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|entry| entry["key"].as_str())
        .collect();
    assert_eq!(keys, ["uploads/big/dead.bin"]);
    let table = triage(&args);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("IN_PROGRESS") && text.contains("123456 of 1073741824 bytes"),
        "{text}"
    );
}

#[test]
fn batch_operations_jobs_say_what_they_need_and_that_the_emulator_runs_none() {
    let refused = |args: &[&str]| {
        let output = triage(args);
        assert!(!output.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let local = refused(&[
        "backfill",
        "--batch-operations",
        "--endpoint-url",
        "http://127.0.0.1:9",
    ]);
    assert!(
        local.contains("the emulator runs no S3 Batch Operations jobs"),
        "{local}"
    );
    let without_role = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args([
            "backfill",
            "--batch-operations",
            "--bucket",
            "b",
            "--prefix",
            "uploads/",
        ])
        .env_remove("TRIAGE_BATCH_OPERATIONS_ROLE_ARN")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_REGION", "eu-west-1")
        .output()
        .expect("triage runs");
    let stderr = String::from_utf8_lossy(&without_role.stderr);
    assert!(
        stderr.contains("stack.batch_operations.role_arn"),
        "{stderr}"
    );
    let dry = refused(&["backfill", "--batch-operations", "--dry-run"]);
    assert!(dry.contains("cannot be used with"), "{dry}");
}

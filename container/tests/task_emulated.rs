//! The task against the emulator's S3, DynamoDB and SNS, through the real SDK clients.

use audit::Status;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use compliance::config::VerdictSettings;
use compliance::quarantine::{QuarantineMode, VerdictWriter};
use compliance::tags::VerdictTags;
use compliance::verdict::VERDICT_STAGE;
use large_file::config::{QueueSettings, TaskConfig};
use large_file::stream::StreamSettings;
use large_file::task::{LargeFileTask, Outcome, STAGE};
use object_events::Tier;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use testkit::stage::WorkerStage;
use tokio_util::sync::CancellationToken;
use worker_common::s3::{hex, S3Store};

const MIB: usize = 1 << 20;

fn bytes(size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| (i % 251) as u8 ^ (i >> 16) as u8)
        .collect()
}

fn task(stage: &WorkerStage, max_bytes: u64) -> LargeFileTask {
    let store = S3Store {
        client: stage.s3.clone(),
    };
    let verdicts = VerdictSettings {
        quarantine: QuarantineMode::Copy,
        tags: VerdictTags::parse("s3-triage").expect("preset"),
    };
    LargeFileTask {
        verdicts: VerdictWriter::deployed(
            &stage.aws.config,
            &stage.recorder_settings(),
            store.clone(),
            &verdicts,
            &worker_common::outputs::Outputs::in_place("processed/"),
        ),
        store,
        recorder: stage.recorder.clone(),
        config: TaskConfig {
            queue: QueueSettings {
                url: "unused: each test runs one pass".into(),
                messages_at_once: 1,
                idle: Duration::from_secs(1),
                visibility: Duration::from_secs(30),
            },
            recorder: stage.recorder_settings(),
            stream: StreamSettings {
                part_size: MIB as u64,
                parallelism: 3,
                attempts: 3,
                retry_delay: Duration::from_millis(10),
            },
            progress_interval: Duration::from_secs(1),
            max_bytes,
            outputs: worker_common::outputs::Outputs::in_place("processed/"),
            signatures_uri: None,
            verdicts,
        },
        checkers: Arc::new(Vec::new()),
    }
}

/// Gives the task every check, the malware scan with a signature for the bytes `MARKER`.
async fn with_marker_signature(stage: &WorkerStage, task: &mut LargeFileTask) {
    stage
        .s3
        .put_object()
        .bucket(&stage.bucket)
        .key("config/signatures/marker.ndb")
        .body(ByteStream::from_static(b"Test.Marker:0:*:4d41524b4552\n"))
        .send()
        .await
        .expect("signatures");
    task.config.signatures_uri = Some(format!("s3://{}/config/signatures/", stage.bucket));
    task.checkers = Arc::new(
        task.config
            .pass_checkers(&stage.s3)
            .await
            .expect("checkers"),
    );
}

async fn manifest(stage: &WorkerStage, key: &str) -> Value {
    let stored = stage
        .s3
        .get_object()
        .bucket(&stage.bucket)
        .key(key)
        .send()
        .await
        .expect("manifest stored");
    let body = stored.body.collect().await.expect("body").into_bytes();
    serde_json::from_slice(&body).expect("manifest JSON")
}

#[tokio::test]
async fn an_object_is_streamed_verified_and_recorded_once_with_its_manifest() {
    let stage = WorkerStage::new(STAGE).await;
    let key = "uploads/archives/big backup+1 é.bin";
    let data = bytes(3 * MIB + 1);
    let dispatch = stage.upload(key, data.clone(), Tier::Large).await;
    let cancel = CancellationToken::new();

    let outcome = task(&stage, 1 << 30).run(&dispatch, &cancel).await;
    assert_eq!(
        outcome.expect("recorded"),
        Outcome::Recorded(Status::Succeeded)
    );
    let records = stage.records(key).await;
    let [record] = records.as_slice() else {
        panic!("one record, got {records:?}");
    };
    let sha256 = hex(&Sha256::digest(&data));
    assert_eq!(record.status, "SUCCEEDED");
    assert_eq!(record.sha256.as_deref(), Some(sha256.as_str()));
    assert_eq!(
        record.content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(
        record.outputs,
        [format!("processed/manifests/{key}/manifest.json")]
    );
    let details = record.details.as_ref().expect("details");
    // The SDK sent a CRC32 with the upload; S3 keeps it and the task recomputed it.
    assert_eq!(details["verification"]["result"], "matched", "{details}");
    assert_eq!(details["verification"]["against"], "stored CRC32 checksum");

    let manifest = manifest(&stage, &record.outputs[0]).await;
    assert_eq!(manifest["sha256"], sha256.as_str());
    assert_eq!(manifest["size"], 3 * MIB + 1);
    assert_eq!(manifest["part_size"], MIB);
    let parts = manifest["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 4);
    assert_eq!(parts[3]["offset"], 3 * MIB);
    assert_eq!(parts[3]["length"], 1);

    // A second delivery of the same dispatch does nothing.
    let again = task(&stage, 1 << 30).run(&dispatch, &cancel).await;
    assert_eq!(again.expect("checked"), Outcome::Duplicate);
    assert_eq!(stage.records(key).await.len(), 1);
    assert_eq!(stage.notified_statuses().await, ["SUCCEEDED"]);
}

#[tokio::test]
async fn a_multipart_upload_is_checked_against_its_etag() {
    let stage = WorkerStage::new(STAGE).await;
    let key = "uploads/video/multipart.mp4";
    let part_size = 5 * MIB;
    let data = bytes(2 * part_size + 7);
    let upload = stage
        .s3
        .create_multipart_upload()
        .bucket(&stage.bucket)
        .key(key)
        .send()
        .await
        .expect("upload started");
    let upload_id = upload.upload_id().expect("upload id");
    let mut completed = CompletedMultipartUpload::builder();
    for (index, chunk) in data.chunks(part_size).enumerate() {
        let number = index as i32 + 1;
        let part = stage
            .s3
            .upload_part()
            .bucket(&stage.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(chunk.to_vec()))
            .send()
            .await
            .expect("part uploaded");
        completed = completed.parts(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(part.e_tag().map(str::to_owned))
                .set_checksum_crc32(part.checksum_crc32().map(str::to_owned))
                .build(),
        );
    }
    let done = stage
        .s3
        .complete_multipart_upload()
        .bucket(&stage.bucket)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(completed.build())
        .send()
        .await
        .expect("upload completed");
    let etag = done.e_tag().map(|etag| etag.trim_matches('"').to_owned());
    let dispatch = stage.dispatch(key, data.len() as u64, etag, Tier::Large);

    let outcome = task(&stage, 1 << 30)
        .run(&dispatch, &CancellationToken::new())
        .await;
    assert_eq!(
        outcome.expect("recorded"),
        Outcome::Recorded(Status::Succeeded)
    );
    let records = stage.records(key).await;
    let details = records[0].details.as_ref().expect("details");
    assert_eq!(details["verification"]["result"], "matched", "{details}");
    let against = details["verification"]["against"]
        .as_str()
        .unwrap_or_default();
    assert!(against.starts_with("multipart eTag"), "{against}");
    assert_eq!(
        records[0].sha256.as_deref(),
        Some(hex(&Sha256::digest(&data)).as_str())
    );
}

#[tokio::test]
async fn an_object_over_the_limit_is_failed_without_being_read() {
    let stage = WorkerStage::new(STAGE).await;
    let key = "uploads/archives/too big.bin";
    let dispatch = stage.upload(key, bytes(MIB), Tier::Large).await;
    let outcome = task(&stage, (MIB - 1) as u64)
        .run(&dispatch, &CancellationToken::new())
        .await;
    assert_eq!(
        outcome.expect("recorded"),
        Outcome::Recorded(Status::Failed)
    );
    let reason = stage.records(key).await[0]
        .reason
        .clone()
        .unwrap_or_default();
    assert_eq!(
        reason,
        "object of 1 MiB exceeds the large-file limit of 1048575 bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compliance_checks_run_in_the_same_pass() {
    let stage = WorkerStage::new(STAGE).await;
    let key = "uploads/documents/ledger.csv";
    // Past the first part, split across the 1 MiB part boundary: found all the same.
    let mut data = b"id,contact\n".repeat(MIB / 11 + 1);
    data.truncate(MIB - 3);
    data.extend_from_slice(b"MARKER,ada@example.com\n");
    data.extend(b"1,none\n".repeat(1000));
    let dispatch = stage.upload(key, data, Tier::Large).await;
    let mut task = task(&stage, 1 << 30);
    with_marker_signature(&stage, &mut task).await;
    let outcome = task.run(&dispatch, &CancellationToken::new()).await;
    assert_eq!(
        outcome.expect("recorded"),
        Outcome::Recorded(Status::Succeeded)
    );
    let records = stage.records(key).await;
    let details = records[0].details.as_ref().expect("details");
    assert_eq!(
        details["checks"],
        serde_json::json!({"content": "CLEAN", "malware": "INFECTED", "pii": "FLAGGED"})
    );
    let reason = records[0].reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("compliance malware INFECTED: signatures matched: Test.Marker"),
        "{reason}"
    );
    let manifest = manifest(&stage, &records[0].outputs[0]).await;
    let findings = &manifest["checks"]["malware"]["details"]["findings"];
    assert_eq!(findings[0]["offset"], MIB - 3, "{manifest}");
    assert_eq!(
        manifest["checks"]["pii"]["details"]["found"]["email"]["count"],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_in_the_middle_of_300_mib_makes_an_infected_verdict_tagged_and_quarantined() {
    let stage = WorkerStage::new(STAGE).await;
    let key = "uploads/archives/disk image.bin";
    let size = 300 * MIB;
    let mut data = vec![0x5a_u8; size];
    data[size / 2..size / 2 + 6].copy_from_slice(b"MARKER");
    let dispatch = stage.upload(key, data, Tier::Large).await;
    let mut task = task(&stage, 1 << 30);
    // The emulator re-reads the whole object for every ranged GET: one streaming GET.
    task.config.stream.part_size = size as u64;
    task.config.stream.parallelism = 1;
    with_marker_signature(&stage, &mut task).await;
    let outcome = task.run(&dispatch, &CancellationToken::new()).await;
    assert_eq!(
        outcome.expect("recorded"),
        Outcome::Recorded(Status::Succeeded)
    );

    let history = stage
        .trail
        .object_history(&stage.bucket, key)
        .await
        .expect("history");
    let verdict = history
        .iter()
        .find(|entry| entry.stage == VERDICT_STAGE)
        .expect("a compliance verdict");
    assert_eq!(verdict.status, "INFECTED");
    let reason = verdict.reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("malware: signatures matched: Test.Marker"),
        "{reason}"
    );
    let tags = testkit::resources::object_tags(&stage.s3, &stage.bucket, key).await;
    assert_eq!(
        tags,
        [("s3-triage-verdict".to_owned(), "infected".to_owned())]
    );
    let copy = &verdict.outputs[0];
    assert!(copy.starts_with("processed/quarantine/"), "{copy}");
    let head = stage
        .s3
        .head_object()
        .bucket(&stage.bucket)
        .key(copy)
        .send()
        .await
        .expect("quarantine copy");
    assert_eq!(head.content_length(), Some(size as i64));

    let mut notified = stage.notified(&["stage", "status", "outcome"]).await;
    notified.sort();
    assert_eq!(
        notified,
        [
            ["compliance", "INFECTED", "failure"],
            ["large-file", "SUCCEEDED", "success"]
        ],
        "one verdict notification, a failure"
    );
}

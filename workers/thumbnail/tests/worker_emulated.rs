//! The worker against the emulator's S3, DynamoDB and SNS, through the real SDK clients.

use audit::AuditEntry;
use image::{DynamicImage, GenericImageView, ImageFormat, Rgb, RgbImage};
use object_events::Tier;
use serde_json::Value;
use std::io::Cursor;
use std::time::Duration;
use testkit::stage::WorkerStage;
use thumbnail::config::ThumbnailConfig;
use thumbnail::handler::ThumbnailWorker;
use thumbnail::libjpeg::FailOn;
use thumbnail::render::RenderSettings;
use worker_common::deadline::Invocation;
use worker_common::outputs::Outputs;
use worker_common::s3::S3Store;

struct Fixture {
    stage: WorkerStage,
    worker: ThumbnailWorker,
}

/// As Lambda's default thumbnail timeout gives.
fn invocation() -> Invocation {
    Invocation::lasting(Duration::from_secs(30))
}

async fn fixture() -> Fixture {
    let stage = WorkerStage::new(thumbnail::handler::STAGE).await;
    let worker = ThumbnailWorker {
        store: S3Store {
            client: stage.s3.clone(),
        },
        recorder: stage.recorder.clone(),
        config: ThumbnailConfig {
            recorder: stage.recorder_settings(),
            render: RenderSettings {
                sizes: vec![128, 32],
                ..RenderSettings::default()
            },
            outputs: Outputs::in_place("processed/"),
            max_bytes: 10 << 20,
        },
    };
    Fixture { stage, worker }
}

impl Fixture {
    /// Uploads `bytes` under `key`, hands its dispatch to the worker; returns its one record.
    async fn processed(&self, key: &str, bytes: Vec<u8>) -> AuditEntry {
        let dispatch = self.upload(key, bytes).await;
        self.worker
            .handle(dispatch, invocation())
            .await
            .expect("handled");
        let mut records = self.stage.records(key).await;
        assert_eq!(records.len(), 1, "{key}");
        records.remove(0)
    }

    /// Uploads `bytes` and returns the router's dispatch for that upload.
    async fn upload(&self, key: &str, bytes: Vec<u8>) -> Value {
        let dispatch = self.stage.upload(key, bytes, Tier::Thumbnail).await;
        serde_json::to_value(dispatch).expect("JSON")
    }
}

fn photo(width: u32, height: u32) -> Vec<u8> {
    let image = DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    }));
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Jpeg).expect("JPEG");
    out.into_inner()
}

/// A watched bucket whose outputs are kept elsewhere (terraform existing_buckets, outputs =
/// "stack"): the thumbnails go to the other bucket under the source bucket's name, and the
/// record lists them by their s3:// address.
#[tokio::test]
async fn a_buckets_thumbnails_can_be_kept_in_another_bucket_under_its_name() {
    let mut fixture = fixture().await;
    let elsewhere = testkit::resources::unique("outputs");
    fixture
        .stage
        .s3
        .create_bucket()
        .bucket(&elsewhere)
        .send()
        .await
        .expect("output bucket");
    let source = fixture.stage.bucket.clone();
    fixture
        .worker
        .config
        .outputs
        .elsewhere
        .insert(source.clone(), elsewhere.clone());
    let key = "uploads/images/team photo.jpg";
    let record = fixture.processed(key, photo(640, 480)).await;
    assert_eq!(record.status, "SUCCEEDED", "{record:?}");
    let expected: Vec<String> = [128, 32]
        .iter()
        .map(|size| format!("s3://{elsewhere}/processed/thumbnails/{source}/{key}/{size}.jpg"))
        .collect();
    assert_eq!(record.outputs, expected);
    let stored = fixture
        .stage
        .s3
        .get_object()
        .bucket(&elsewhere)
        .key(format!("processed/thumbnails/{source}/{key}/128.jpg"))
        .send()
        .await
        .expect("the thumbnail is in the output bucket");
    let bytes = stored.body.collect().await.expect("body").into_bytes();
    let thumbnail = image::load_from_memory(&bytes).expect("a JPEG");
    assert_eq!(thumbnail.dimensions(), (128, 96));
    let left = fixture
        .stage
        .s3
        .list_objects_v2()
        .bucket(&source)
        .prefix("processed/")
        .send()
        .await
        .expect("listing");
    assert!(
        left.contents().is_empty(),
        "outputs left in the source bucket"
    );
}

#[tokio::test]
async fn an_image_gets_its_thumbnails_one_record_and_one_notification() {
    let fixture = fixture().await;
    let key = "uploads/images/holiday photo+1 é.png";
    let dispatch = fixture.upload(key, photo(640, 480)).await;

    let response = fixture
        .worker
        .handle(dispatch.clone(), invocation())
        .await
        .expect("handled");
    assert_eq!(response["status"], "SUCCEEDED", "{response}");

    let records = fixture.stage.records(key).await;
    let [record] = records.as_slice() else {
        panic!("one thumbnail record, got {records:?}");
    };
    assert_eq!(record.status, "SUCCEEDED");
    assert_eq!(
        record.outputs,
        [
            format!("processed/thumbnails/{key}/128.jpg"),
            format!("processed/thumbnails/{key}/32.jpg")
        ]
    );
    assert_eq!(record.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(record.sha256.as_ref().map(String::len), Some(64));
    let details = record.details.as_ref().expect("details");
    assert_eq!(details["source_width"], 640);
    assert_eq!(details["detected_format"], "JPEG");
    assert_eq!(details["thumbnails"][0]["width"], 128);
    assert_eq!(details["thumbnails"][0]["height"], 96);
    assert_eq!(
        details["extension_mismatch"],
        "key says .png, content is JPEG"
    );
    for stage in ["download", "decode", "resize", "encode", "upload"] {
        assert!(details["timings_ms"][stage].is_u64(), "{stage}: {details}");
    }

    let stored = fixture
        .stage
        .s3
        .get_object()
        .bucket(&fixture.stage.bucket)
        .key(&record.outputs[0])
        .send()
        .await
        .expect("thumbnail stored");
    assert_eq!(stored.content_type(), Some("image/jpeg"));
    let metadata = stored.metadata().cloned().unwrap_or_default();
    assert_eq!(
        metadata.get("source-key").map(String::as_str),
        Some("uploads%2Fimages%2Fholiday%20photo%2B1%20%C3%A9%2Epng")
    );
    let bytes = stored.body.collect().await.expect("body").into_bytes();
    let thumbnail = image::load_from_memory(&bytes).expect("a JPEG");
    assert_eq!(thumbnail.dimensions(), (128, 96));

    // A redelivered invoke does nothing: no second record, no second notification.
    let again = fixture
        .worker
        .handle(dispatch, invocation())
        .await
        .expect("handled");
    assert_eq!(again["status"], "DUPLICATE");
    assert_eq!(fixture.stage.records(key).await.len(), 1);
    assert_eq!(fixture.stage.notified_statuses().await, ["SUCCEEDED"]);
}

#[tokio::test]
async fn a_corrupt_or_replaced_image_is_recorded_failed_with_a_reason() {
    let fixture = fixture().await;
    let corrupt = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[0x42; 500]].concat();
    let dispatch = fixture.upload("uploads/images/broken.jpg", corrupt).await;
    let response = fixture
        .worker
        .handle(dispatch, invocation())
        .await
        .expect("handled");
    assert_eq!(response["status"], "FAILED");
    let records = fixture.stage.records("uploads/images/broken.jpg").await;
    assert_eq!(records.len(), 1);
    let reason = records[0].reason.clone().unwrap_or_default();
    assert!(reason.starts_with("corrupt or truncated JPEG"), "{reason}");
    assert!(records[0].outputs.is_empty());

    // The event names the first upload; the key now holds another one.
    let first = fixture
        .upload("uploads/images/replaced.jpg", photo(64, 64))
        .await;
    fixture
        .upload("uploads/images/replaced.jpg", photo(32, 32))
        .await;
    fixture
        .worker
        .handle(first, invocation())
        .await
        .expect("handled");
    let records = fixture.stage.records("uploads/images/replaced.jpg").await;
    assert_eq!(records.len(), 1);
    let reason = records[0].reason.clone().unwrap_or_default();
    assert!(reason.contains("overwritten"), "{reason}");

    assert_eq!(
        fixture.stage.notified_statuses().await,
        ["FAILED", "FAILED"]
    );
}

#[tokio::test]
async fn a_payload_that_is_not_a_dispatch_fails_the_invocation() {
    let fixture = fixture().await;
    let err = fixture
        .worker
        .handle(serde_json::json!({ "hello": "world" }), invocation())
        .await
        .expect_err("not a dispatch");
    assert!(err.to_string().contains("not a dispatch"), "{err}");
}

#[tokio::test]
async fn a_truncated_jpeg_fails_by_default_and_succeeds_noted_damaged_under_none() {
    let mut fixture = fixture().await;
    let truncated = testkit::images::truncated_jpeg(0.6);
    let failed = fixture
        .processed("uploads/images/cut short.jpg", truncated.clone())
        .await;
    assert_eq!(failed.status, "FAILED");
    assert_eq!(
        failed.reason.as_deref(),
        Some("truncated JPEG: Premature end of JPEG file")
    );

    fixture.worker.config.render.fail_on = FailOn::None;
    let kept = fixture
        .processed("uploads/images/cut short, kept.jpg", truncated)
        .await;
    assert_eq!(kept.status, "SUCCEEDED");
    let details = kept.details.clone().expect("details");
    assert_eq!(details["damaged"], true);
    assert_eq!(details["damage"], "Premature end of JPEG file");
    assert_eq!(
        fixture.stage.notified_statuses().await,
        ["FAILED", "SUCCEEDED"]
    );
}

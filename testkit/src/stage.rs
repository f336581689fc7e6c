//! A worker stage's world on the emulator: a bucket to upload to, an audit table, a
//! notifications topic with a queue subscribed to it, and the recorder a worker writes with.

use crate::resources::{unique, TestResources};
use audit::{table, AuditEntry, AuditTrail, Recorder, RecorderSettings};
use aws_sdk_s3::primitives::ByteStream;
use chrono::Utc;
use notifications::SnsNotifier;
use object_events::{Dispatch, ObjectKey, S3Object, Tier};
use std::time::Duration;

pub struct WorkerStage {
    pub aws: TestResources,
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub recorder: Recorder,
    pub trail: AuditTrail,
    /// A queue subscribed to the notifications topic.
    pub notifications: String,
    stage: String,
}

impl WorkerStage {
    /// Fresh resources for the worker recording as `stage`.
    pub async fn new(stage: &str) -> Self {
        let aws = TestResources::new().await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&aws.config)
                .force_path_style(true)
                .build(),
        );
        let bucket = unique("uploads");
        s3.create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("bucket");
        let dynamodb = aws_sdk_dynamodb::Client::new(&aws.config);
        let audit_table = unique("audit");
        table::create_table(&dynamodb, &audit_table)
            .await
            .expect("table");
        let topic_arn = aws.topic("notifications").await;
        let notifications = aws.subscribed_queue(&topic_arn, &[]).await;
        let settings = RecorderSettings {
            table: audit_table.clone(),
            topic_arn,
            worker: stage.into(),
            environment: "test".into(),
            retention: Duration::from_secs(3600),
            claim_lease: Duration::from_secs(60),
            emit_metrics: false,
        };
        Self {
            recorder: SnsNotifier::recorder(&aws.config, settings),
            trail: AuditTrail::new(dynamodb, &audit_table),
            aws,
            s3,
            bucket,
            notifications,
            stage: stage.into(),
        }
    }

    pub fn recorder_settings(&self) -> RecorderSettings {
        self.recorder.settings().clone()
    }

    /// Uploads `bytes` under `key` and returns the router's dispatch of that upload to `tier`.
    pub async fn upload(&self, key: &str, bytes: Vec<u8>, tier: Tier) -> Dispatch {
        let size = bytes.len() as u64;
        let put = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .expect("uploaded");
        let etag = put.e_tag().map(|etag| etag.trim_matches('"').to_owned());
        self.dispatch(key, size, etag, tier)
    }

    /// The router's dispatch of the object `key` as an event would describe it.
    pub fn dispatch(&self, key: &str, size: u64, etag: Option<String>, tier: Tier) -> Dispatch {
        let key = ObjectKey::new(key).expect("key");
        let object = S3Object::put(&self.bucket, key, size, etag);
        Dispatch::new(object, tier, tier.as_str(), Utc::now())
    }

    /// This stage's audit records of `key`.
    pub async fn records(&self, key: &str) -> Vec<AuditEntry> {
        let history = self
            .trail
            .object_history(&self.bucket, key)
            .await
            .expect("history");
        history
            .into_iter()
            .filter(|entry| entry.stage == self.stage)
            .collect()
    }

    /// The `status` attribute of every notification received since the last call.
    pub async fn notified_statuses(&self) -> Vec<String> {
        self.notified(&["status"])
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// The values of `attributes` of every notification received since the last call.
    pub async fn notified(&self, attributes: &[&str]) -> Vec<Vec<String>> {
        self.aws
            .drain(&self.notifications)
            .await
            .iter()
            .map(|body| {
                let envelope: serde_json::Value = serde_json::from_str(body).expect("SNS envelope");
                attributes
                    .iter()
                    .map(|name| {
                        envelope["MessageAttributes"][name]["Value"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned()
                    })
                    .collect()
            })
            .collect()
    }
}

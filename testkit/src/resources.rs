//! Test support: uniquely named resources on the shared emulator, so tests that run at the same
//! time on one server never see each other's queues, topics or tables. Functions here panic on
//! emulator errors, as a failed set-up should fail the test that asked for it.

use aws_config::SdkConfig;
use emulator::Emulator;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct TestResources {
    pub emulator: &'static Emulator,
    pub config: SdkConfig,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
}

/// A name no other test in any process uses: `<prefix>-<pid>-<n>`.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestResources {
    pub async fn new() -> Self {
        let emulator = Emulator::shared().expect("the emulator starts");
        let config = emulator.sdk_config().await;
        Self {
            emulator,
            sqs: aws_sdk_sqs::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            config,
        }
    }

    /// A new queue; returns its URL.
    pub async fn queue(&self, prefix: &str) -> String {
        let created = self
            .sqs
            .create_queue()
            .queue_name(unique(prefix))
            .send()
            .await;
        created
            .expect("queue created")
            .queue_url
            .expect("queue URL")
    }

    /// A new queue whose messages move to a new DLQ after `max_receive_count` receives, and
    /// whose visibility timeout is `visibility_seconds`; returns (queue URL, DLQ URL).
    pub async fn queue_with_dlq(
        &self,
        prefix: &str,
        max_receive_count: u32,
        visibility_seconds: u32,
    ) -> (String, String) {
        use aws_sdk_sqs::types::QueueAttributeName;
        let dlq = self.queue(&format!("{prefix}-dlq")).await;
        let redrive = format!(
            r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":{max_receive_count}}}"#,
            self.queue_arn(&dlq).await
        );
        let created = self
            .sqs
            .create_queue()
            .queue_name(unique(prefix))
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                visibility_seconds.to_string(),
            )
            .send()
            .await;
        let url = created
            .expect("queue created")
            .queue_url
            .expect("queue URL");
        (url, dlq)
    }

    /// A new Lambda function with its own role; returns its name. The emulator stores it and
    /// runs nothing: the local executor, or the test, plays the function.
    pub async fn function(&self, prefix: &str) -> String {
        use aws_sdk_lambda::primitives::Blob;
        use aws_sdk_lambda::types::{FunctionCode, Runtime};
        let name = unique(prefix);
        self.emulator
            .query(
                "iam",
                &[
                    ("Action", "CreateRole"),
                    ("Version", "2010-05-08"),
                    ("RoleName", &name),
                    (
                        "AssumeRolePolicyDocument",
                        r#"{"Version":"2012-10-17","Statement":[]}"#,
                    ),
                ],
            )
            .expect("role created");
        aws_sdk_lambda::Client::new(&self.config)
            .create_function()
            .function_name(&name)
            .runtime(Runtime::Providedal2023)
            .handler("bootstrap")
            .role(format!("arn:aws:iam::123456789012:role/{name}"))
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new("never executed"))
                    .build(),
            )
            .send()
            .await
            .expect("function created");
        name
    }

    /// A new topic; returns its ARN.
    pub async fn topic(&self, prefix: &str) -> String {
        let created = self.sns.create_topic().name(unique(prefix)).send().await;
        created
            .expect("topic created")
            .topic_arn
            .expect("topic ARN")
    }

    /// A new queue subscribed to `topic_arn` with the given subscription attributes
    /// (`FilterPolicy`, `RawMessageDelivery`, ...); returns the queue's URL.
    pub async fn subscribed_queue(&self, topic_arn: &str, attributes: &[(&str, &str)]) -> String {
        emulator::subscribe_new_queue(
            &self.sqs,
            &self.sns,
            topic_arn,
            &unique("subscriber"),
            attributes,
        )
        .await
        .expect("subscribed queue")
    }

    pub async fn queue_arn(&self, queue_url: &str) -> String {
        emulator::queue_arn(&self.sqs, queue_url)
            .await
            .expect("queue ARN")
    }

    /// Receives and deletes every message currently in the queue; returns their bodies.
    pub async fn drain(&self, queue_url: &str) -> Vec<String> {
        emulator::drain_queue(&self.sqs, queue_url)
            .await
            .expect("queue drained")
    }
}

/// The tasks of `cluster` whose desired status is `status`, described.
pub async fn ecs_tasks(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    status: aws_sdk_ecs::types::DesiredStatus,
) -> Vec<aws_sdk_ecs::types::Task> {
    let arns = ecs
        .list_tasks()
        .cluster(cluster)
        .desired_status(status)
        .send()
        .await
        .expect("tasks listed")
        .task_arns
        .unwrap_or_default();
    if arns.is_empty() {
        return Vec::new();
    }
    ecs.describe_tasks()
        .cluster(cluster)
        .set_tasks(Some(arns))
        .send()
        .await
        .expect("tasks described")
        .tasks
        .unwrap_or_default()
}

/// The tags of `key` in `bucket`, as (key, value) pairs in S3's order.
pub async fn object_tags(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Vec<(String, String)> {
    let tagging = s3
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|err| panic!("the tags of {key}: {err:?}"));
    tagging
        .tag_set()
        .iter()
        .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
        .collect()
}

//! Test support: uniquely named resources on the shared emulator, so tests that run at the same
//! time on one server never see each other's queues, topics or tables. Functions here panic on
//! emulator errors, as a failed set-up should fail the test that asked for it.

use crate::Emulator;
use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
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
        let queue_url = self.queue("subscriber").await;
        let queue_arn = self
            .sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
            .expect("queue ARN");
        let mut subscription = self
            .sns
            .subscribe()
            .topic_arn(topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn);
        for (name, value) in attributes {
            subscription = subscription.attributes(*name, *value);
        }
        subscription.send().await.expect("subscribed");
        queue_url
    }

    /// Receives and deletes every message currently in the queue; returns their bodies.
    pub async fn drain(&self, queue_url: &str) -> Vec<String> {
        let mut bodies = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("received");
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return bodies;
            }
            for message in messages {
                bodies.push(message.body.unwrap_or_default());
                self.sqs
                    .delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(message.receipt_handle.unwrap_or_default())
                    .send()
                    .await
                    .expect("deleted");
            }
        }
    }
}

//! `triage enable-eventbridge`: turns a watched bucket's EventBridge switch on, keeping every
//! notification it already sends. The switch is part of the bucket's notification
//! configuration, which S3 only replaces whole (and terraform's `aws_s3_bucket_notification`
//! owns whole): this reads it, adds the switch, writes everything else back as it was and
//! checks the result.

use crate::target::TargetArgs;
use anyhow::{bail, Context};
use aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput as Current;
use aws_sdk_s3::types::{EventBridgeConfiguration, NotificationConfiguration};
use clap::Args;

#[derive(Args)]
#[command(
    after_help = "For a bucket a deployment watches but did not create (terraform \
    existing_buckets; its output enable_eventbridge lists the commands):\n  \
    triage enable-eventbridge --bucket team-media\n\
    S3 has no conditional write for a notification configuration: run it while nobody else \
    changes this bucket's notifications."
)]
pub struct EnableEventBridgeArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The bucket whose events EventBridge should receive.
    #[arg(long)]
    bucket: String,
    /// Only say whether the switch is on (exit 1 if not); change nothing.
    #[arg(long)]
    check: bool,
}

pub async fn run(args: EnableEventBridgeArgs) -> anyhow::Result<()> {
    let target = args.target.resolve().await?;
    let s3 = crate::target::s3_client(&target.config);
    if args.check {
        let current = read(&s3, &args.bucket).await?;
        if current.event_bridge_configuration().is_none() {
            bail!(
                "EventBridge is off for {0}: run triage enable-eventbridge --bucket {0}",
                args.bucket
            );
        }
        println!("EventBridge is on for {}", args.bucket);
        return Ok(());
    }
    let kept = enable(&s3, &args.bucket).await?;
    println!(
        "EventBridge is on for {}; its {kept} other notification destinations are unchanged",
        args.bucket
    );
    Ok(())
}

/// Turns `bucket`'s EventBridge switch on if it is off; how many other destinations it keeps.
pub async fn enable(s3: &aws_sdk_s3::Client, bucket: &str) -> anyhow::Result<usize> {
    let before = read(s3, bucket).await?;
    let kept = destinations(&before);
    if before.event_bridge_configuration().is_some() {
        return Ok(kept);
    }
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(with_eventbridge(&before))
        // The owner's destinations are written back as they were, not ours to test again.
        .skip_destination_validation(true)
        .send()
        .await
        .with_context(|| format!("writing the notification configuration of {bucket}"))?;
    let after = read(s3, bucket).await?;
    if after.event_bridge_configuration().is_none() {
        bail!("{bucket}'s EventBridge switch is still off after writing it");
    }
    if !same_destinations(&before, &after) {
        bail!(
            "{bucket}'s notification destinations changed while the switch was turned on (someone \
             else wrote them meanwhile?): compare them with what they should be"
        );
    }
    Ok(kept)
}

async fn read(s3: &aws_sdk_s3::Client, bucket: &str) -> anyhow::Result<Current> {
    s3.get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
        .with_context(|| format!("reading the notification configuration of {bucket}"))
}

/// `current` with EventBridge on and every other destination as it is.
fn with_eventbridge(current: &Current) -> NotificationConfiguration {
    NotificationConfiguration::builder()
        .set_topic_configurations(Some(current.topic_configurations().to_vec()))
        .set_queue_configurations(Some(current.queue_configurations().to_vec()))
        .set_lambda_function_configurations(Some(current.lambda_function_configurations().to_vec()))
        .event_bridge_configuration(EventBridgeConfiguration::builder().build())
        .build()
}

fn destinations(configuration: &Current) -> usize {
    configuration.topic_configurations().len()
        + configuration.queue_configurations().len()
        + configuration.lambda_function_configurations().len()
}

fn same_destinations(before: &Current, after: &Current) -> bool {
    before.topic_configurations() == after.topic_configurations()
        && before.queue_configurations() == after.queue_configurations()
        && before.lambda_function_configurations() == after.lambda_function_configurations()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::types::{Event, QueueConfiguration, TopicConfiguration};

    #[test]
    fn the_switch_is_added_and_every_destination_kept() {
        let queue = QueueConfiguration::builder()
            .id("their-indexer")
            .queue_arn("arn:aws:sqs:eu-west-1:111122223333:indexer")
            .events(Event::S3ObjectCreated)
            .build()
            .expect("queue configuration");
        let topic = TopicConfiguration::builder()
            .topic_arn("arn:aws:sns:eu-west-1:111122223333:deletes")
            .events(Event::S3ObjectRemoved)
            .build()
            .expect("topic configuration");
        let current = Current::builder()
            .queue_configurations(queue.clone())
            .topic_configurations(topic.clone())
            .build();
        let written = with_eventbridge(&current);
        assert!(written.event_bridge_configuration().is_some());
        assert_eq!(written.queue_configurations(), [queue]);
        assert_eq!(written.topic_configurations(), [topic]);
        assert!(written.lambda_function_configurations().is_empty());
        assert_eq!(destinations(&current), 2);
    }
}

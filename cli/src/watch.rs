//! `triage watch`: outcomes as they are announced, from any deployment. A temporary queue
//! subscribed to the notifications topic with the chosen filter is read until Ctrl-C, then
//! removed with its subscription. A watch that could not clean up (killed, crashed, the
//! machine gone) is removed by the next one: by its owner's process being gone on this
//! machine, or by its heartbeat going stale on any.

use crate::target::TargetArgs;
use anyhow::{bail, Context};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, QueueAttributeName};
use chrono::{DateTime, Utc};
use clap::Args;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// Every watch queue's name starts with it.
const QUEUE_PREFIX: &str = "triage-watch-";
const TOPIC_TAG: &str = "s3-triage:watch-topic";
const OWNER_TAG: &str = "s3-triage:watch-owner";
const HEARTBEAT_TAG: &str = "s3-triage:watch-heartbeat";
const HEARTBEAT: Duration = Duration::from_secs(60);
/// A watch whose heartbeat is this old is gone, wherever it ran.
const STALE_AFTER: Duration = Duration::from_secs(5 * 60);

#[derive(Args)]
#[command(
    after_help = "Examples:\n  triage watch --state-file .local/state.json --filter failures\n  \
    triage watch --topic-arn arn:aws:sns:eu-west-1:123456789012:s3-triage-prod-notifications --json\n  \
    triage watch --filter '{\"tier\": [\"large\"], \"outcome\": [\"failure\"]}'\n\n\
    Needs sqs:ListQueues, and CreateQueue/SetQueueAttributes/TagQueue/ListQueueTags/ReceiveMessage/\n\
    DeleteMessage/DeleteQueue on triage-watch-* queues; sns:Subscribe/ListSubscriptionsByTopic/\n\
    Unsubscribe on the topic. AWS credentials, region and endpoint come from the standard configuration chain;\n\
    --state-file or --endpoint-url point at a local stack instead."
)]
pub struct WatchArgs {
    /// all, failures, verdicts or infected (notifications/filters.json), or a filter policy as
    /// JSON on the notification attributes (status, outcome, stage, tier, bucket, key, verdict).
    #[arg(long, default_value = "all")]
    filter: String,
    /// The notifications topic; read from --state-file if not given.
    #[arg(long, env = audit::settings::NOTIFICATIONS_TOPIC_ARN)]
    topic_arn: Option<String>,
    /// Print each notification's record as one JSON line instead of a summary line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: TargetArgs,
}

pub async fn run(args: WatchArgs) -> anyhow::Result<()> {
    let filter = notifications::filters::policy(&args.filter)?;
    let target = args.target.resolve().await?;
    let Some(topic) = args
        .topic_arn
        .clone()
        .or(target.state.notifications_topic_arn.clone())
    else {
        bail!("which topic? pass --topic-arn, set TRIAGE_NOTIFICATIONS_TOPIC_ARN, or pass --state-file");
    };
    let stop = Stop::listen()?;
    let sqs = aws_sdk_sqs::Client::new(&target.config);
    let sns = aws_sdk_sns::Client::new(&target.config);
    for left in remove_abandoned(&sqs, &sns).await? {
        eprintln!("triage watch: removed {left}, left by a watch that did not end");
    }
    let watch = Watch::start(&sqs, &sns, &topic, filter.as_deref()).await?;
    eprintln!(
        "triage watch: following {topic} (filter {}); Ctrl-C stops",
        args.filter
    );
    let followed = follow(&sqs, &watch, args.json, stop).await;
    let removed = watch.remove(&sqs, &sns).await;
    eprintln!("triage watch: removed its queue and subscription");
    followed.and(removed)
}

/// The queue and subscription one watch reads through.
struct Watch {
    queue_url: String,
    subscription_arn: String,
}

impl Watch {
    async fn start(
        sqs: &aws_sdk_sqs::Client,
        sns: &aws_sdk_sns::Client,
        topic: &str,
        filter: Option<&str>,
    ) -> anyhow::Result<Self> {
        let name = format!(
            "{QUEUE_PREFIX}{}-{:x}",
            std::process::id(),
            Utc::now().timestamp_millis()
        );
        let created = sqs
            .create_queue()
            .queue_name(&name)
            .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
            .attributes(QueueAttributeName::MessageRetentionPeriod, "3600")
            .tags(TOPIC_TAG, topic)
            .tags(OWNER_TAG, owner())
            .tags(HEARTBEAT_TAG, Utc::now().timestamp().to_string())
            .send()
            .await
            .with_context(|| format!("creating the queue {name}"))?;
        let queue_url = created.queue_url.context("CreateQueue returned no URL")?;
        let started = async {
            let queue_arn = emulator::queue_arn(sqs, &queue_url)
                .await
                .map_err(anyhow::Error::msg)?;
            let policy = serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
                }],
            });
            sqs.set_queue_attributes()
                .queue_url(&queue_url)
                .attributes(QueueAttributeName::Policy, policy.to_string())
                .send()
                .await
                .context("letting the topic send to the queue")?;
            let mut subscribe = sns
                .subscribe()
                .topic_arn(topic)
                .protocol("sqs")
                .endpoint(&queue_arn)
                .return_subscription_arn(true)
                .attributes("RawMessageDelivery", "true");
            if let Some(filter) = filter {
                subscribe = subscribe.attributes("FilterPolicy", filter);
            }
            let subscribed = subscribe
                .send()
                .await
                .with_context(|| format!("subscribing to {topic}"))?;
            subscribed
                .subscription_arn
                .context("Subscribe returned no subscription")
        }
        .await;
        match started {
            Ok(subscription_arn) => Ok(Self {
                queue_url,
                subscription_arn,
            }),
            Err(err) => {
                let _ = sqs.delete_queue().queue_url(&queue_url).send().await;
                Err(err)
            }
        }
    }

    async fn remove(
        &self,
        sqs: &aws_sdk_sqs::Client,
        sns: &aws_sdk_sns::Client,
    ) -> anyhow::Result<()> {
        sns.unsubscribe()
            .subscription_arn(&self.subscription_arn)
            .send()
            .await
            .context("unsubscribing the watch queue")?;
        sqs.delete_queue()
            .queue_url(&self.queue_url)
            .send()
            .await
            .context("deleting the watch queue")?;
        Ok(())
    }
}

/// Prints what arrives until Ctrl-C (or SIGTERM), keeping the watch's heartbeat fresh.
async fn follow(
    sqs: &aws_sdk_sqs::Client,
    watch: &Watch,
    json: bool,
    mut stop: Stop,
) -> anyhow::Result<()> {
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    loop {
        tokio::select! {
            _ = stop.requested() => return Ok(()),
            _ = heartbeat.tick() => {
                sqs.tag_queue()
                    .queue_url(&watch.queue_url)
                    .tags(HEARTBEAT_TAG, Utc::now().timestamp().to_string())
                    .send()
                    .await
                    .context("refreshing the watch's heartbeat")?;
            }
            received = sqs
                .receive_message()
                .queue_url(&watch.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(10)
                .send() => {
                let messages = received.context("reading the watch queue")?.messages.unwrap_or_default();
                let mut done = Vec::new();
                for (n, message) in messages.into_iter().enumerate() {
                    println!("{}", line(message.body().unwrap_or_default(), json));
                    done.push(
                        DeleteMessageBatchRequestEntry::builder()
                            .id(n.to_string())
                            .set_receipt_handle(message.receipt_handle)
                            .build()?,
                    );
                }
                if !done.is_empty() {
                    sqs.delete_message_batch()
                        .queue_url(&watch.queue_url)
                        .set_entries(Some(done))
                        .send()
                        .await
                        .context("deleting what was printed")?;
                }
            }
        }
    }
}

/// Ctrl-C or SIGTERM, caught from the moment it is made: one that comes while the queue is
/// being set up still ends the watch with its queue removed.
struct Stop {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Stop {
    fn listen() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt()).context("catching Ctrl-C")?,
                terminate: signal(SignalKind::terminate()).context("catching SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn requested(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// One notification as printed: its JSON record, or `time STATUS stage s3://bucket/key: reason`.
fn line(body: &str, json: bool) -> String {
    let Ok(record) = serde_json::from_str::<Value>(body) else {
        return notifications::printable(body);
    };
    if json {
        return record.to_string();
    }
    let text = |name: &str| record[name].as_str().unwrap_or("-");
    let mut line = format!(
        "{} {:<11} {:<20} s3://{}/{}",
        text("finished_at"),
        text("status"),
        text("stage"),
        text("bucket"),
        notifications::printable(text("key")),
    );
    if let Some(reason) = record["reason"].as_str() {
        line.push_str(": ");
        line.push_str(&notifications::printable(reason));
    }
    line
}

/// This process, as a watch queue's owner tag names it: host and process id.
fn owner() -> String {
    format!("{}:{}", host(), std::process::id())
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// Whether the watch that owns a queue is gone: its process ended on this host, or its
/// heartbeat is stale wherever it ran.
fn abandoned(tags: &HashMap<String, String>, now: DateTime<Utc>, host: &str) -> bool {
    let beat = tags
        .get(HEARTBEAT_TAG)
        .and_then(|beat| beat.parse::<i64>().ok())
        .and_then(|beat| DateTime::from_timestamp(beat, 0));
    let stale = beat.is_none_or(|beat| (now - beat).to_std().unwrap_or_default() > STALE_AFTER);
    let owner_gone = tags
        .get(OWNER_TAG)
        .and_then(|owner| owner.rsplit_once(':'))
        .is_some_and(|(owner_host, pid)| owner_host == host && !process_alive(pid));
    stale || owner_gone
}

fn process_alive(pid: &str) -> bool {
    std::process::Command::new("kill")
        .args(["-0", pid])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Removes the queues (and their subscriptions) of watches that did not end; returns their
/// names.
async fn remove_abandoned(
    sqs: &aws_sdk_sqs::Client,
    sns: &aws_sdk_sns::Client,
) -> anyhow::Result<Vec<String>> {
    let listed = sqs
        .list_queues()
        .queue_name_prefix(QUEUE_PREFIX)
        .send()
        .await
        .context("listing watch queues")?;
    let host = host();
    let mut removed = Vec::new();
    for queue_url in listed.queue_urls() {
        let Ok(tags) = sqs.list_queue_tags().queue_url(queue_url).send().await else {
            continue;
        };
        let tags = tags.tags.unwrap_or_default();
        if !abandoned(&tags, Utc::now(), &host) {
            continue;
        }
        if let Some(topic) = tags.get(TOPIC_TAG) {
            let queue_arn = emulator::queue_arn(sqs, queue_url)
                .await
                .map_err(anyhow::Error::msg)?;
            let subscriptions = sns
                .list_subscriptions_by_topic()
                .topic_arn(topic)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .with_context(|| format!("listing the subscriptions of {topic}"))?;
            for subscription in subscriptions {
                if subscription.endpoint() == Some(queue_arn.as_str()) {
                    if let Some(arn) = subscription.subscription_arn() {
                        sns.unsubscribe().subscription_arn(arn).send().await?;
                    }
                }
            }
        }
        sqs.delete_queue().queue_url(queue_url).send().await?;
        removed.push(queue_url.rsplit('/').next().unwrap_or(queue_url).to_owned());
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(owner: &str, beat: DateTime<Utc>) -> HashMap<String, String> {
        HashMap::from([
            (OWNER_TAG.to_owned(), owner.to_owned()),
            (HEARTBEAT_TAG.to_owned(), beat.timestamp().to_string()),
        ])
    }

    #[test]
    fn a_watch_is_abandoned_when_its_process_is_gone_here_or_its_heartbeat_is_stale() {
        let now = Utc::now();
        let live = format!("here:{}", std::process::id());
        assert!(!abandoned(&tags(&live, now), now, "here"));
        // A process id no system hands out.
        assert!(abandoned(&tags("here:4294967", now), now, "here"));
        // Another machine's watch: only its heartbeat tells.
        assert!(!abandoned(&tags("there:4294967", now), now, "here"));
        let stale = now - chrono::Duration::minutes(6);
        assert!(abandoned(&tags("there:1", stale), now, "here"));
        assert!(abandoned(&HashMap::new(), now, "here"));
    }

    #[test]
    fn a_line_says_when_what_where_and_why_and_cannot_be_split_by_a_key() {
        let body = serde_json::json!({
            "finished_at": "2026-12-06T12:00:00Z", "status": "FAILED", "stage": "thumbnail",
            "bucket": "b", "key": "uploads/a\nb.jpg", "reason": "corrupt",
        })
        .to_string();
        assert_eq!(
            line(&body, false),
            r"2026-12-06T12:00:00Z FAILED      thumbnail            s3://b/uploads/a\nb.jpg: corrupt"
        );
        assert_eq!(
            serde_json::from_str::<Value>(&line(&body, true)).expect("JSON")["key"],
            "uploads/a\nb.jpg"
        );
    }
}

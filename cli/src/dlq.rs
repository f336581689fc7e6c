//! `triage dlq`: what sits in each dead-letter queue, and moving it back after a fix.

use crate::table;
use anyhow::{bail, Context};
use aws_sdk_sqs::types::QueueAttributeName;
use clap::Args;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Args)]
#[command(
    after_help = "Examples:\n  triage dlq --state-file .local/stack.json\n  \
    triage dlq --queue-url <dlq url> --redrive\n\n\
    Without --state-file, name the queues with --queue-url; AWS credentials come from the\n\
    standard chain."
)]
pub struct DlqArgs {
    /// A JSON file written by `triage local`; its dlq_urls are the queues.
    #[arg(long)]
    state_file: Option<PathBuf>,
    /// A dead-letter queue URL (repeatable).
    #[arg(long)]
    queue_url: Vec<String>,
    /// Move every message back to the queue it failed on (its redrive source).
    #[arg(long)]
    redrive: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Deserialize)]
struct LocalState {
    endpoint_url: String,
    dlq_urls: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct DlqReport {
    queue_url: String,
    messages: i64,
    source_queue_url: Option<String>,
    redriven: usize,
}

pub async fn run(args: DlqArgs) -> anyhow::Result<()> {
    let (config, mut queues) = match &args.state_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let state: LocalState = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a triage state file", path.display()))?;
            (
                emulator::sdk_config(&state.endpoint_url).await,
                state.dlq_urls.into_values().collect(),
            )
        }
        None => (
            aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
            Vec::new(),
        ),
    };
    queues.extend(args.queue_url.iter().cloned());
    if queues.is_empty() {
        bail!("which queues? pass --state-file or --queue-url");
    }
    let sqs = aws_sdk_sqs::Client::new(&config);
    let mut reports = Vec::new();
    for queue_url in queues {
        let source_queue_url = sqs
            .list_dead_letter_source_queues()
            .queue_url(&queue_url)
            .send()
            .await
            .with_context(|| format!("finding the source queue of {queue_url}"))?
            .queue_urls
            .into_iter()
            .next();
        let redriven = match (&source_queue_url, args.redrive) {
            (Some(source), true) => redrive(&sqs, &queue_url, source).await?,
            _ => 0,
        };
        reports.push(DlqReport {
            messages: depth(&sqs, &queue_url).await?,
            queue_url,
            source_queue_url,
            redriven,
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        let rows: Vec<Vec<String>> = reports
            .iter()
            .map(|r| {
                vec![
                    r.queue_url.clone(),
                    r.messages.to_string(),
                    table::or_dash(r.source_queue_url.as_deref()),
                    r.redriven.to_string(),
                ]
            })
            .collect();
        table::print(&["DLQ", "MESSAGES", "SOURCE", "REDRIVEN"], &rows);
    }
    Ok(())
}

async fn depth(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> anyhow::Result<i64> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .with_context(|| format!("reading the depth of {queue_url}"))?;
    Ok(attributes
        .attributes
        .and_then(|a| {
            a.get(&QueueAttributeName::ApproximateNumberOfMessages)
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0))
}

/// Sends each message back to `source`, then deletes it from the DLQ: at least once, never lost.
async fn redrive(sqs: &aws_sdk_sqs::Client, dlq: &str, source: &str) -> anyhow::Result<usize> {
    let mut moved = 0;
    loop {
        let received = sqs
            .receive_message()
            .queue_url(dlq)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .with_context(|| format!("receiving from {dlq}"))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(moved);
        }
        for message in messages {
            sqs.send_message()
                .queue_url(source)
                .message_body(message.body.unwrap_or_default())
                .send()
                .await
                .with_context(|| format!("sending back to {source}"))?;
            sqs.delete_message()
                .queue_url(dlq)
                .receipt_handle(message.receipt_handle.unwrap_or_default())
                .send()
                .await
                .with_context(|| format!("deleting from {dlq}"))?;
            moved += 1;
        }
    }
}

//! Announcing objects to the router the way S3 does: S3-shaped event records on the ingest
//! queue, one object per message so each succeeds or fails on its own, ten messages per
//! `SendMessageBatch`. Paced so that a backfill or a reprocess cannot starve live uploads or
//! run up a bill by surprise: at most `rate` objects a second, and none while the ingest queue
//! already holds `max_in_flight` messages.

use anyhow::{bail, Context};
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use clap::Args;
use object_events::S3Object;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// SQS's limit on entries per `SendMessageBatch`.
const SQS_BATCH_LIMIT: usize = 10;
/// How often the ingest queue's depth is read while pacing.
const DEPTH_POLL: Duration = Duration::from_secs(1);
/// How many times a batch's failed entries are sent again before giving up.
const RESEND_ATTEMPTS: u32 = 5;

#[derive(Args, Clone)]
pub struct PaceArgs {
    /// At most this many objects per second into the ingest queue.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Wait while the ingest queue holds this many messages (visible or being routed).
    #[arg(long, default_value_t = 200)]
    pub max_in_flight: u64,
    /// The ingest queue's URL; read from --state-file if not given.
    #[arg(long, env = "TRIAGE_INGEST_QUEUE_URL")]
    pub queue_url: Option<String>,
}

pub struct Announcer {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    pace: PaceArgs,
    started: Instant,
    sent: u64,
    queue_checked: Option<Instant>,
}

impl Announcer {
    pub fn new(
        sqs: aws_sdk_sqs::Client,
        queue_url: String,
        pace: PaceArgs,
    ) -> anyhow::Result<Self> {
        if !(pace.rate > 0.0 && pace.rate.is_finite()) {
            bail!("--rate must be a positive number of objects per second");
        }
        Ok(Self {
            sqs,
            queue_url,
            pace,
            started: Instant::now(),
            sent: 0,
            queue_checked: None,
        })
    }

    /// Sends `objects` (at most ten per request), waiting as the pace requires.
    pub async fn send(&mut self, objects: &[S3Object]) -> anyhow::Result<()> {
        for chunk in objects.chunks(SQS_BATCH_LIMIT) {
            self.wait_for_room(chunk.len()).await?;
            self.send_batch(chunk).await?;
            self.sent += chunk.len() as u64;
        }
        Ok(())
    }

    async fn wait_for_room(&mut self, count: usize) -> anyhow::Result<()> {
        let due = Duration::from_secs_f64((self.sent + count as u64) as f64 / self.pace.rate);
        if let Some(wait) = due.checked_sub(self.started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        loop {
            let fresh = self
                .queue_checked
                .is_some_and(|at| at.elapsed() < DEPTH_POLL);
            if fresh {
                return Ok(());
            }
            let depth = self.queue_depth().await?;
            self.queue_checked = Some(Instant::now());
            if depth < self.pace.max_in_flight {
                return Ok(());
            }
            tokio::time::sleep(DEPTH_POLL).await;
        }
    }

    async fn queue_depth(&self) -> anyhow::Result<u64> {
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .with_context(|| format!("reading the depth of {}", self.queue_url))?;
        Ok(attributes
            .attributes()
            .into_iter()
            .flatten()
            .filter_map(|(_, value)| value.parse::<u64>().ok())
            .sum())
    }

    async fn send_batch(&self, objects: &[S3Object]) -> anyhow::Result<()> {
        let mut pending: Vec<(String, String)> = objects
            .iter()
            .enumerate()
            .map(|(index, object)| {
                let body = json!({ "Records": [object.to_event_record()] }).to_string();
                (index.to_string(), body)
            })
            .collect();
        for attempt in 1..=RESEND_ATTEMPTS {
            let entries = pending
                .iter()
                .map(|(id, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(id)
                        .message_body(body)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let sent = self
                .sqs
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .with_context(|| format!("sending to {}", self.queue_url))?;
            let failed: Vec<&str> = sent.failed().iter().map(|f| f.id()).collect();
            pending.retain(|(id, _)| failed.contains(&id.as_str()));
            if pending.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
        bail!(
            "{} messages were refused by {} after {RESEND_ATTEMPTS} attempts",
            pending.len(),
            self.queue_url
        )
    }
}

/// A one-line progress report on stderr, redrawn at most once a second (each report on its own
/// line when stderr is not a terminal, every ten seconds).
pub struct Progress {
    what: &'static str,
    started: Instant,
    shown: Option<Instant>,
    terminal: bool,
}

impl Progress {
    pub fn new(what: &'static str) -> Self {
        Self {
            what,
            started: Instant::now(),
            shown: None,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// `done` objects so far, `fraction_done` of the whole when it is known, `counts` the
    /// rest of the line.
    pub fn show(&mut self, done: u64, fraction_done: Option<f64>, counts: &str) {
        let every = if self.terminal { 1 } else { 10 };
        if self
            .shown
            .is_some_and(|at| at.elapsed() < Duration::from_secs(every))
        {
            return;
        }
        self.shown = Some(Instant::now());
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = done as f64 / elapsed.max(0.001);
        let eta = match fraction_done {
            Some(fraction) if fraction > 0.0 && fraction <= 1.0 => {
                let left = elapsed / fraction - elapsed;
                format!(
                    " | ETA {}",
                    humantime::format_duration(Duration::from_secs(left as u64))
                )
            }
            _ => String::new(),
        };
        let line = format!("{}: {counts} | {rate:.1}/s{eta}", self.what);
        let mut stderr = std::io::stderr();
        if self.terminal {
            let _ = write!(stderr, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(stderr, "{line}");
        }
    }

    pub fn finish(&self) {
        if self.terminal && self.shown.is_some() {
            eprintln!();
        }
    }
}

/// A saved checkpoint, if there is one; a file that is not one is an error naming the way out.
pub fn read_checkpoint<T: DeserializeOwned>(path: &Path) -> anyhow::Result<Option<T>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a checkpoint of this command (remove it, or --restart)",
                path.display()
            )
        })?)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}

/// Replaces the checkpoint at `path` whole (written beside it, then renamed), so an
/// interruption leaves the old one or the new one, never half of one.
pub fn write_checkpoint<T: Serialize>(path: &Path, checkpoint: &T) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, serde_json::to_vec_pretty(checkpoint)?)?;
    std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))
}

//! `triage reprocess`: runs the pipeline again on the object versions an audit query selects,
//! as a new run through the ingest queue, the same path as a live upload.
//!
//! The run id is made once per request and kept in a checkpoint until the request is done:
//! a rerun after Ctrl-C (or a redelivered message) sends the same run again, which the
//! exactly-once records absorb, and the versions already taken up by the run have left the
//! status index (their earlier outcome is superseded), so they are not selected again.

use crate::announce::{read_checkpoint, write_checkpoint, Announcer, PaceArgs, Progress};
use crate::audit::SelectionArgs;
use crate::target::{LocalState, Target, TargetArgs};
use anyhow::{bail, Context};
use audit::{AuditEntry, AuditTrail};
use chrono::Utc;
use clap::Args;
use object_events::{ObjectKey, Origin, Run, S3Object};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    triage reprocess --status FAILED --since 1d --dry-run\n  \
    triage reprocess --tier thumbnail --since 2h --stage thumbnail\n  \
    triage reprocess --key 'uploads/documents/Q3 report.pdf'")]
pub struct ReprocessArgs {
    #[command(flatten)]
    selection: SelectionArgs,
    /// Only records of this stage (router, thumbnail, extractor, compliance.malware...).
    #[arg(long)]
    stage: Option<String>,
    #[command(flatten)]
    run: RunArgs,
}

/// What a request for a new run takes besides what it selects (`reprocess`, `rescan`).
#[derive(Args)]
pub struct RunArgs {
    /// Only list the versions that would be sent.
    #[arg(long)]
    pub dry_run: bool,
    /// Where the request's run id is kept until it is done (default: .triage/<command>.json).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// The audit table; read from --state-file if not given.
    #[arg(long, env = audit::settings::AUDIT_TABLE)]
    pub table: Option<String>,
    #[command(flatten)]
    pub pace: PaceArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the run id and the versions sent as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize, Deserialize)]
struct Checkpoint {
    selection: String,
    run: Run,
}

#[derive(Serialize)]
struct Report<'a> {
    run: &'a Run,
    dry_run: bool,
    objects: Vec<String>,
}

pub async fn run(args: ReprocessArgs) -> anyhow::Result<()> {
    let Target { config, state } = args.run.target.resolve().await?;
    let trail = AuditTrail::new(
        aws_sdk_dynamodb::Client::new(&config),
        state.audit_table(args.run.table.clone())?,
    );
    let entries = args.selection.entries(&trail, state.bucket.clone()).await?;
    let request = NewRun {
        origin: Origin::Reprocess,
        selection: format!("{:?} stage={:?}", args.selection, args.stage),
        objects: versions(&entries, args.stage.as_deref())?,
    };
    request.start(&args.run, &config, &state).await
}

/// A request for a new run over `objects`: what `reprocess` and `rescan` make of their
/// selections.
pub struct NewRun {
    pub origin: Origin,
    /// What was selected, in words: names the run (a rerun of the same request continues it).
    pub selection: String,
    pub objects: Vec<S3Object>,
}

impl NewRun {
    /// Sends every object as the run, through the ingest queue (nothing with --dry-run), and
    /// says what was started.
    pub async fn start(
        self,
        args: &RunArgs,
        config: &aws_config::SdkConfig,
        state: &LocalState,
    ) -> anyhow::Result<()> {
        let selection = self.selection;
        let checkpoint_path = args
            .checkpoint
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!(".triage/{}.json", self.origin)));
        let run = match read_checkpoint::<Checkpoint>(&checkpoint_path)? {
            Some(saved) if saved.selection == selection && !args.dry_run => {
                eprintln!(
                    "continuing run {} ({})",
                    saved.run,
                    checkpoint_path.display()
                );
                saved.run
            }
            _ => Run::requested(Utc::now(), &selection),
        };
        let objects: Vec<S3Object> = self
            .objects
            .into_iter()
            .map(|mut object| {
                object.origin = self.origin;
                object.run = run.clone();
                object
            })
            .collect();
        let names: Vec<String> = objects.iter().map(|o| o.object_ref().to_string()).collect();
        if !args.dry_run && !objects.is_empty() {
            let Some(queue_url) = args
                .pace
                .queue_url
                .clone()
                .or(state.ingest_queue_url.clone())
            else {
                bail!("which ingest queue? pass --queue-url, set TRIAGE_INGEST_QUEUE_URL, or pass --state-file");
            };
            let checkpoint = Checkpoint {
                selection,
                run: run.clone(),
            };
            write_checkpoint(&checkpoint_path, &checkpoint)?;
            let mut announcer = Announcer::new(
                aws_sdk_sqs::Client::new(config),
                queue_url,
                args.pace.clone(),
            )?;
            let mut progress = Progress::new(self.origin.as_str());
            let total = objects.len() as f64;
            let mut sent = 0u64;
            for chunk in objects.chunks(10) {
                announcer.send(chunk).await?;
                sent += chunk.len() as u64;
                progress.show(
                    sent,
                    Some(sent as f64 / total),
                    &format!("{sent} of {} sent", objects.len()),
                );
            }
            progress.finish();
            std::fs::remove_file(&checkpoint_path)
                .with_context(|| format!("removing {}", checkpoint_path.display()))?;
        }
        if args.json {
            let report = Report {
                run: &run,
                dry_run: args.dry_run,
                objects: names,
            };
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            let verb = if args.dry_run {
                "would start"
            } else {
                "started"
            };
            eprintln!("{verb} run {run} on {} object versions:", names.len());
            for name in &names {
                println!("{name}");
            }
            if !args.dry_run {
                eprintln!("follow it: triage audit --key <key> (the RUN column)");
            }
        }
        Ok(())
    }
}

/// The distinct object versions `entries` name (of `stage`, when given), in the order found.
pub fn versions(entries: &[AuditEntry], stage: Option<&str>) -> anyhow::Result<Vec<S3Object>> {
    let mut objects = BTreeMap::new();
    for entry in entries {
        if stage.is_some_and(|stage| entry.stage != stage) || entry.superseded_by.is_some() {
            continue;
        }
        let identity = (
            entry.bucket.clone(),
            entry.key.clone(),
            entry.version.clone(),
        );
        if objects.contains_key(&identity) {
            continue;
        }
        let mut object = S3Object::put(
            &entry.bucket,
            ObjectKey::new(entry.key.as_str())?,
            entry.size.unwrap_or(0),
            entry.etag.clone(),
        );
        object.version_id = entry.version_id.clone();
        object.uploaded_by = entry.uploaded_by.clone();
        objects.insert(identity, object);
    }
    Ok(objects.into_values().collect())
}

use crate::table;
use crate::target::{Target, TargetArgs};
use anyhow::{bail, Context};
use audit::{AuditEntry, AuditTrail, Status};
use chrono::{DateTime, Utc};
use clap::Args;
use object_events::Tier;
use std::time::Duration;

#[derive(Args)]
#[command(
    after_help = "Examples:\n  triage audit --bucket triage-uploads-dev --key 'uploads/images/cat photo.jpg'\n  \
    triage audit --status FAILED --since 1h\n  triage audit --tier thumbnail --since 24h --json\n  \
    triage audit --status IN_PROGRESS --stale 15m   (large-file tasks that stopped reporting)\n\n\
    AWS credentials, region and endpoint come from the standard AWS configuration chain;\n\
    --state-file or --endpoint-url point at a local stack instead."
)]
pub struct AuditArgs {
    #[command(flatten)]
    selection: SelectionArgs,
    /// Only records last updated longer ago than this, e.g. 15m: with --status IN_PROGRESS,
    /// the tasks that died without recording an outcome (a live one reports every few seconds).
    #[arg(long, requires = "status", value_parser = humantime::parse_duration)]
    stale: Option<Duration>,
    /// The audit table; read from --state-file if not given.
    #[arg(long, env = audit::settings::AUDIT_TABLE)]
    table: Option<String>,
    #[command(flatten)]
    target: TargetArgs,
    /// With --key: also every earlier run of each stage (after the latest), marked superseded.
    #[arg(long, requires = "key")]
    history: bool,
    /// Print a JSON array of records instead of a table.
    #[arg(long)]
    json: bool,
}

/// Which records a command reads: `audit` prints them, `reprocess` runs their versions again.
#[derive(Args, Debug)]
pub struct SelectionArgs {
    /// One object's history (every version and stage, the latest run of each). Needs the bucket.
    #[arg(long, conflicts_with_all = ["status", "tier"], required_unless_present_any = ["status", "tier"])]
    pub key: Option<String>,
    /// The uploads bucket (for --key); read from --state-file if not given.
    #[arg(long)]
    bucket: Option<String>,
    /// Records with this status: ROUTED, IN_PROGRESS, SUCCEEDED, FAILED, REJECTED or IGNORED.
    #[arg(long, value_parser = <Status as std::str::FromStr>::from_str, conflicts_with = "tier")]
    status: Option<Status>,
    /// Records of this tier: thumbnail, document, compliance or large.
    #[arg(long)]
    tier: Option<Tier>,
    /// How far back --status and --tier look, e.g. 30m, 1h, 7d.
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    since: Duration,
}

impl SelectionArgs {
    /// The entries selected: for --key the object's whole history (its bucket from --bucket or
    /// else `state_bucket`), for --status or --tier those that finished within --since.
    pub async fn entries(
        &self,
        trail: &AuditTrail,
        state_bucket: Option<String>,
    ) -> anyhow::Result<Vec<AuditEntry>> {
        let since =
            Utc::now() - chrono::Duration::from_std(self.since).context("--since is too long")?;
        Ok(match (&self.key, self.status, self.tier) {
            (Some(key), _, _) => {
                let Some(bucket) = self.bucket.clone().or(state_bucket) else {
                    bail!("--key needs the bucket: pass --bucket or --state-file");
                };
                trail.object_history(&bucket, key).await?
            }
            (None, Some(status), _) => trail.by_status(status, since).await?,
            (None, None, Some(tier)) => trail.by_tier(tier, since).await?,
            (None, None, None) => bail!("give --key, --status or --tier"),
        })
    }
}

pub async fn run(args: AuditArgs) -> anyhow::Result<()> {
    let Target { config, state } = args.target.resolve().await?;
    let trail = AuditTrail::new(
        aws_sdk_dynamodb::Client::new(&config),
        state.audit_table(args.table.clone())?,
    );
    let entries = args.selection.entries(&trail, state.bucket).await?;
    let entries = match args.selection.key {
        Some(_) => latest_runs_first(entries, args.history),
        None => entries,
    };
    let entries = match args.stale {
        Some(stale) => {
            let updated_before =
                Utc::now() - chrono::Duration::from_std(stale).context("--stale is too long")?;
            stale_entries(entries, updated_before)
        }
        None => entries,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else if entries.is_empty() {
        eprintln!("no audit records match");
    } else {
        print_table(&entries);
    }
    Ok(())
}

/// An object's history as people read it: the latest run of each stage (oldest stage first),
/// then, with `history`, the runs they replaced.
fn latest_runs_first(entries: Vec<AuditEntry>, history: bool) -> Vec<AuditEntry> {
    let (latest, superseded): (Vec<_>, Vec<_>) = entries
        .into_iter()
        .partition(|entry| entry.superseded_by.is_none());
    if history {
        latest.into_iter().chain(superseded).collect()
    } else {
        latest
    }
}

/// Entries last written before `updated_before` (an unfinished record's `finished_at` is the
/// time of its last progress update).
fn stale_entries(entries: Vec<AuditEntry>, updated_before: DateTime<Utc>) -> Vec<AuditEntry> {
    entries
        .into_iter()
        .filter(|entry| {
            DateTime::parse_from_rfc3339(&entry.finished_at)
                .is_ok_and(|updated| updated < updated_before)
        })
        .collect()
}

fn print_table(entries: &[AuditEntry]) {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let progress = e.details.as_ref().and_then(|details| {
                let done = details["bytes_done"].as_u64()?;
                let size = details["size"].as_u64()?;
                Some(format!("{done} of {size} bytes at the last update"))
            });
            let detail = match (&e.reason, e.outputs.is_empty(), progress) {
                (Some(reason), _, _) => reason.clone(),
                (None, false, _) => format!("outputs: {}", e.outputs.join(", ")),
                (None, true, Some(progress)) if e.status == Status::InProgress.as_str() => progress,
                (None, true, _) => String::new(),
            };
            vec![
                e.finished_at.clone(),
                e.key.clone(),
                e.version.chars().take(12).collect(),
                e.stage.clone(),
                match (&e.run, &e.superseded_by) {
                    (run, Some(_)) => format!("{} (superseded)", run.as_deref().unwrap_or("first")),
                    (run, None) => run.as_deref().unwrap_or("first").to_owned(),
                },
                table::or_dash(e.tier.as_deref()),
                if e.is_complete() {
                    e.status.clone()
                } else {
                    format!("{} (unfinished)", e.status)
                },
                table::or_dash(e.duration_ms.map(|ms| format!("{ms} ms"))),
                detail,
            ]
        })
        .collect();
    table::print(
        &[
            "FINISHED", "KEY", "VERSION", "STAGE", "RUN", "TIER", "STATUS", "DURATION", "DETAIL",
        ],
        &rows,
    );
}

//! `triage rescan`: the malware check again, under the signatures as they are now, for every
//! object version judged CLEAN under older ones. Each is sent as a new run (`origin: rescan`)
//! through the ingest queue; the checkers run only the malware check for it, and a file that
//! turns INFECTED is tagged, quarantined and announced like any other.

use crate::reprocess::{versions, NewRun, RunArgs};
use crate::target::Target;
use anyhow::Context;
use audit::{AuditEntry, AuditTrail, Status};
use chrono::Utc;
use clap::Args;
use compliance::checker::malware;
use compliance::signature_store;
use compliance::verdict::check_stage;
use object_events::Origin;
use serde_json::Value;
use std::time::Duration;

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    triage rescan --since 30d --dry-run\n  \
    triage rescan --since 7d --signatures s3://s3-triage-prod-signatures/ --rate 50")]
pub struct RescanArgs {
    /// How far back to look for CLEAN malware checks, e.g. 7d, 30d.
    #[arg(long, default_value = "30d", value_parser = humantime::parse_duration)]
    since: Duration,
    /// Where the signature files are (s3://bucket/prefix/); read from --state-file if not given.
    #[arg(long, env = compliance::config::SIGNATURES_URI)]
    signatures: Option<String>,
    #[command(flatten)]
    run: RunArgs,
}

pub async fn run(args: RescanArgs) -> anyhow::Result<()> {
    let Target { config, state } = args.run.target.resolve().await?;
    let uri = args
        .signatures
        .clone()
        .or(state.signatures_uri.clone())
        .context("where are the signatures? pass --signatures s3://bucket/prefix/, set TRIAGE_SIGNATURES_URI, or pass --state-file")?;
    let current = signature_store::current_versions(&aws_sdk_s3::Client::new(&config), &uri)
        .await
        .context("listing the current signature files")?;
    let current = signature_store::recorded(&current);
    let trail = AuditTrail::new(
        aws_sdk_dynamodb::Client::new(&config),
        state.audit_table(args.run.table.clone())?,
    );
    let since =
        Utc::now() - chrono::Duration::from_std(args.since).context("--since is too long")?;
    let clean = trail.by_status(Status::Clean, since).await?;
    let stale = judged_under_older_signatures(clean, &current);
    eprintln!(
        "{} CLEAN malware checks since {} were judged under older signatures than {uri}",
        stale.len(),
        since.format("%Y-%m-%d %H:%M UTC")
    );
    let request = NewRun {
        origin: Origin::Rescan,
        selection: format!("rescan since={:?} signatures={current}", args.since),
        objects: versions(&stale, None)?,
    };
    request.start(&args.run, &config, &state).await
}

/// The malware checks among `entries` whose signature files (`provenance.signatures.files`)
/// are not `current`: a file added, changed or removed since.
fn judged_under_older_signatures(entries: Vec<AuditEntry>, current: &Value) -> Vec<AuditEntry> {
    let stage = check_stage(malware::NAME);
    entries
        .into_iter()
        .filter(|entry| entry.stage == stage && entry.superseded_by.is_none())
        .filter(|entry| {
            entry
                .details
                .as_ref()
                .and_then(|details| details.pointer("/provenance/signatures/files"))
                != Some(current)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(key: &str, stage: &str, files: Value) -> AuditEntry {
        AuditEntry {
            bucket: "b".into(),
            key: key.into(),
            version: "v1".into(),
            stage: stage.into(),
            status: "CLEAN".into(),
            details: Some(json!({ "provenance": { "signatures": { "files": files } } })),
            ..AuditEntry::default()
        }
    }

    #[test]
    fn only_malware_checks_under_other_signature_versions_are_rescanned() {
        let current = json!({ "a.ndb": "v2", "b.hdb": "v1" });
        let entries = vec![
            check("current", "compliance.malware", current.clone()),
            check(
                "older",
                "compliance.malware",
                json!({ "a.ndb": "v1", "b.hdb": "v1" }),
            ),
            check(
                "fewer files",
                "compliance.malware",
                json!({ "a.ndb": "v2" }),
            ),
            check("not malware", "compliance.pii", json!({})),
            AuditEntry {
                superseded_by: Some("r20261201T000000-0123abcd".into()),
                ..check("history", "compliance.malware", json!({}))
            },
        ];
        let keys: Vec<String> = judged_under_older_signatures(entries, &current)
            .into_iter()
            .map(|entry| entry.key)
            .collect();
        assert_eq!(keys, ["older", "fewer files"]);
    }
}

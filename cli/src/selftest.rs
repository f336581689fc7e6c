//! `triage selftest`: proves a deployment is alive ([`canary::selftest`]), prints a table and
//! exits non-zero naming every tier that missed.

use crate::route::PolicyArgs;
use crate::table;
use crate::target::TargetArgs;
use anyhow::{bail, Context};
use audit::AuditTrail;
use canary::selftest::Selftest;
use clap::Args;
use compliance::tags::{VerdictTags, DEFAULT_PRESET};
use router::policy::RoutingPolicy;
use std::time::Duration;

#[derive(Args)]
#[command(after_help = "Against the local stack:\n  \
    triage selftest --state-file .local/stack.json\n\
    Against AWS (the usual credential chain), with the deployment's names:\n  \
    triage selftest --bucket <uploads bucket> --table <audit table>")]
pub struct SelftestArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The watched bucket to upload the canaries to; the state file's if not given.
    #[arg(long, env = "TRIAGE_BUCKET")]
    bucket: Option<String>,
    /// The audit table; read from --state-file if not given.
    #[arg(long, env = audit::settings::AUDIT_TABLE)]
    table: Option<String>,
    #[command(flatten)]
    policy: PolicyArgs,
    /// The verdict tags the deployment writes (a preset or key=...,clean=...).
    #[arg(long, env = compliance::config::VERDICT_TAGS, default_value = DEFAULT_PRESET)]
    verdict_tags: String,
    /// How long to wait for every canary's outcome.
    #[arg(long, default_value = "300s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Leave out the EICAR canary (judged INFECTED, it pages the infected-verdicts alarm).
    #[arg(long)]
    no_eicar: bool,
    /// Also send a file of this size through the large-file task (e.g. 200MiB).
    #[arg(long, value_parser = RoutingPolicy::parse_size)]
    large: Option<u64>,
    /// Leave the canaries and what the pipeline made of them in the bucket.
    #[arg(long)]
    keep: bool,
}

pub async fn run(args: SelftestArgs) -> anyhow::Result<()> {
    let target = args.target.resolve().await?;
    let bucket = args
        .bucket
        .clone()
        .or(target.state.bucket.clone())
        .context("which bucket? pass --bucket, set TRIAGE_BUCKET, or pass --state-file")?;
    let table = target.state.audit_table(args.table.clone())?;
    let selftest = Selftest {
        s3: crate::target::s3_client(&target.config),
        trail: AuditTrail::new(aws_sdk_dynamodb::Client::new(&target.config), &table),
        bucket,
        policy: args.policy.policy()?,
        tags: VerdictTags::parse(&args.verdict_tags).map_err(anyhow::Error::msg)?,
        timeout: args.timeout,
        eicar: !args.no_eicar,
        large: args.large,
        keep: args.keep,
    };
    let report = selftest.run().await?;
    let rows: Vec<Vec<String>> = report
        .results
        .iter()
        .map(|result| {
            vec![
                result.tier.as_str().to_owned(),
                result.key.clone(),
                result.expected.clone(),
                table::or_dash(result.got.clone()),
                table::or_dash(result.seconds.map(|seconds| format!("{seconds:.1}"))),
                result.problem.clone().unwrap_or_else(|| "ok".into()),
            ]
        })
        .collect();
    table::print(
        &["TIER", "CANARY", "EXPECTED", "GOT", "SECONDS", "CHECK"],
        &rows,
    );
    match &report.removed {
        Some(Ok(removed)) => eprintln!("==> removed {removed} object versions the selftest made"),
        Some(Err(err)) => eprintln!("==> could not remove everything the selftest made: {err}"),
        None => {}
    }
    let missed = report.missed();
    if !missed.is_empty() {
        bail!("selftest failed: {}", missed.join("; "));
    }
    println!(
        "selftest passed: {} canaries, every tier answered",
        report.results.len()
    );
    Ok(())
}

//! `triage`: the s3-triage command line.

mod announce;
mod audit;
mod backfill;
mod batch_job;
mod demo;
mod dlq;
mod eventbridge;
mod local;
mod reprocess;
mod rescan;
mod route;
mod selftest;
mod table;
mod target;
mod watch;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "triage",
    version,
    about = "Operate s3-triage: dry-run routing, query the audit trail, run the stack locally"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Where would an upload go? Applies the routing policy to a key and size, or to an event.
    Route(route::RouteArgs),
    /// Query the audit trail: one object's history, recent failures, a tier's activity.
    Audit(audit::AuditArgs),
    /// Run the whole pipeline on the bundled samples and check every outcome (exit 1 if not).
    Demo(demo::DemoArgs),
    /// Run the whole stack locally: emulator, terraform envs/local, the function binaries.
    Local(local::LocalArgs),
    /// List what sits in each dead-letter queue; --redrive moves it back after a fix.
    Dlq(dlq::DlqArgs),
    /// Bring objects that were there before the pipeline (a listing or an S3 Inventory) in.
    Backfill(backfill::BackfillArgs),
    /// Run the pipeline again (a new run, history kept) on the versions an audit query selects.
    Reprocess(reprocess::ReprocessArgs),
    /// Run the malware check again on files judged CLEAN under older signatures.
    Rescan(rescan::RescanArgs),
    /// Prove a deployment works: a canary per tier, each outcome checked (exit 1 naming misses).
    Selftest(selftest::SelftestArgs),
    /// Follow notifications live (a temporary queue on the topic, removed when it stops).
    Watch(watch::WatchArgs),
    /// Turn a watched bucket's EventBridge switch on, keeping the notifications it sends.
    EnableEventbridge(eventbridge::EnableEventBridgeArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Route(args) => route::run(args),
        Command::Audit(args) => audit::run(args).await,
        Command::Local(args) => local::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Dlq(args) => dlq::run(args).await,
        Command::Backfill(args) => backfill::run(args).await,
        Command::Reprocess(args) => reprocess::run(args).await,
        Command::Rescan(args) => rescan::run(args).await,
        Command::Selftest(args) => selftest::run(args).await,
        Command::Watch(args) => watch::run(args).await,
        Command::EnableEventbridge(args) => eventbridge::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("triage: {err:#}");
            ExitCode::FAILURE
        }
    }
}

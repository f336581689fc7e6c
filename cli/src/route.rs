use crate::table;
use anyhow::{bail, Context};
use aws_lambda_events::sqs::SqsEvent;
use clap::Args;
use object_events::ObjectKey;
use platform::config::{Env, RESERVED_PREFIX};
use router::policy::{
    human, Decision, RoutingPolicy, DEFAULT_LARGE_LIMIT, DEFAULT_RESERVED_PREFIX,
};
use router::verdict::{is_sqs_batch, judge, Verdict};
use serde::Serialize;
use std::path::PathBuf;
use worker_common::outputs::{Outputs, OUTPUT_BUCKETS};

#[derive(Args)]
#[command(
    after_help = "Examples:\n  triage route --key 'uploads/images/cat photo.jpg' --size 2MiB\n  \
    triage route --event samples/events/sqs-s3-put.json --json"
)]
pub struct RouteArgs {
    /// The object key, decoded (as you would pass it to GetObject).
    #[arg(long, requires = "size", conflicts_with = "event")]
    key: Option<String>,
    /// The object size: bytes, or with a unit (KiB, MiB, GiB).
    #[arg(long, value_parser = parse_size)]
    size: Option<u64>,
    /// The watched bucket the key is in, for rules that name one (without it, only the rules
    /// for every bucket apply).
    #[arg(long, requires = "key", default_value = "")]
    bucket: String,
    /// An event file in any envelope the router accepts (S3, SQS, SNS, SNS inside SQS).
    #[arg(long, required_unless_present = "key")]
    event: Option<PathBuf>,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Print JSON (an array, one element per record) instead of a table.
    #[arg(long)]
    json: bool,
}

/// The routing policy a command applies offline, as the deployed router would.
#[derive(Args, Clone)]
pub struct PolicyArgs {
    /// The routing rules as JSON; the router's default table if not given.
    #[arg(long, env = router::config::ROUTING_RULES, value_name = "JSON")]
    rules: Option<String>,
    /// The reserved output prefix no rule may match.
    #[arg(long, env = RESERVED_PREFIX, default_value = DEFAULT_RESERVED_PREFIX)]
    reserved_prefix: String,
    /// `<watched bucket>=<bucket>,...`: the watched buckets whose outputs (e-mail attachments
    /// among them, routed by their source bucket's rules) another bucket keeps.
    #[arg(long, env = OUTPUT_BUCKETS, value_name = "PAIRS")]
    output_buckets: Option<String>,
}

impl PolicyArgs {
    pub fn policy(&self) -> anyhow::Result<RoutingPolicy> {
        let rules = match &self.rules {
            Some(json) => RoutingPolicy::parse_rules(json)?,
            None => RoutingPolicy::default_rules(),
        };
        let outputs = Outputs::from_env(&Env::from_lookup(|name| match name {
            RESERVED_PREFIX => Some(self.reserved_prefix.clone()),
            OUTPUT_BUCKETS => self.output_buckets.clone(),
            _ => None,
        }))?;
        RoutingPolicy::with_outputs(rules, outputs, DEFAULT_LARGE_LIMIT)
            .context("the routing rules are not valid")
    }
}

/// The router's verdict on one record of an event.
#[derive(Serialize)]
struct RouteReport {
    key: Option<String>,
    size: Option<u64>,
    /// A tier, or REJECTED / IGNORED / DROPPED / FAILED.
    outcome: String,
    rule: Option<String>,
    why: Option<String>,
}

fn parse_size(text: &str) -> Result<u64, String> {
    RoutingPolicy::parse_size(text)
}

pub fn run(args: RouteArgs) -> anyhow::Result<()> {
    let policy = args.policy.policy()?;
    let reports = match (&args.key, args.size, &args.event) {
        (Some(key), Some(size), _) => {
            let key = ObjectKey::new(key.as_str())?;
            let decision = policy.route(&args.bucket, &key, size);
            vec![decision_report(&key, size, decision)]
        }
        (_, _, Some(path)) => {
            let body = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            batch_reports(&policy, &body)?
        }
        _ => bail!("give --key and --size, or --event"),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        let rows: Vec<Vec<String>> = reports
            .iter()
            .map(|r| {
                vec![
                    table::or_dash(r.key.as_deref()),
                    table::or_dash(r.size.map(human)),
                    r.outcome.clone(),
                    table::or_dash(r.rule.as_deref()),
                    table::or_dash(r.why.as_deref()),
                ]
            })
            .collect();
        table::print(&["KEY", "SIZE", "OUTCOME", "RULE", "WHY"], &rows);
    }
    Ok(())
}

/// A Lambda SQS batch is judged message by message, as the router does: a malformed body
/// fails only its own message.
fn batch_reports(policy: &RoutingPolicy, body: &str) -> anyhow::Result<Vec<RouteReport>> {
    let event: serde_json::Value =
        serde_json::from_str(body).context("the event file is not JSON")?;
    if !is_sqs_batch(&event) {
        return Ok(message_reports(policy, body));
    }
    let batch: SqsEvent =
        serde_json::from_value(event).context("the event is not a Lambda SQS batch")?;
    Ok(batch
        .records
        .iter()
        .flat_map(|message| message_reports(policy, message.body.as_deref().unwrap_or_default()))
        .collect())
}

fn message_reports(policy: &RoutingPolicy, body: &str) -> Vec<RouteReport> {
    let verdicts = match judge(policy, body) {
        Ok(verdicts) => verdicts,
        Err(reason) => {
            return vec![RouteReport {
                key: None,
                size: None,
                outcome: "FAILED".into(),
                rule: None,
                why: Some(format!(
                    "{reason}: the router fails this message (retried, then the DLQ)"
                )),
            }]
        }
    };
    verdicts
        .into_iter()
        .map(|verdict| match verdict {
            Verdict::Decided { object, decision } => {
                decision_report(&object.key, object.size, decision)
            }
            Verdict::Dropped { why } => RouteReport {
                key: None,
                size: None,
                outcome: "DROPPED".into(),
                rule: None,
                why: Some(why),
            },
            Verdict::Invalid { object, reason } => RouteReport {
                key: Some(object.key.to_string()),
                size: None,
                outcome: "REJECTED".into(),
                rule: None,
                why: Some(reason),
            },
        })
        .collect()
}

fn decision_report(key: &ObjectKey, size: u64, decision: Decision) -> RouteReport {
    let (outcome, rule, why) = match decision {
        Decision::Route { tier, rule, note } => (tier.to_string(), Some(rule), note),
        Decision::Reject { reason } => ("REJECTED".into(), None, Some(reason)),
        Decision::Ignore { reason } => ("IGNORED".into(), None, Some(reason)),
    };
    RouteReport {
        key: Some(key.to_string()),
        size: Some(size),
        outcome,
        rule,
        why,
    }
}

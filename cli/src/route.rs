use crate::table;
use anyhow::{bail, Context};
use clap::Args;
use object_events::{normalise_json, ObjectKey, RecordOutcome};
use router::policy::{
    human, Decision, RoutingPolicy, DEFAULT_LARGE_LIMIT, DEFAULT_RESERVED_PREFIX,
};
use serde::Serialize;
use std::path::PathBuf;

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
    /// An event file in any envelope the router accepts (S3, SQS, SNS, SNS inside SQS).
    #[arg(long, required_unless_present = "key")]
    event: Option<PathBuf>,
    /// The routing rules as JSON; the router's default table if not given.
    #[arg(long, env = router::config::ROUTING_RULES, value_name = "JSON")]
    rules: Option<String>,
    /// The reserved output prefix no rule may match.
    #[arg(long, env = router::config::RESERVED_PREFIX, default_value = DEFAULT_RESERVED_PREFIX)]
    reserved_prefix: String,
    /// Print JSON (an array, one element per record) instead of a table.
    #[arg(long)]
    json: bool,
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
    let rules = match &args.rules {
        Some(json) => RoutingPolicy::parse_rules(json)?,
        None => RoutingPolicy::default_rules(),
    };
    let policy = RoutingPolicy::new(rules, &args.reserved_prefix, DEFAULT_LARGE_LIMIT)
        .context("the routing rules are not valid")?;
    let reports = match (&args.key, args.size, &args.event) {
        (Some(key), Some(size), _) => {
            let key = ObjectKey::new(key.as_str())?;
            vec![decision_report(&policy, &key, size)]
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
    let Some(messages) = event
        .get("Records")
        .and_then(|r| r.as_array())
        .filter(|records| {
            records
                .iter()
                .all(|r| r.get("eventSource").and_then(|s| s.as_str()) == Some("aws:sqs"))
        })
    else {
        return event_reports(policy, body);
    };
    let mut reports = Vec::new();
    for message in messages {
        let body = message
            .get("body")
            .and_then(|b| b.as_str())
            .unwrap_or_default();
        match event_reports(policy, body) {
            Ok(message_reports) => reports.extend(message_reports),
            Err(err) => reports.push(RouteReport {
                key: None,
                size: None,
                outcome: "FAILED".into(),
                rule: None,
                why: Some(format!("{err:#}")),
            }),
        }
    }
    Ok(reports)
}

fn event_reports(policy: &RoutingPolicy, body: &str) -> anyhow::Result<Vec<RouteReport>> {
    let outcomes = normalise_json(body)
        .context("the router would fail this message (it would end in the DLQ)")?;
    Ok(outcomes
        .into_iter()
        .map(|outcome| match outcome {
            RecordOutcome::Created(object) => decision_report(policy, &object.key, object.size),
            RecordOutcome::TestEvent => RouteReport {
                key: None,
                size: None,
                outcome: "DROPPED".into(),
                rule: None,
                why: Some("s3:TestEvent: acknowledged and dropped".into()),
            },
            RecordOutcome::NotCreated { event_name } => RouteReport {
                key: None,
                size: None,
                outcome: "DROPPED".into(),
                rule: None,
                why: Some(format!("{event_name} is not an ObjectCreated event")),
            },
            RecordOutcome::Invalid(invalid) => RouteReport {
                key: invalid.object.as_ref().map(|o| o.key.to_string()),
                size: None,
                // Identifiable records are recorded REJECTED; the rest fail their message.
                outcome: if invalid.object.is_some() {
                    "REJECTED"
                } else {
                    "FAILED"
                }
                .into(),
                rule: None,
                why: Some(invalid.reason),
            },
        })
        .collect())
}

fn decision_report(policy: &RoutingPolicy, key: &ObjectKey, size: u64) -> RouteReport {
    let (outcome, rule, why) = match policy.route(key, size) {
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

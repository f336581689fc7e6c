//! `triage demo`: the whole pipeline on the bundled samples, end to end, with a verdict.

use crate::local::{bring_up, StackArgs};
use crate::table;
use anyhow::{bail, Context};
use audit::{AuditEntry, AuditTrail};
use aws_sdk_s3::primitives::ByteStream;
use canary::outcomes;
use clap::Args;
use compliance::tags::{VerdictTags, DEFAULT_PRESET};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// How long to wait for every sample's outcome.
    #[arg(long, default_value = "120s", value_parser = humantime::parse_duration)]
    timeout: Duration,
}

/// What `samples/expected.json` says each upload must get from its last stage.
#[derive(Deserialize)]
struct Expected {
    /// The router, unless the sample's tier has a worker.
    #[serde(default = "router_stage")]
    stage: String,
    status: String,
    tier: Option<String>,
    /// A sample not shipped as a file: the demo makes its bytes.
    generated: Option<Generated>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Generated {
    /// Too large to ship: a CSV of this many bytes.
    Csv(usize),
    /// The EICAR test file, which antivirus software would quarantine from a checkout.
    Eicar,
}

fn router_stage() -> String {
    router::handler::STAGE.to_owned()
}

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let samples = samples_dir();
    let expected_path = samples.join("expected.json");
    let expected: BTreeMap<String, Expected> = serde_json::from_str(
        &std::fs::read_to_string(&expected_path)
            .with_context(|| format!("reading {}", expected_path.display()))?,
    )?;
    let stack = bring_up(&args.stack).await?;
    let text = |name: &str| stack.state[name].as_str().unwrap_or_default().to_owned();
    let (bucket, audit_table, topic) = (
        text("bucket"),
        text("audit_table"),
        text("notifications_topic_arn"),
    );

    let sqs = aws_sdk_sqs::Client::new(&stack.config);
    let sns = aws_sdk_sns::Client::new(&stack.config);
    let subscriber =
        emulator::subscribe_new_queue(&sqs, &sns, &topic, "triage-demo-notifications", &[])
            .await
            .map_err(anyhow::Error::msg)
            .context("subscribing to the notifications topic")?;
    let s3 = crate::target::s3_client(&stack.config);
    let trail = AuditTrail::new(aws_sdk_dynamodb::Client::new(&stack.config), &audit_table);
    let announced_through = announcing_path(&s3, &bucket).await?;

    // Upload while the executor runs, as users do.
    let mut uploaded_sha256 = BTreeMap::new();
    let mut outcome: anyhow::Result<BTreeMap<String, AuditEntry>> = Ok(BTreeMap::new());
    stack
        .executor
        .run_until(sqs.clone(), async {
            outcome = async {
                eprintln!("==> uploading {} samples to s3://{bucket}/", expected.len());
                for (key, want) in &expected {
                    let body = match want.generated {
                        Some(Generated::Csv(size)) => outcomes::generated_csv(size),
                        Some(Generated::Eicar) => compliance::scan::EICAR.to_vec(),
                        None => {
                            let path = samples.join(key);
                            std::fs::read(&path)
                                .with_context(|| format!("reading {}", path.display()))?
                        }
                    };
                    uploaded_sha256.insert(key.clone(), worker_common::s3::sha256_hex(&body));
                    eprintln!(
                        "    {key} ({})",
                        object_events::size::human(body.len() as u64)
                    );
                    s3.put_object()
                        .bucket(&bucket)
                        .key(key)
                        .body(ByteStream::from(body))
                        .send()
                        .await
                        .with_context(|| format!("uploading {key}"))?;
                }
                let stages = expected
                    .iter()
                    .map(|(key, want)| (key.clone(), want.stage.clone()))
                    .collect();
                Ok(outcomes::wait_for(&trail, &bucket, &stages, args.timeout, "samples").await?)
            }
            .await;
        })
        .await;
    let outcomes = outcome?;
    // envs/local writes the default vocabulary.
    let tags = VerdictTags::parse(DEFAULT_PRESET).map_err(anyhow::Error::msg)?;
    let mut outcome_errors = BTreeMap::new();
    for (key, entry) in &outcomes {
        let uploaded = uploaded_sha256.get(key).map(String::as_str);
        if let Some(error) = outcomes::outcome_error(&s3, &bucket, entry, uploaded, &tags).await? {
            outcome_errors.insert(key.clone(), error);
        }
    }

    let mut mismatches = 0;
    let rows: Vec<Vec<String>> = expected
        .iter()
        .map(|(key, want)| {
            let got = outcomes.get(key);
            let outcome_error = outcome_errors.get(key);
            let ok = outcome_error.is_none()
                && got.is_some_and(|e| {
                    e.is_complete() && e.status == want.status && e.tier == want.tier
                });
            mismatches += usize::from(!ok);
            vec![
                key.clone(),
                want.stage.clone(),
                table::or_dash(got.and_then(|e| e.tier.clone())),
                table::or_dash(got.map(|e| match &e.delivery {
                    Some(delivery) if !e.is_complete() => format!("{} ({delivery})", e.status),
                    _ => e.status.clone(),
                })),
                table::or_dash(got.and_then(|e| e.duration_ms).map(|ms| format!("{ms} ms"))),
                table::or_dash(got.map(|e| e.outputs.len()).filter(|n| *n > 0)),
                table::or_dash(got.and_then(|e| e.reason.clone())),
                if ok {
                    "ok".into()
                } else if let Some(error) = outcome_error {
                    error.clone()
                } else {
                    format!(
                        "expected {} {}",
                        want.status,
                        want.tier.as_deref().unwrap_or("")
                    )
                },
            ]
        })
        .collect();
    println!();
    table::print(
        &[
            "KEY", "STAGE", "TIER", "STATUS", "DURATION", "OUTPUTS", "REASON", "CHECK",
        ],
        &rows,
    );

    let notifications = emulator::drain_queue(&sqs, &subscriber)
        .await
        .map_err(anyhow::Error::msg)?;
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for notification in &notifications {
        let envelope: serde_json::Value = serde_json::from_str(notification).unwrap_or_default();
        let status = envelope["MessageAttributes"]["status"]["Value"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        *by_status.entry(status).or_default() += 1;
    }
    let summary: Vec<String> = by_status
        .iter()
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    println!(
        "\nnotifications received: {} ({})",
        notifications.len(),
        summary.join(", ")
    );
    println!("uploads announced through: {announced_through}");
    if mismatches > 0 {
        bail!(
            "{mismatches} of {} samples did not get the expected outcome",
            expected.len()
        );
    }
    println!("all {} samples got their expected outcome", expected.len());
    Ok(())
}

/// What the bucket's notification configuration sends the uploads through, read back from S3.
async fn announcing_path(s3: &aws_sdk_s3::Client, bucket: &str) -> anyhow::Result<&'static str> {
    let configuration = s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
        .with_context(|| format!("reading the notification configuration of {bucket}"))?;
    let to_queue = !configuration.queue_configurations().is_empty();
    let to_eventbridge = configuration.event_bridge_configuration().is_some();
    Ok(match (to_queue, to_eventbridge) {
        (true, false) => "s3 notifications",
        (false, true) => "eventbridge",
        (true, true) => "s3 notifications and eventbridge",
        (false, false) => "nothing",
    })
}

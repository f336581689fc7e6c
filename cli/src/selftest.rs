//! `triage selftest`: proves a deployment is alive. Uploads one canary per tier where the
//! routing rules send it, waits for each outcome, checks it (status, checksum, verdict tag,
//! outputs present), removes what it made and exits non-zero naming every tier that missed.

use crate::route::PolicyArgs;
use crate::target::TargetArgs;
use crate::{outcomes, table};
use anyhow::{bail, Context};
use audit::{AuditEntry, AuditTrail};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use chrono::{DateTime, Utc};
use clap::Args;
use compliance::tags::{VerdictTags, DEFAULT_PRESET};
use object_events::{ObjectKey, Tier};
use router::policy::{Decision, RoutingPolicy};
use std::io::Cursor;
use std::time::Duration;

#[derive(Args)]
#[command(after_help = "Against the local stack:\n  \
    triage selftest --state-file .local/stack.json\n\
    Against AWS (the usual credential chain), with the deployment's names:\n  \
    triage selftest --bucket <uploads bucket> --table <audit table>")]
pub struct SelftestArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The uploads bucket; read from --state-file if not given.
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
    /// Also send a file of this size through the large-file task (e.g. 200MiB).
    #[arg(long, value_parser = RoutingPolicy::parse_size)]
    large: Option<u64>,
    /// Leave the canaries and what the pipeline made of them in the bucket.
    #[arg(long)]
    keep: bool,
}

/// One file uploaded to prove one tier works, and what must become of it.
struct Canary {
    tier: Tier,
    name: &'static str,
    body: Vec<u8>,
    stage: &'static str,
    status: &'static str,
}

fn canaries(large: Option<u64>) -> anyhow::Result<Vec<Canary>> {
    let canary = |tier, name, body, stage, status| Canary {
        tier,
        name,
        body,
        stage,
        status,
    };
    let mut all = vec![
        canary(
            Tier::Thumbnail,
            "canary.png",
            png()?,
            "thumbnail",
            "SUCCEEDED",
        ),
        canary(
            Tier::Document,
            "canary.pdf",
            pdf()?,
            "extractor",
            "SUCCEEDED",
        ),
        canary(
            Tier::Compliance,
            "eicar.txt",
            compliance::scan::EICAR.to_vec(),
            audit::VERDICT_STAGE,
            "INFECTED",
        ),
        canary(
            Tier::Compliance,
            "clean.txt",
            b"s3-triage selftest: nothing to see here\n".to_vec(),
            audit::VERDICT_STAGE,
            "CLEAN",
        ),
    ];
    if let Some(size) = large {
        let size = usize::try_from(size).context("--large is larger than this machine can hold")?;
        all.push(canary(
            Tier::Large,
            "canary.csv",
            outcomes::generated_csv(size),
            "large-file",
            "SUCCEEDED",
        ));
    }
    Ok(all)
}

fn png() -> anyhow::Result<Vec<u8>> {
    let image = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 160])
    });
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

fn pdf() -> anyhow::Result<Vec<u8>> {
    use lopdf::content::{Content, Operation};
    use lopdf::{dictionary, Document, Object, Stream};
    let mut document = Document::with_version("1.5");
    let pages = document.new_object_id();
    let font = document.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let text = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 18.into()]),
            Operation::new("Td", vec![72.into(), 720.into()]),
            Operation::new(
                "Tj",
                vec![Object::string_literal("s3-triage selftest canary")],
            ),
            Operation::new("ET", vec![]),
        ],
    };
    let contents = document.add_object(Stream::new(dictionary! {}, text.encode()?));
    let page = document.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages, "Contents" => contents,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
    });
    document.objects.insert(
        pages,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    document.trailer.set("Root", catalog);
    let mut out = Vec::new();
    document.save_to(&mut out)?;
    Ok(out)
}

/// Where the rules send `canary` under a prefix of this run's own: the first rule of its tier
/// whose prefix routes it there.
fn canary_key(policy: &RoutingPolicy, canary: &Canary, run: &str) -> anyhow::Result<ObjectKey> {
    for rule in policy
        .rules()
        .iter()
        .filter(|rule| rule.tier == canary.tier)
    {
        let key = ObjectKey::new(format!(
            "{}triage-selftest/{run}/{}",
            rule.prefix, canary.name
        ))?;
        if matches!(policy.route(&key, canary.body.len() as u64), Decision::Route { tier, .. } if tier == canary.tier)
        {
            return Ok(key);
        }
    }
    bail!(
        "no routing rule sends {} ({} bytes) to the {} tier: pass the deployment's --rules",
        canary.name,
        canary.body.len(),
        canary.tier.as_str()
    )
}

pub async fn run(args: SelftestArgs) -> anyhow::Result<()> {
    let target = args.target.resolve().await?;
    let bucket = args
        .bucket
        .clone()
        .or(target.state.bucket.clone())
        .context("which bucket? pass --bucket, set TRIAGE_BUCKET, or pass --state-file")?;
    let table = target.state.audit_table(args.table.clone())?;
    let policy = args.policy.policy()?;
    let tags = VerdictTags::parse(&args.verdict_tags).map_err(anyhow::Error::msg)?;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&target.config)
            .force_path_style(true)
            .build(),
    );
    let trail = AuditTrail::new(aws_sdk_dynamodb::Client::new(&target.config), &table);

    let run = Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let canaries = canaries(args.large)?;
    let mut uploaded = Vec::new();
    for canary in &canaries {
        let key = canary_key(&policy, canary, &run)?;
        eprintln!(
            "==> uploading s3://{bucket}/{key} ({} tier)",
            canary.tier.as_str()
        );
        s3.put_object()
            .bucket(&bucket)
            .key(key.as_str())
            .body(ByteStream::from(canary.body.clone()))
            .send()
            .await
            .with_context(|| format!("uploading {key}"))?;
        uploaded.push((key.as_str().to_owned(), canary, Utc::now()));
    }
    let stages = uploaded
        .iter()
        .map(|(key, canary, _)| (key.clone(), canary.stage.to_owned()))
        .collect();
    let found = outcomes::wait_for(&trail, &bucket, &stages, args.timeout, "canaries").await?;

    let mut rows = Vec::new();
    let mut missed = Vec::new();
    for (key, canary, at) in &uploaded {
        let entry = found.get(key);
        let problem = match entry {
            None => Some(format!(
                "no {} record within {}",
                canary.stage,
                humantime::format_duration(args.timeout)
            )),
            Some(entry) => check(&s3, &bucket, entry, canary, &tags).await?,
        };
        if let Some(problem) = &problem {
            missed.push(format!(
                "{} ({}: {problem})",
                canary.tier.as_str(),
                canary.name
            ));
        }
        rows.push(vec![
            canary.tier.as_str().to_owned(),
            key.clone(),
            format!("{} {}", canary.stage, canary.status),
            table::or_dash(entry.map(|e| e.status.clone())),
            table::or_dash(entry.and_then(|e| seconds_after(*at, &e.finished_at))),
            problem.unwrap_or_else(|| "ok".into()),
        ]);
    }
    table::print(
        &["TIER", "CANARY", "EXPECTED", "GOT", "SECONDS", "CHECK"],
        &rows,
    );

    if !args.keep {
        let made: Vec<&String> = uploaded
            .iter()
            .map(|(key, _, _)| key)
            .chain(found.values().flat_map(|entry| entry.outputs.iter()))
            .collect();
        match remove(&s3, &bucket, &made).await {
            Ok(removed) => eprintln!("==> removed {removed} object versions the selftest made"),
            Err(err) => eprintln!("==> could not remove everything the selftest made: {err:#}"),
        }
    }
    if !missed.is_empty() {
        bail!("selftest failed: {}", missed.join("; "));
    }
    println!(
        "selftest passed: {} canaries, every tier answered",
        uploaded.len()
    );
    Ok(())
}

/// Why the canary's record is not what a working deployment writes, if it is not.
async fn check(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    entry: &AuditEntry,
    canary: &Canary,
    tags: &VerdictTags,
) -> anyhow::Result<Option<String>> {
    if !entry.is_complete() {
        return Ok(Some(format!(
            "{} left {}",
            entry.status,
            entry.delivery.as_deref().unwrap_or("unfinished")
        )));
    }
    if entry.status != canary.status {
        let reason = entry
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        return Ok(Some(format!("{}{reason}", entry.status)));
    }
    let sha256 = worker_common::s3::sha256_hex(&canary.body);
    if let Some(problem) = outcomes::outcome_error(s3, bucket, entry, Some(&sha256), tags).await? {
        return Ok(Some(problem));
    }
    for output in &entry.outputs {
        let present = s3.head_object().bucket(bucket).key(output).send().await;
        if present.is_err() {
            return Ok(Some(format!("output {output} is missing")));
        }
    }
    Ok(None)
}

fn seconds_after(uploaded: DateTime<Utc>, finished_at: &str) -> Option<String> {
    let finished = DateTime::parse_from_rfc3339(finished_at).ok()?;
    let seconds = (finished.with_timezone(&Utc) - uploaded).num_milliseconds() as f64 / 1000.0;
    Some(format!("{:.1}", seconds.max(0.0)))
}

/// Deletes every version of `keys`; how many went.
async fn remove(s3: &aws_sdk_s3::Client, bucket: &str, keys: &[&String]) -> anyhow::Result<usize> {
    let mut removed = 0;
    for key in keys {
        let listed = s3
            .list_object_versions()
            .bucket(bucket)
            .prefix(key.as_str())
            .send()
            .await
            .with_context(|| format!("listing the versions of {key}"))?;
        let versions: Vec<ObjectIdentifier> = listed
            .versions()
            .iter()
            .filter(|version| version.key() == Some(key.as_str()))
            .map(|version| (version.key(), version.version_id()))
            .chain(
                listed
                    .delete_markers()
                    .iter()
                    .filter(|marker| marker.key() == Some(key.as_str()))
                    .map(|marker| (marker.key(), marker.version_id())),
            )
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(key?)
                    .set_version_id(version.map(str::to_owned))
                    .build()
                    .ok()
            })
            .collect();
        if versions.is_empty() {
            continue;
        }
        let count = versions.len();
        let deleted = s3
            .delete_objects()
            .bucket(bucket)
            .delete(Delete::builder().set_objects(Some(versions)).build()?)
            .send()
            .await
            .with_context(|| format!("deleting {key}"))?;
        if let Some(error) = deleted.errors().first() {
            bail!("deleting {key}: {}", error.message().unwrap_or("refused"));
        }
        removed += count;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(rules: &str) -> RoutingPolicy {
        RoutingPolicy::new(
            RoutingPolicy::parse_rules(rules).expect("rules"),
            "processed/",
            router::policy::DEFAULT_LARGE_LIMIT,
        )
        .expect("policy")
    }

    #[test]
    fn each_canary_goes_where_the_rules_send_its_tier() {
        let policy = policy(
            r#"[{"name": "scans", "prefix": "inbox/scans/", "kinds": ["pdf"], "tier": "document"},
                {"name": "photos", "prefix": "inbox/photos/", "max_size": "20MiB", "tier": "thumbnail"},
                {"name": "everything", "prefix": "inbox/", "tier": "compliance"}]"#,
        );
        let keys: Vec<String> = canaries(None)
            .expect("canaries")
            .iter()
            .map(|canary| {
                canary_key(&policy, canary, "RUN")
                    .expect("routed")
                    .as_str()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            keys,
            [
                "inbox/photos/triage-selftest/RUN/canary.png",
                "inbox/scans/triage-selftest/RUN/canary.pdf",
                "inbox/triage-selftest/RUN/eicar.txt",
                "inbox/triage-selftest/RUN/clean.txt",
            ]
        );
    }

    #[test]
    fn a_tier_no_rule_reaches_is_named() {
        let policy = policy(r#"[{"name": "photos", "prefix": "photos/", "tier": "thumbnail"}]"#);
        let canaries = canaries(None).expect("canaries");
        let err = canary_key(&policy, &canaries[1], "RUN").expect_err("no document rule");
        assert_eq!(
            err.to_string(),
            format!(
                "no routing rule sends canary.pdf ({} bytes) to the document tier: pass the deployment's --rules",
                canaries[1].body.len()
            )
        );
    }
}

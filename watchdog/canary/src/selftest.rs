//! One selftest: a canary per tier uploaded where the routing rules send it, each outcome
//! waited for and checked, everything the canaries made removed.

use crate::{outcomes, CanaryError};
use audit::{AuditEntry, AuditTrail};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use chrono::{DateTime, Utc};
use compliance::tags::VerdictTags;
use object_events::{ObjectKey, Tier};
use router::policy::{Decision, RoutingPolicy};
use serde::Serialize;
use std::io::Cursor;
use std::time::Duration;
use worker_common::outputs::Output;

/// Where canaries go under each rule's prefix: a folder per run, so runs never meet.
pub const CANARY_FOLDER: &str = "triage-selftest/";

/// One file uploaded to prove one tier works, and what must become of it.
struct Canary {
    tier: Tier,
    name: &'static str,
    body: Vec<u8>,
    stage: &'static str,
    status: &'static str,
}

/// The canaries of one run: an image, a PDF, a clean text and (with `eicar`) the EICAR test
/// file for the compliance tier, and a generated CSV of `large` bytes if asked.
fn canaries(eicar: bool, large: Option<u64>) -> Result<Vec<Canary>, CanaryError> {
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
            "clean.txt",
            b"s3-triage selftest: nothing to see here\n".to_vec(),
            audit::VERDICT_STAGE,
            "CLEAN",
        ),
    ];
    if eicar {
        all.insert(
            2,
            canary(
                Tier::Compliance,
                "eicar.txt",
                compliance::scan::EICAR.to_vec(),
                audit::VERDICT_STAGE,
                "INFECTED",
            ),
        );
    }
    if let Some(size) = large {
        let size = usize::try_from(size).map_err(|_| {
            CanaryError::Setup("the large canary is larger than this machine can hold".into())
        })?;
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

fn png() -> Result<Vec<u8>, CanaryError> {
    let image = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 160])
    });
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|err| CanaryError::Setup(format!("making the PNG canary: {err}")))?;
    Ok(out.into_inner())
}

fn pdf() -> Result<Vec<u8>, CanaryError> {
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
    let unmade = |err: lopdf::Error| CanaryError::Setup(format!("making the PDF canary: {err}"));
    let contents = document.add_object(Stream::new(dictionary! {}, text.encode().map_err(unmade)?));
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
    document
        .save_to(&mut out)
        .map_err(|err| unmade(err.into()))?;
    Ok(out)
}

/// Where the rules send `canary` in `bucket` under a prefix of this run's own: the first rule
/// of its tier for that bucket whose prefix routes it there.
fn canary_key(
    policy: &RoutingPolicy,
    bucket: &str,
    canary: &Canary,
    run: &str,
) -> Result<ObjectKey, CanaryError> {
    for rule in policy
        .rules()
        .iter()
        .filter(|rule| rule.tier == canary.tier && rule.watches(bucket))
    {
        let key = ObjectKey::new(format!(
            "{}{CANARY_FOLDER}{run}/{}",
            rule.prefix, canary.name
        ))
        .map_err(|err| CanaryError::Setup(format!("under rule {}: {err}", rule.name)))?;
        if matches!(policy.route(bucket, &key, canary.body.len() as u64), Decision::Route { tier, .. } if tier == canary.tier)
        {
            return Ok(key);
        }
    }
    Err(CanaryError::Setup(format!(
        "no routing rule sends {} ({} bytes) in {bucket} to the {} tier: pass the deployment's --rules",
        canary.name,
        canary.body.len(),
        canary.tier.as_str()
    )))
}

/// What one selftest checks against, and how.
pub struct Selftest {
    pub s3: aws_sdk_s3::Client,
    pub trail: AuditTrail,
    pub bucket: String,
    pub policy: RoutingPolicy,
    pub tags: VerdictTags,
    /// How long to wait for every canary's outcome.
    pub timeout: Duration,
    /// Also upload the EICAR test file, which must be judged INFECTED (and so pages whoever
    /// watches the infected-verdicts alarm).
    pub eicar: bool,
    /// Also send a file of this size through the large-file task.
    pub large: Option<u64>,
    /// Leave the canaries and what the pipeline made of them in the bucket.
    pub keep: bool,
}

/// What became of one canary.
#[derive(Clone, Debug, Serialize)]
pub struct CanaryResult {
    pub tier: Tier,
    pub name: &'static str,
    pub key: String,
    /// `<stage> <status>` the canary must end with.
    pub expected: String,
    /// The status its stage recorded, if any.
    pub got: Option<String>,
    /// Seconds from its upload to its record.
    pub seconds: Option<f64>,
    /// Why it missed, if it did.
    pub problem: Option<String>,
}

/// A selftest's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub results: Vec<CanaryResult>,
    /// How many object versions the cleanup removed, or why it could not (`None`: kept).
    pub removed: Option<Result<usize, String>>,
}

impl Report {
    /// `<tier> (<canary>: <problem>)` for each canary that missed.
    pub fn missed(&self) -> Vec<String> {
        self.results
            .iter()
            .filter_map(|result| {
                let problem = result.problem.as_ref()?;
                Some(format!(
                    "{} ({}: {problem})",
                    result.tier.as_str(),
                    result.name
                ))
            })
            .collect()
    }

    /// How many distinct tiers missed: the canary's metric.
    pub fn tiers_missed(&self) -> usize {
        let mut tiers: Vec<Tier> = self
            .results
            .iter()
            .filter(|result| result.problem.is_some())
            .map(|result| result.tier)
            .collect();
        tiers.sort_by_key(|tier| tier.as_str());
        tiers.dedup();
        tiers.len()
    }
}

impl Selftest {
    /// Uploads the canaries, waits for and checks each outcome, cleans up (unless `keep`).
    pub async fn run(&self) -> Result<Report, CanaryError> {
        let bucket = &self.bucket;
        let run = Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let canaries = canaries(self.eicar, self.large)?;
        let mut uploaded = Vec::new();
        for canary in &canaries {
            let key = canary_key(&self.policy, bucket, canary, &run)?;
            eprintln!(
                "==> uploading s3://{bucket}/{key} ({} tier)",
                canary.tier.as_str()
            );
            self.s3
                .put_object()
                .bucket(bucket)
                .key(key.as_str())
                .body(ByteStream::from(canary.body.clone()))
                .send()
                .await
                .map_err(|err| CanaryError::s3(format!("uploading {key}"), err))?;
            uploaded.push((key.as_str().to_owned(), canary, Utc::now()));
        }
        let stages = uploaded
            .iter()
            .map(|(key, canary, _)| (key.clone(), canary.stage.to_owned()))
            .collect();
        let found =
            outcomes::wait_for(&self.trail, bucket, &stages, self.timeout, "canaries").await?;

        let mut results = Vec::new();
        for (key, canary, at) in &uploaded {
            let entry = found.get(key);
            let problem = match entry {
                None => Some(format!(
                    "no {} record within {}",
                    canary.stage,
                    humantime::format_duration(self.timeout)
                )),
                Some(entry) => check(&self.s3, bucket, entry, canary, &self.tags).await?,
            };
            results.push(CanaryResult {
                tier: canary.tier,
                name: canary.name,
                key: key.clone(),
                expected: format!("{} {}", canary.stage, canary.status),
                got: entry.map(|entry| entry.status.clone()),
                seconds: entry.and_then(|entry| seconds_after(*at, &entry.finished_at)),
                problem,
            });
        }
        let removed = if self.keep {
            None
        } else {
            let made: Vec<Output> = uploaded
                .iter()
                .map(|(key, _, _)| Output {
                    bucket: bucket.clone(),
                    key: key.clone(),
                })
                .chain(found.values().flat_map(|entry| {
                    entry
                        .outputs
                        .iter()
                        .map(|output| Output::from_listed(output, &entry.bucket))
                }))
                .collect();
            Some(remove(&self.s3, &made).await.map_err(|err| err.to_string()))
        };
        Ok(Report { results, removed })
    }
}

/// Why the canary's record is not what a working deployment writes, if it is not.
async fn check(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    entry: &AuditEntry,
    canary: &Canary,
    tags: &VerdictTags,
) -> Result<Option<String>, CanaryError> {
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
    // Listed, not read: a quarantine copy is unreadable to all but the verdict writers.
    for listed in &entry.outputs {
        let output = Output::from_listed(listed, &entry.bucket);
        if !versions_of(s3, &output)
            .await?
            .iter()
            .any(|version| matches!(version, Stored::Version { latest: true, .. }))
        {
            return Ok(Some(format!("output {listed} is missing")));
        }
    }
    Ok(None)
}

/// One stored version of a key, as its listing shows it.
enum Stored {
    Version { id: Option<String>, latest: bool },
    DeleteMarker { id: Option<String> },
}

/// Every version and delete marker of exactly `output`'s key.
async fn versions_of(s3: &aws_sdk_s3::Client, output: &Output) -> Result<Vec<Stored>, CanaryError> {
    let key = output.key.as_str();
    let listed = s3
        .list_object_versions()
        .bucket(&output.bucket)
        .prefix(key)
        .send()
        .await
        .map_err(|err| CanaryError::s3(format!("listing the versions of {key}"), err))?;
    let versions = listed
        .versions()
        .iter()
        .filter(|version| version.key() == Some(key))
        .map(|version| Stored::Version {
            id: version.version_id().map(str::to_owned),
            latest: version.is_latest() == Some(true),
        });
    let markers = listed
        .delete_markers()
        .iter()
        .filter(|marker| marker.key() == Some(key))
        .map(|marker| Stored::DeleteMarker {
            id: marker.version_id().map(str::to_owned),
        });
    Ok(versions.chain(markers).collect())
}

fn seconds_after(uploaded: DateTime<Utc>, finished_at: &str) -> Option<f64> {
    let finished = DateTime::parse_from_rfc3339(finished_at).ok()?;
    let seconds = (finished.with_timezone(&Utc) - uploaded).num_milliseconds() as f64 / 1000.0;
    Some(seconds.max(0.0))
}

/// Deletes every version of `objects`; how many went.
async fn remove(s3: &aws_sdk_s3::Client, objects: &[Output]) -> Result<usize, CanaryError> {
    let mut removed = 0;
    for object in objects {
        let key = object.key.as_str();
        let versions: Vec<ObjectIdentifier> = versions_of(s3, object)
            .await?
            .into_iter()
            .filter_map(|stored| {
                let (Stored::Version { id, .. } | Stored::DeleteMarker { id }) = stored;
                ObjectIdentifier::builder()
                    .key(key)
                    .set_version_id(id)
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
            .bucket(&object.bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(versions))
                    .build()
                    .map_err(|err| CanaryError::s3(format!("deleting {key}"), err))?,
            )
            .send()
            .await
            .map_err(|err| CanaryError::s3(format!("deleting {key}"), err))?;
        if let Some(error) = deleted.errors().first() {
            return Err(CanaryError::S3 {
                what: format!("deleting {key}"),
                message: error.message().unwrap_or("refused").to_owned(),
            });
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
        let keys: Vec<String> = canaries(true, None)
            .expect("canaries")
            .iter()
            .map(|canary| {
                canary_key(&policy, "uploads", canary, "RUN")
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
    fn in_a_bucket_with_rules_of_its_own_the_canaries_follow_them() {
        let policy = policy(
            r#"[{"name": "team-photos", "bucket": "team-media", "prefix": "photos/", "tier": "thumbnail"},
                {"name": "images", "prefix": "uploads/images/", "tier": "thumbnail"}]"#,
        );
        let png = &canaries(false, None).expect("canaries")[0];
        assert_eq!(
            canary_key(&policy, "team-media", png, "RUN")
                .expect("routed")
                .as_str(),
            "photos/triage-selftest/RUN/canary.png"
        );
        assert_eq!(
            canary_key(&policy, "uploads", png, "RUN")
                .expect("routed")
                .as_str(),
            "uploads/images/triage-selftest/RUN/canary.png"
        );
    }

    #[test]
    fn a_tier_no_rule_reaches_is_named() {
        let policy = policy(r#"[{"name": "photos", "prefix": "photos/", "tier": "thumbnail"}]"#);
        let canaries = canaries(true, None).expect("canaries");
        let err =
            canary_key(&policy, "uploads", &canaries[1], "RUN").expect_err("no document rule");
        assert_eq!(
            err.to_string(),
            format!(
                "no routing rule sends canary.pdf ({} bytes) in uploads to the document tier: pass the deployment's --rules",
                canaries[1].body.len()
            )
        );
    }
}

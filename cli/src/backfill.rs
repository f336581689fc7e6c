//! `triage backfill`: brings objects that never got an event into the pipeline, from a bucket
//! listing or an S3 Inventory report, through the same ingest queue as live uploads.
//!
//! Objects whose version already has a router record are skipped (unless `--force`), so a
//! second backfill sends nothing, and a checkpoint after every page lets Ctrl-C and a rerun
//! continue where they stopped. Anything sent twice (a page interrupted half-way) is routed
//! once: the router's records are exactly once per version.

use crate::announce::{read_checkpoint, write_checkpoint, Announcer, PaceArgs, Progress};
use crate::batch_job::{self, JobSource, JobSpec};
use crate::route::PolicyArgs;
use crate::target::{Target, TargetArgs};
use anyhow::{bail, Context};
use audit::table::{self, PARTITION_KEY, SORT_KEY};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use chrono::{DateTime, Utc};
use clap::Args;
use object_events::{ObjectKey, Origin, S3Object, Tier};
use router::policy::{Decision, RoutingPolicy};
use router::versions::listed_object;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// DynamoDB's limit on keys per `BatchGetItem`.
const BATCH_GET_LIMIT: usize = 100;
/// Objects sent between two looks at Ctrl-C and the progress line.
const SEND_CHUNK: usize = 50;
/// Versions per listing page, and so per checkpoint: a few seconds of sending at the default
/// rate, so an interruption repeats little.
const LISTING_PAGE: i32 = 200;

/// Estimated cost per 1,000 files, in US dollars: the table in docs/deploy.md ("Cost per 1,000
/// files"), the large tier's row for a 1 GiB file. Every file also pays the router's row.
const ROUTER_COST_PER_1000: f64 = 0.004;
fn tier_cost_per_1000(tier: Tier) -> f64 {
    match tier {
        Tier::Thumbnail => 0.013,
        Tier::Document => 0.016,
        Tier::Compliance => 0.031,
        Tier::Large => 0.87,
    }
}

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    triage backfill --state-file .local/stack.json --prefix uploads/ --dry-run\n  \
    triage backfill --bucket my-uploads --prefix uploads/images/ --rate 50 \\\n    \
    --table s3-triage-prod-audit --queue-url https://sqs.../s3-triage-prod-ingest\n  \
    triage backfill --inventory s3://inventory-bucket/my-uploads/daily/2026-12-01T01-00Z/manifest.json ...\n\n\
    Interrupted (Ctrl-C), it saves a checkpoint; the same command again continues from it.")]
pub struct BackfillArgs {
    /// The bucket to list; read from --state-file if not given (ignored with --inventory).
    #[arg(long)]
    bucket: Option<String>,
    /// Only keys under this prefix.
    #[arg(long, default_value = "", conflicts_with = "inventory")]
    prefix: String,
    /// An S3 Inventory report's manifest.json (s3://bucket/key) instead of a listing: for
    /// buckets too large to list.
    #[arg(long, value_name = "S3_URI")]
    inventory: Option<String>,
    /// Send objects even when their version already has a router record.
    #[arg(long)]
    force: bool,
    /// Only count what would go to each tier and what it would cost; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Where progress is kept between runs (default: .triage/backfill-<source digest>.json).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Ignore an existing checkpoint and start from the beginning.
    #[arg(long)]
    restart: bool,
    /// The audit table; read from --state-file if not given.
    #[arg(long, env = audit::settings::AUDIT_TABLE)]
    table: Option<String>,
    #[command(flatten)]
    pace: PaceArgs,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    target: TargetArgs,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Create an S3 Batch Operations job that invokes the router once per object (over a
    /// manifest S3 generates from --prefix, or over --inventory) instead of listing and sending
    /// from this machine: for buckets beyond what one machine should list. AWS only.
    #[arg(long, conflicts_with_all = ["dry_run", "force", "checkpoint", "restart"])]
    batch_operations: bool,
    /// With --batch-operations: the role the job runs as (terraform output
    /// stack.batch_operations.role_arn).
    #[arg(long, env = "TRIAGE_BATCH_OPERATIONS_ROLE_ARN")]
    role_arn: Option<String>,
    /// With --batch-operations: the router Lambda's ARN (terraform output
    /// stack.batch_operations.router_function_arn).
    #[arg(long, env = "TRIAGE_ROUTER_FUNCTION_ARN")]
    router_arn: Option<String>,
    /// With --batch-operations: the bucket the job's report goes to, the stack's own (terraform
    /// output stack.bucket; its role may write reports nowhere else). Default: the bucket
    /// backfilled, right when that is the stack's.
    #[arg(long)]
    report_bucket: Option<String>,
}

/// Where a source stands: what the next page starts from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Position {
    #[default]
    Start,
    Listing {
        key_marker: String,
        version_id_marker: Option<String>,
    },
    Inventory {
        file: usize,
        line: u64,
    },
    Done,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    source: String,
    position: Position,
    summary: Summary,
}

/// What a backfill found and did, per tier as the routing policy sends it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    pub listed: u64,
    pub skipped: u64,
    pub sent: u64,
    pub tiers: BTreeMap<String, TierCount>,
    pub estimated_cost_usd: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TierCount {
    pub objects: u64,
    pub bytes: u64,
}

impl Summary {
    fn count(&mut self, policy: &RoutingPolicy, object: &S3Object) {
        let outcome = match policy.route(&object.bucket, &object.key, object.size) {
            Decision::Route { tier, .. } => {
                self.estimated_cost_usd += tier_cost_per_1000(tier) / 1000.0;
                tier.to_string()
            }
            Decision::Reject { .. } => "rejected".into(),
            Decision::Ignore { .. } => "ignored".into(),
        };
        self.estimated_cost_usd += ROUTER_COST_PER_1000 / 1000.0;
        let count = self.tiers.entry(outcome).or_default();
        count.objects += 1;
        count.bytes += object.size;
    }
}

/// A page of objects from the source and the position after it; `progress` is the fraction
/// of the source read, when it can be known.
struct Page {
    objects: Vec<S3Object>,
    next: Position,
    progress: Option<f64>,
}

enum Source {
    Listing {
        bucket: String,
        prefix: String,
    },
    Inventory {
        manifest: Manifest,
        /// The data file being read: its index and the rows left in it.
        open: Option<Box<(usize, InventoryRows)>>,
    },
}

/// An S3 Inventory `manifest.json`, as AWS writes it (the fields a backfill reads).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    source_bucket: String,
    /// `arn:aws:s3:::<bucket>`: where the data files are.
    destination_bucket: String,
    file_format: String,
    /// The columns of the data files, e.g. `Bucket, Key, VersionId, IsLatest, Size, ETag`.
    file_schema: String,
    files: Vec<ManifestFile>,
}

#[derive(Debug, Deserialize)]
struct ManifestFile {
    key: String,
    size: u64,
}

pub async fn run(args: BackfillArgs) -> anyhow::Result<()> {
    if args.batch_operations {
        return create_batch_job(&args).await;
    }
    let Target { config, state } = args.target.resolve().await?;
    let s3 = aws_sdk_s3::Client::new(&config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let policy = args.policy.policy()?;
    let table = state.audit_table(args.table.clone())?;
    let mut source = match &args.inventory {
        Some(uri) => Source::Inventory {
            manifest: read_manifest(&s3, uri).await?,
            open: None,
        },
        None => {
            let Some(bucket) = args.bucket.clone().or(state.bucket) else {
                bail!("which bucket? pass --bucket, --inventory or --state-file");
            };
            Source::Listing {
                bucket,
                prefix: args.prefix.clone(),
            }
        }
    };
    let described = source.describe();
    let checkpoint_path = args
        .checkpoint
        .clone()
        .unwrap_or_else(|| default_checkpoint(&described));
    let mut checkpoint = match (
        args.restart || args.dry_run,
        read_checkpoint::<Checkpoint>(&checkpoint_path)?,
    ) {
        (false, Some(saved)) if saved.source == described => {
            eprintln!(
                "resuming from {} ({} sent, {} skipped so far; --restart starts over)",
                checkpoint_path.display(),
                saved.summary.sent,
                saved.summary.skipped
            );
            saved
        }
        _ => Checkpoint {
            source: described.clone(),
            ..Checkpoint::default()
        },
    };
    let mut announcer = if args.dry_run {
        None
    } else {
        let Some(queue_url) = args.pace.queue_url.clone().or(state.ingest_queue_url) else {
            bail!("which ingest queue? pass --queue-url, set TRIAGE_INGEST_QUEUE_URL, or pass --state-file");
        };
        let sqs = aws_sdk_sqs::Client::new(&config);
        Some(Announcer::new(sqs, queue_url, args.pace.clone())?)
    };

    let mut progress = Progress::new(if args.dry_run {
        "backfill (dry run)"
    } else {
        "backfill"
    });
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    while checkpoint.position != Position::Done {
        let mut page = tokio::select! {
            page = source.page(&s3, &checkpoint.position) => page?,
            _ = &mut interrupted => return stopped(&checkpoint_path, &checkpoint, args.dry_run),
        };
        // Counted apart until the page is done: an interruption saves the last page's end,
        // and the rerun counts this page again.
        let mut summary = checkpoint.summary.clone();
        // The pipeline's own outputs are not uploads to bring in.
        page.objects
            .retain(|object| !object.key.as_str().starts_with(policy.reserved_prefix()));
        summary.listed += page.objects.len() as u64;
        let fresh = if args.force {
            page.objects
        } else {
            let routed = already_routed(&dynamodb, &table, &page.objects).await?;
            let (done, fresh): (Vec<S3Object>, Vec<S3Object>) = page
                .objects
                .into_iter()
                .partition(|object| identity(object).is_some_and(|id| routed.contains(&id)));
            summary.skipped += done.len() as u64;
            fresh
        };
        for object in &fresh {
            summary.count(&policy, object);
        }
        if let Some(announcer) = &mut announcer {
            for chunk in fresh.chunks(SEND_CHUNK) {
                tokio::select! {
                    sent = announcer.send(chunk) => sent?,
                    _ = &mut interrupted => return stopped(&checkpoint_path, &checkpoint, false),
                }
                summary.sent += chunk.len() as u64;
                progress.show(summary.sent, page.progress, &counts(&summary));
            }
        }
        checkpoint.summary = summary;
        checkpoint.position = page.next;
        if !args.dry_run {
            write_checkpoint(&checkpoint_path, &checkpoint)?;
        }
        progress.show(
            checkpoint.summary.listed,
            page.progress,
            &counts(&checkpoint.summary),
        );
    }
    progress.finish();
    if !args.dry_run {
        let _ = std::fs::remove_file(&checkpoint_path);
    }
    print_summary(&checkpoint.summary, args.dry_run, args.json)?;
    Ok(())
}

async fn create_batch_job(args: &BackfillArgs) -> anyhow::Result<()> {
    let Target { config, state } = args.target.resolve().await?;
    if state.endpoint_url.is_some() || args.target.endpoint_url.is_some() {
        bail!(
            "the emulator runs no S3 Batch Operations jobs: locally, `triage backfill` without \
             --batch-operations brings objects in, and the router answers Batch Operations \
             invocations sent to the state file's lambda_endpoint_url (docs/cli.md)"
        );
    }
    let role_arn = args.role_arn.clone().context(
        "which role does the job run as? pass --role-arn or set TRIAGE_BATCH_OPERATIONS_ROLE_ARN \
         (terraform output: stack.batch_operations.role_arn)",
    )?;
    let router_arn = args.router_arn.clone().context(
        "which router does the job invoke? pass --router-arn or set TRIAGE_ROUTER_FUNCTION_ARN \
         (terraform output: stack.batch_operations.router_function_arn)",
    )?;
    let s3 = aws_sdk_s3::Client::new(&config);
    let (bucket, source) = match &args.inventory {
        Some(uri) => {
            let manifest = read_manifest(&s3, uri).await?;
            let (manifest_bucket, key) = parse_s3_uri(uri)?;
            let head = s3
                .head_object()
                .bucket(manifest_bucket)
                .key(key)
                .send()
                .await
                .with_context(|| format!("reading the ETag of {uri}"))?;
            let etag = head.e_tag().context("the manifest has no ETag")?;
            let source = JobSource::Inventory {
                manifest_arn: format!("arn:aws:s3:::{manifest_bucket}/{key}"),
                etag: etag.trim_matches('"').to_owned(),
            };
            (manifest.source_bucket, source)
        }
        None => {
            let Some(bucket) = args.bucket.clone().or(state.bucket) else {
                bail!("which bucket? pass --bucket or --inventory");
            };
            if args.prefix.is_empty() {
                bail!(
                    "--batch-operations over a listing needs --prefix (uploads/, say): the \
                     whole bucket holds the pipeline's own outputs too"
                );
            }
            (bucket, JobSource::Prefix(args.prefix.clone()))
        }
    };
    let policy = args.policy.policy()?;
    let spec = JobSpec {
        report_bucket: args.report_bucket.clone().unwrap_or_else(|| bucket.clone()),
        bucket,
        source,
        role_arn,
        router_arn,
        report_prefix: format!("{}batch-operations/", policy.reserved_prefix()),
        requested_at: Utc::now(),
    };
    let client = aws_sdk_s3control::Client::new(&config);
    let job_id = batch_job::create(&client, &spec).await?;
    if args.json {
        println!("{}", serde_json::json!({ "job_id": job_id }));
    }
    eprintln!("{}", spec.follow_up(&job_id)?);
    Ok(())
}

fn counts(summary: &Summary) -> String {
    format!(
        "{} listed, {} already routed, {} sent",
        summary.listed, summary.skipped, summary.sent
    )
}

fn stopped(path: &Path, checkpoint: &Checkpoint, dry_run: bool) -> anyhow::Result<()> {
    eprintln!();
    if dry_run {
        bail!("interrupted");
    }
    write_checkpoint(path, checkpoint)?;
    bail!(
        "interrupted after {} objects sent; the checkpoint is in {}: run the same command again to continue",
        checkpoint.summary.sent,
        path.display()
    )
}

fn print_summary(summary: &Summary, dry_run: bool, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(summary)?);
        return Ok(());
    }
    let verb = if dry_run { "would go" } else { "went" };
    eprintln!(
        "{} objects listed, {} already routed (skipped), {} {verb} to the router:",
        summary.listed,
        summary.skipped,
        summary.listed - summary.skipped
    );
    let rows: Vec<Vec<String>> = summary
        .tiers
        .iter()
        .map(|(tier, count)| {
            vec![
                tier.clone(),
                count.objects.to_string(),
                router::policy::human(count.bytes),
            ]
        })
        .collect();
    crate::table::print(&["TIER", "OBJECTS", "BYTES"], &rows);
    eprintln!(
        "estimated cost: ${:.2} (docs/deploy.md's cost per 1,000 files; large files as 1 GiB)",
        summary.estimated_cost_usd
    );
    Ok(())
}

/// The audit identity of the object's first router record: what "already routed" means.
/// An object naming no version has none, so it is never taken for routed.
fn identity(object: &S3Object) -> Option<(String, String)> {
    let object = object.object_ref();
    let sort_key = table::run_sort_key(&object, router::handler::STAGE, None).ok()?;
    Some((table::partition_key(&object), sort_key))
}

/// Which of `objects` already have a router record, by [`identity`].
async fn already_routed(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    objects: &[S3Object],
) -> anyhow::Result<HashSet<(String, String)>> {
    let mut found = HashSet::new();
    for chunk in objects.chunks(BATCH_GET_LIMIT) {
        let unique: HashSet<(String, String)> = chunk.iter().filter_map(identity).collect();
        let mut keys: Vec<HashMap<String, AttributeValue>> = unique
            .into_iter()
            .map(|(pk, sk)| {
                HashMap::from([
                    (PARTITION_KEY.to_owned(), AttributeValue::S(pk)),
                    (SORT_KEY.to_owned(), AttributeValue::S(sk)),
                ])
            })
            .collect();
        while !keys.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut keys)))
                .projection_expression("#pk, #sk")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_names("#sk", SORT_KEY)
                .build()?;
            let response = dynamodb
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .with_context(|| format!("reading the audit table {table}"))?;
            for item in response
                .responses()
                .and_then(|r| r.get(table))
                .into_iter()
                .flatten()
            {
                let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
                if let (Some(pk), Some(sk)) = (text(PARTITION_KEY), text(SORT_KEY)) {
                    found.insert((pk, sk));
                }
            }
            if let Some(left) = response.unprocessed_keys().and_then(|u| u.get(table)) {
                keys = left.keys().to_vec();
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    Ok(found)
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::Listing { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
            Source::Inventory { manifest, .. } => format!(
                "inventory of s3://{} in {}: {}",
                manifest.source_bucket,
                manifest.destination_bucket,
                manifest
                    .files
                    .iter()
                    .map(|f| f.key.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }

    async fn page(&mut self, s3: &aws_sdk_s3::Client, at: &Position) -> anyhow::Result<Page> {
        match self {
            Source::Listing { bucket, prefix } => list_page(s3, bucket, prefix, at).await,
            Source::Inventory { manifest, open } => inventory_page(s3, manifest, open, at).await,
        }
    }
}

/// One page of the bucket's current versions (delete markers and older versions left out).
async fn list_page(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    at: &Position,
) -> anyhow::Result<Page> {
    let mut list = s3
        .list_object_versions()
        .bucket(bucket)
        .prefix(prefix)
        .max_keys(LISTING_PAGE);
    if let Position::Listing {
        key_marker,
        version_id_marker,
    } = at
    {
        list = list
            .key_marker(key_marker)
            .set_version_id_marker(version_id_marker.clone());
    }
    let listing = list
        .send()
        .await
        .with_context(|| format!("listing s3://{bucket}/{prefix}"))?;
    let mut objects = Vec::new();
    for version in listing.versions() {
        if version.is_latest() != Some(true) {
            continue;
        }
        if let Some(object) = listed_object(bucket, version, Origin::Backfill) {
            objects.push(object?);
        }
    }
    let next = match (listing.is_truncated(), listing.next_key_marker()) {
        (Some(true), Some(key_marker)) => Position::Listing {
            key_marker: key_marker.to_owned(),
            version_id_marker: listing.next_version_id_marker().map(str::to_owned),
        },
        _ => Position::Done,
    };
    Ok(Page {
        objects,
        next,
        progress: None,
    })
}

/// Rows per page of an inventory data file (a checkpoint after each).
const INVENTORY_PAGE: usize = LISTING_PAGE as usize;

async fn read_manifest(s3: &aws_sdk_s3::Client, uri: &str) -> anyhow::Result<Manifest> {
    let (bucket, key) = parse_s3_uri(uri)?;
    let text = get_bytes(s3, bucket, key).await?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .with_context(|| format!("{uri} is not an S3 Inventory manifest.json"))?;
    if manifest.file_format != "CSV" {
        bail!(
            "{uri}: inventory format {} is not supported (configure the inventory as CSV)",
            manifest.file_format
        );
    }
    Ok(manifest)
}

async fn get_bytes(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> anyhow::Result<Vec<u8>> {
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .with_context(|| format!("reading s3://{bucket}/{key}"))?;
    Ok(object.body.collect().await?.into_bytes().to_vec())
}

fn parse_s3_uri(uri: &str) -> anyhow::Result<(&str, &str)> {
    uri.strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(bucket, key)| !bucket.is_empty() && !key.is_empty())
        .with_context(|| format!("{uri:?} is not an s3://bucket/key URI"))
}

/// The columns of an inventory data file a backfill needs, by position in `fileSchema`.
struct Columns {
    bucket: usize,
    key: usize,
    size: usize,
    version_id: Option<usize>,
    is_latest: Option<usize>,
    is_delete_marker: Option<usize>,
    etag: Option<usize>,
    last_modified: Option<usize>,
}

impl Columns {
    fn of(schema: &str) -> anyhow::Result<Self> {
        let names: Vec<&str> = schema.split(',').map(str::trim).collect();
        let find = |name: &str| names.iter().position(|n| n.eq_ignore_ascii_case(name));
        let required = |name: &str| {
            find(name).with_context(|| {
                format!("the inventory has no {name} column (its fileSchema is {schema:?})")
            })
        };
        Ok(Self {
            bucket: required("Bucket")?,
            key: required("Key")?,
            size: required("Size")?,
            version_id: find("VersionId"),
            is_latest: find("IsLatest"),
            is_delete_marker: find("IsDeleteMarker"),
            etag: find("ETag"),
            last_modified: find("LastModifiedDate"),
        })
    }

    /// The current, not deleted object a row names; `None` for other rows.
    fn object(&self, row: &csv::StringRecord) -> anyhow::Result<Option<S3Object>> {
        let field = |index: Option<usize>| index.and_then(|i| row.get(i)).filter(|v| !v.is_empty());
        if field(self.is_latest).is_some_and(|v| v != "true")
            || field(self.is_delete_marker).is_some_and(|v| v == "true")
        {
            return Ok(None);
        }
        let (Some(bucket), Some(raw_key)) = (field(Some(self.bucket)), field(Some(self.key)))
        else {
            bail!("an inventory row without a bucket or key: {row:?}");
        };
        // Inventory reports keys URL-encoded, as S3 events do.
        let key = ObjectKey::from_event_encoding(raw_key)?;
        let size = field(Some(self.size)).unwrap_or("0").parse::<u64>()?;
        let mut object = S3Object::put(bucket, key, size, field(self.etag).map(str::to_owned));
        object.raw_key = raw_key.to_owned();
        object.version_id = field(self.version_id)
            .filter(|id| *id != "null")
            .map(str::to_owned);
        object.event_time = field(self.last_modified)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        object.origin = Origin::Backfill;
        Ok(Some(object))
    }
}

type InventoryRows = csv::StringRecordsIntoIter<flate2::read::GzDecoder<std::io::Cursor<Vec<u8>>>>;

async fn inventory_page(
    s3: &aws_sdk_s3::Client,
    manifest: &Manifest,
    open: &mut Option<Box<(usize, InventoryRows)>>,
    at: &Position,
) -> anyhow::Result<Page> {
    let (file, line) = match at {
        Position::Inventory { file, line } => (*file, *line),
        _ => (0, 0),
    };
    let Some(data) = manifest.files.get(file) else {
        return Ok(Page {
            objects: Vec::new(),
            next: Position::Done,
            progress: Some(1.0),
        });
    };
    let columns = Columns::of(&manifest.file_schema)?;
    if open.as_deref().is_none_or(|(index, _)| *index != file) {
        let bucket = manifest
            .destination_bucket
            .strip_prefix("arn:aws:s3:::")
            .unwrap_or(&manifest.destination_bucket);
        let bytes = get_bytes(s3, bucket, &data.key).await?;
        let mut rows = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(flate2::read::GzDecoder::new(std::io::Cursor::new(bytes)))
            .into_records();
        for skipped in 0..line {
            if rows.next().is_none() {
                bail!(
                    "{} has only {skipped} rows; the checkpoint says {line}",
                    data.key
                );
            }
        }
        *open = Some(Box::new((file, rows)));
    }
    let Some((_, rows)) = open.as_deref_mut() else {
        bail!("no inventory file open");
    };
    let mut objects = Vec::new();
    let mut read = 0;
    while read < INVENTORY_PAGE {
        let Some(row) = rows.next() else { break };
        read += 1;
        let row = row.with_context(|| format!("reading {}", data.key))?;
        objects.extend(columns.object(&row)?);
    }
    let next = if read < INVENTORY_PAGE {
        *open = None;
        Position::Inventory {
            file: file + 1,
            line: 0,
        }
    } else {
        Position::Inventory {
            file,
            line: line + read as u64,
        }
    };
    let total: u64 = manifest.files.iter().map(|f| f.size).sum();
    let before: u64 = manifest.files[..file].iter().map(|f| f.size).sum();
    Ok(Page {
        objects,
        next,
        progress: (total > 0).then(|| before as f64 / total as f64),
    })
}

/// One checkpoint file per source, named by a stable (FNV-1a) hash of its description.
fn default_checkpoint(source: &str) -> PathBuf {
    let hash = source
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    PathBuf::from(".triage").join(format!("backfill-{hash:016x}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inventory_row_names_its_current_object_with_its_version() {
        let columns = Columns::of(
            "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag",
        )
        .expect("schema");
        let row = |fields: &[&str]| csv::StringRecord::from(fields.to_vec());
        let object = columns
            .object(&row(&[
                "uploads",
                "uploads/images/cat+photo%2B1.jpg",
                "3Lg",
                "true",
                "false",
                "2048",
                "2026-11-30T10:00:00.000Z",
                "abc",
            ]))
            .expect("a valid row")
            .expect("current");
        assert_eq!(object.key.as_str(), "uploads/images/cat photo+1.jpg");
        assert_eq!(object.version_id.as_deref(), Some("3Lg"));
        assert_eq!(object.size, 2048);
        assert_eq!(object.origin, Origin::Backfill);
        for (latest, deleted) in [("false", "false"), ("true", "true")] {
            let other = row(&["uploads", "k", "v", latest, deleted, "1", "", "e"]);
            assert!(columns.object(&other).expect("valid").is_none());
        }
        assert!(Columns::of("Bucket, Size").is_err());
    }

    #[test]
    fn the_estimate_counts_every_object_through_the_router_and_its_tier() {
        let policy = RoutingPolicy::new(
            RoutingPolicy::default_rules(),
            router::policy::DEFAULT_RESERVED_PREFIX,
            router::policy::DEFAULT_LARGE_LIMIT,
        )
        .expect("default rules");
        let mut summary = Summary::default();
        for key in [
            "uploads/images/a.jpg",
            "uploads/images/b.png",
            "elsewhere/c.txt",
        ] {
            summary.count(
                &policy,
                &S3Object::put("b", ObjectKey::new(key).expect("key"), 10, None),
            );
        }
        assert_eq!(summary.tiers["thumbnail"].objects, 2);
        assert_eq!(summary.tiers["thumbnail"].bytes, 20);
        assert_eq!(summary.tiers["ignored"].objects, 1);
        let expected = (3.0 * ROUTER_COST_PER_1000 + 2.0 * 0.013) / 1000.0;
        assert!((summary.estimated_cost_usd - expected).abs() < 1e-12);
    }
}

//! The task's read-and-hash pipeline over a local file, for the benchmark
//! (`scripts/bench-large-file.py`): the same stream, part readers and hashing threads the
//! task runs, with the file instead of S3 as the source.
//!
//!   cargo run --release -p large-file --example hash_file -- <file> [part size] [parallelism]
//!
//! Prints one JSON line: bytes, sha256, seconds, MB/s (10^6 bytes per second).

use anyhow::{bail, Context};
use large_file::digest::{Expected, Hashers};
use large_file::source::FileSource;
use large_file::stream::{stream_object, StreamSettings, FEED_BYTES};
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        bail!("usage: hash_file <file> [part size, default 16 MiB] [parallelism, default 2]");
    };
    let part_size = match args.get(1) {
        Some(text) => object_events::size::parse(text).map_err(anyhow::Error::msg)?,
        None => 16 << 20,
    };
    let parallelism = args
        .get(2)
        .map_or(Ok(2), |text| text.parse())
        .context("parallelism")?;
    let size = std::fs::metadata(path)
        .with_context(|| format!("reading {path}"))?
        .len();
    let settings = StreamSettings {
        part_size,
        parallelism,
        attempts: 1,
        retry_delay: Duration::ZERO,
    };
    let started = Instant::now();
    let hashers = Hashers::start(Expected::Nothing("a local file"), part_size, None);
    stream_object(
        &FileSource::new(path, FEED_BYTES),
        size,
        &settings,
        &hashers,
        &AtomicU64::new(0),
        &CancellationToken::new(),
    )
    .await
    .map_err(|err| anyhow::anyhow!("{err}"))?;
    let digests = hashers.finish().await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "bytes": size,
            "sha256": digests.sha256,
            "seconds": seconds,
            "mb_per_s": size as f64 / 1e6 / seconds,
        })
    );
    Ok(())
}

//! Thumbnails every file of a directory in one process, as `vipsthumbnail` does over many
//! files, for `scripts/bench-thumbnail.py`. Warm-up passes, then a timed pass; each timed
//! image includes reading the file. Prints tab-separated lines:
//! `image <name> <ms> <outcome>`, then `total <ms>` and `peak_rss_kb <kB>`.
//!
//! Usage: bench_corpus <dir> [size=256] [quality=80] [warm-up passes=1]

use std::time::Instant;
use thumbnail::render::{render, RenderSettings};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: bench_corpus <dir> [size] [quality]"))?;
    let size: u32 = args.next().map_or(Ok(256), |s| s.parse())?;
    let quality: u8 = args.next().map_or(Ok(80), |s| s.parse())?;
    let warm_up_passes: usize = args.next().map_or(Ok(1), |s| s.parse())?;
    let settings = RenderSettings {
        sizes: vec![size],
        quality,
        ..RenderSettings::default()
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let run = |path: &std::path::Path| -> String {
        match std::fs::read(path) {
            Ok(bytes) => match render(&bytes, &settings) {
                Ok(rendered) => format!(
                    "ok {}x{}",
                    rendered.thumbnails[0].width, rendered.thumbnails[0].height
                ),
                Err(err) => format!("failed: {err}"),
            },
            Err(err) => format!("failed: {err}"),
        }
    };
    for _ in 0..warm_up_passes {
        for path in &files {
            run(path);
        }
    }
    let started = Instant::now();
    for path in &files {
        let image_started = Instant::now();
        let outcome = run(path);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        println!(
            "image\t{name}\t{:.2}\t{outcome}",
            image_started.elapsed().as_secs_f64() * 1e3
        );
    }
    println!("total\t{:.2}", started.elapsed().as_secs_f64() * 1e3);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .map_or("?".into(), |kb| {
            kb.trim().trim_end_matches(" kB").to_owned()
        });
    println!("peak_rss_kb\t{peak}");
    Ok(())
}

//! The malware scanner, or the PII detector, over local files, for the benchmarks
//! (`scripts/bench-compliance.py`): each file streamed in 1 MiB chunks, as the checkers and
//! the large-file task feed them.
//!
//!   cargo run --release -p compliance --example scan_files -- <signature dir> <file>...
//!   cargo run --release -p compliance --example scan_files -- --pii <file>...
//!
//! Prints `file<TAB>path<TAB>bytes<TAB>ms<TAB>finding,finding...` per file (signature names,
//! or `kind=count` for PII); on stderr, the signature set's load time and summary, and what
//! was not scanned in each file and why. The signature directory may hold `.cvd` / `.cld`
//! databases as well as plain signature files.

use anyhow::{bail, Context};
use compliance::pii::PiiScan;
use compliance::scan::Scanner;
use compliance::signatures::SignatureSet;
use std::io::Read;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((first, files)) = args.split_first() else {
        bail!("usage: scan_files <signature dir> <file>... | scan_files --pii <file>...");
    };
    if first == "--pii" {
        return each_file(files, |path, _| {
            let mut scan = PiiScan::default();
            let bytes = stream(path, |chunk| scan.update(chunk))?;
            let found = scan
                .finish()
                .iter()
                .map(|(kind, found)| format!("{kind:?}={}", found.count))
                .collect();
            Ok((bytes, found))
        });
    }
    let loading = Instant::now();
    let mut set = SignatureSet::default();
    for entry in std::fs::read_dir(first).with_context(|| format!("reading {first}"))? {
        let path = entry?.path();
        let name = path.display().to_string();
        let file = std::fs::File::open(&path).with_context(|| format!("opening {name}"))?;
        set.add_reader(&name, &mut std::io::BufReader::new(file))?;
    }
    let summary = set.summary();
    let scanner = Scanner::new(set)?;
    eprintln!(
        "signatures: {summary} in {:.0} ms",
        loading.elapsed().as_secs_f64() * 1e3
    );
    each_file(files, |path, size| {
        let name = path.rsplit('/').next().unwrap_or(path);
        let mut scan = scanner.start_named(name, Some(size));
        let bytes = stream(path, |chunk| scan.update(chunk))?;
        let report = scan.finish();
        for note in &report.not_scanned {
            eprintln!("{path}: not scanned: {}: {}", note.entry, note.reason);
        }
        Ok((bytes, report.signatures))
    })
}

/// Runs `check(path, size) -> (bytes read, findings)` on each file and prints its line.
fn each_file(
    files: &[String],
    mut check: impl FnMut(&str, u64) -> anyhow::Result<(u64, Vec<String>)>,
) -> anyhow::Result<()> {
    for path in files {
        let started = Instant::now();
        let size = std::fs::metadata(path)
            .with_context(|| format!("opening {path}"))?
            .len();
        let (bytes, findings) = check(path, size)?;
        println!(
            "file\t{path}\t{bytes}\t{:.2}\t{}",
            started.elapsed().as_secs_f64() * 1e3,
            findings.join(",")
        );
    }
    Ok(())
}

/// Feeds the file to `update` in 1 MiB chunks; returns the bytes read.
fn stream(path: &str, mut update: impl FnMut(&[u8])) -> anyhow::Result<u64> {
    let mut file = std::fs::File::open(path).with_context(|| format!("opening {path}"))?;
    let mut buffer = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok(bytes);
        }
        bytes += read as u64;
        update(&buffer[..read]);
    }
}

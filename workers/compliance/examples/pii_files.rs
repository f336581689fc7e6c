//! PII detection over local files, as the checkers stream it (1 MiB chunks), for measuring.
//!
//!   cargo run --release -p compliance --example pii_files -- <file>...
//!
//! Prints `file<TAB>path<TAB>bytes<TAB>ms<TAB>kind=count,...` per file.

use anyhow::Context;
use compliance::pii::PiiScan;
use std::io::Read;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut buffer = vec![0u8; 1 << 20];
    for path in std::env::args().skip(1) {
        let started = Instant::now();
        let mut file = std::fs::File::open(&path).with_context(|| format!("opening {path}"))?;
        let mut scan = PiiScan::default();
        let mut bytes = 0usize;
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            bytes += read;
            scan.update(&buffer[..read]);
        }
        let found: Vec<String> = scan
            .finish()
            .iter()
            .map(|(kind, offsets)| format!("{kind:?}={}", offsets.len()))
            .collect();
        println!(
            "file\t{path}\t{bytes}\t{:.2}\t{}",
            started.elapsed().as_secs_f64() * 1e3,
            found.join(",")
        );
    }
    Ok(())
}

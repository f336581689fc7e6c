//! The malware scanner over local files, for the benchmark (`scripts/bench-compliance.py`):
//! every `.hdb`, `.hsb` and `.ndb` in a directory compiled once, then each file streamed
//! through one scan in 1 MiB chunks, as the checker and the large-file task feed it.
//!
//!   cargo run --release -p compliance --example scan_files -- <signature dir> <file>...
//!
//! Prints `file<TAB>path<TAB>bytes<TAB>ms<TAB>signature,signature...` per file.

use anyhow::{bail, Context};
use compliance::scan::Scanner;
use compliance::signatures::SignatureSet;
use std::io::Read;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((signatures, files)) = args.split_first() else {
        bail!("usage: scan_files <signature dir> <file>...");
    };
    let mut set = SignatureSet::default();
    for entry in std::fs::read_dir(signatures).with_context(|| format!("reading {signatures}"))? {
        let path = entry?.path();
        let name = path.display().to_string();
        set.add_file(&name, &std::fs::read_to_string(&path)?)?;
    }
    let scanner = Scanner::new(set)?;
    let mut buffer = vec![0u8; 1 << 20];
    for path in files {
        let started = Instant::now();
        let mut file = std::fs::File::open(path).with_context(|| format!("opening {path}"))?;
        let mut scan = scanner.start(Some(file.metadata()?.len()));
        let mut bytes = 0usize;
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            bytes += read;
            scan.update(&buffer[..read]);
        }
        let names: Vec<String> = scan.finish().into_iter().map(|f| f.signature).collect();
        println!(
            "file\t{path}\t{bytes}\t{:.2}\t{}",
            started.elapsed().as_secs_f64() * 1e3,
            names.join(",")
        );
    }
    Ok(())
}

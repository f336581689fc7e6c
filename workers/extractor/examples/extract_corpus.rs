//! Extracts every PDF of a directory in one process, for `scripts/bench-extractor.py` and for
//! a look at what the extractor makes of real files. Prints tab-separated lines:
//! `file <name> <ms> <outcome> <pages> <chars>` and writes each text to `<out>/<name>.txt`.
//!
//! Usage: extract_corpus <dir> <out dir>

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(out)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: extract_corpus <dir> <out dir>");
    };
    std::fs::create_dir_all(&out)?;
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_owned();
        let bytes = std::fs::read(&path)?;
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            extractor::pdf::extract(&bytes, 64 << 20)
        }));
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let (summary, pages, text) = match outcome {
            Ok(Ok(pdf)) => ("ok".to_owned(), pdf.page_count, pdf.text()),
            Ok(Err(err)) => (format!("failed: {err}"), 0, String::new()),
            Err(_) => ("failed: panicked".to_owned(), 0, String::new()),
        };
        std::fs::write(format!("{out}/{name}.txt"), &text)?;
        println!(
            "file\t{name}\t{ms:.2}\t{summary}\t{pages}\t{}",
            text.chars().count()
        );
    }
    Ok(())
}

//! The PII check's memory is flat whatever the file: 1 GiB of e-mail addresses, streamed as
//! the checker streams an object, counted exactly while the process's peak RSS stays within a
//! few MiB of where it started. (Its own test binary: the process's peak is the check's.)

use compliance::checker::pii::PiiChecker;
use compliance::checker::{Checker, Severity, Subject};
use std::io::Write;
use std::time::Instant;

/// The process's peak resident set (VmHWM), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .expect("VmHWM")
        * 1024
}

#[test]
fn a_gibibyte_of_email_addresses_is_counted_exactly_in_flat_memory() {
    let checker = PiiChecker {
        parser: None,
        max_document_bytes: 1 << 20,
    };
    const CHUNK: usize = 1 << 20;
    const TOTAL: usize = 1 << 30;
    let line = b"customer.name@example.com\n";
    let mut chunk = line.repeat(CHUNK / line.len() + 1);
    chunk.truncate(CHUNK - CHUNK % line.len());
    let chunks = TOTAL / chunk.len();
    let before = peak_rss();
    let started = Instant::now();
    let mut run = checker.start(Subject {
        key: "uploads/compliance/export.dat",
        declared_type: None,
        size: (chunks * chunk.len()) as u64,
    });
    for _ in 0..chunks {
        run.update(&chunk);
    }
    let judgement = run.finish().expect("judged");
    let after = peak_rss();
    let _ = writeln!(
        std::io::stderr(),
        "PII over {} MiB of e-mail addresses: {:.1} s, peak RSS {} MiB before, {} MiB after",
        (chunks * chunk.len()) >> 20,
        started.elapsed().as_secs_f64(),
        before >> 20,
        after >> 20
    );
    assert_eq!(judgement.severity, Severity::Flagged);
    let emails = (chunks * chunk.len() / line.len()) as u64;
    assert_eq!(judgement.details["found"]["email"]["count"], emails);
    assert_eq!(
        judgement.details["found"]["email"]["offsets"]
            .as_array()
            .map(Vec::len),
        Some(compliance::pii::MAX_OFFSETS_KEPT)
    );
    assert!(
        after - before < 16 << 20,
        "peak RSS grew by {} MiB",
        (after - before) >> 20
    );
}

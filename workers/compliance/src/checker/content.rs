//! Content validation: magic bytes against the key's extension and the declared type, the deny
//! list, and zip-family archives judged from their central directory.

use super::{CheckError, CheckRun, Checker, Judgement, Severity, Subject};
use crate::content::{validate, ContentPolicy};
use serde_json::json;

/// Bytes kept from the start of every file: enough for every magic number and shebang line.
const HEAD_BYTES: usize = 64 << 10;

pub struct ContentChecker {
    pub policy: ContentPolicy,
    /// Zip archives up to this size are held whole to read their central directory; larger
    /// ones are flagged as not inspected.
    pub max_archive_bytes: u64,
}

impl Checker for ContentChecker {
    fn name(&self) -> &'static str {
        "content"
    }

    fn start<'a>(&'a self, subject: Subject<'_>) -> Box<dyn CheckRun + 'a> {
        Box::new(ContentRun {
            checker: self,
            key: subject.key.to_owned(),
            declared_type: subject.declared_type.map(str::to_owned),
            size: subject.size,
            kept: Vec::new(),
        })
    }
}

struct ContentRun<'a> {
    checker: &'a ContentChecker,
    key: String,
    declared_type: Option<String>,
    size: u64,
    /// The head; the whole file when it is an archive small enough to inspect.
    kept: Vec<u8>,
}

impl ContentRun<'_> {
    fn is_zip(&self) -> bool {
        self.kept.starts_with(b"PK\x03\x04") || self.kept.starts_with(b"PK\x05\x06")
    }
}

impl CheckRun for ContentRun<'_> {
    fn update(&mut self, chunk: &[u8]) {
        let keep_whole = self.is_zip() && self.size <= self.checker.max_archive_bytes;
        let wanted = if keep_whole {
            chunk.len()
        } else {
            HEAD_BYTES.saturating_sub(self.kept.len()).min(chunk.len())
        };
        self.kept.extend_from_slice(&chunk[..wanted]);
    }

    fn finish(self: Box<Self>) -> Result<Judgement, CheckError> {
        let mut report = validate(
            &self.kept,
            &self.key,
            self.declared_type.as_deref(),
            &self.checker.policy,
        );
        let mut problems = report.denied.clone();
        problems.extend(report.mismatches.iter().cloned());
        let mut uninspected = None;
        if self.is_zip() && (self.kept.len() as u64) < self.size {
            // Only the head was kept: what validate made of it says nothing about the entries.
            report.archive = None;
            uninspected = Some(format!(
                "archive of {} bytes is larger than the {} bytes inspected whole; its entries were not checked",
                self.size, self.checker.max_archive_bytes
            ));
        } else if let Some(archive) = &report.archive {
            problems.extend(archive.problems.iter().cloned());
        }
        let details = json!({ "content": report });
        // What was found is FLAGGED; an archive that could only not be looked into is
        // UNSUPPORTED: not clean, and not a finding either.
        Ok(match uninspected {
            Some(note) if problems.is_empty() => {
                Judgement::from_problems(Severity::Unsupported, &[note], details)
            }
            Some(note) => {
                problems.push(note);
                Judgement::from_problems(Severity::Flagged, &problems, details)
            }
            None => Judgement::from_problems(Severity::Flagged, &problems, details),
        })
    }
}

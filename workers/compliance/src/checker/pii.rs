//! Personal data and secrets: text-like bytes are scanned as they stream; a PDF is held (up to
//! a limit) and its text, extracted by the extractor's isolated parser, is scanned instead.

use super::{CheckError, CheckRun, Checker, Judgement, Severity, Subject};
use crate::pii::{PiiReport, PiiScan};
use extractor::isolate::{parse_isolated, Limits};
use serde_json::{json, Map};
use std::path::PathBuf;

/// Offsets recorded per kind; the count is always complete. Keeps an audit item far below
/// DynamoDB's 400 KB item limit whatever the file holds.
const MAX_OFFSETS_PER_KIND: usize = 100;

pub struct PiiChecker {
    /// The executable that parses a PDF when started with the extractor's child argument;
    /// without one, PDFs are flagged as not checked.
    pub parser: Option<PathBuf>,
    pub limits: Limits,
    /// PDFs larger than this are flagged as not checked instead of being held in memory.
    pub max_pdf_bytes: u64,
}

impl Checker for PiiChecker {
    fn name(&self) -> &'static str {
        "pii"
    }

    fn start<'a>(&'a self, subject: Subject<'_>) -> Box<dyn CheckRun + 'a> {
        Box::new(PiiRun {
            checker: self,
            size: subject.size,
            mode: Mode::Undecided(Vec::new()),
            text: PiiScan::default(),
        })
    }
}

const PDF_MAGIC: &[u8] = b"%PDF-";

enum Mode {
    /// Too few bytes yet to tell a PDF.
    Undecided(Vec<u8>),
    /// Bytes go straight to the scan.
    Text,
    /// The document so far (up to the limit).
    Pdf(Vec<u8>),
}

struct PiiRun<'a> {
    checker: &'a PiiChecker,
    size: u64,
    mode: Mode,
    text: PiiScan,
}

impl CheckRun for PiiRun<'_> {
    fn update(&mut self, chunk: &[u8]) {
        match &mut self.mode {
            Mode::Text => self.text.update(chunk),
            Mode::Pdf(pdf) => {
                if pdf.len() as u64 <= self.checker.max_pdf_bytes {
                    pdf.extend_from_slice(chunk);
                }
            }
            Mode::Undecided(head) => {
                head.extend_from_slice(chunk);
                if head.len() >= PDF_MAGIC.len() {
                    let head = std::mem::take(head);
                    self.mode = if head.starts_with(PDF_MAGIC) {
                        Mode::Pdf(head)
                    } else {
                        self.text.update(&head);
                        Mode::Text
                    };
                }
            }
        }
    }

    fn finish(self: Box<Self>) -> Result<Judgement, CheckError> {
        let mut text = self.text;
        let pdf = match self.mode {
            Mode::Undecided(head) => {
                text.update(&head);
                return Ok(judge(&text.finish(), "bytes"));
            }
            Mode::Text => return Ok(judge(&text.finish(), "bytes")),
            Mode::Pdf(pdf) => pdf,
        };
        let not_checked = |reason: String| Judgement {
            severity: Severity::Flagged,
            reason: Some(reason),
            details: json!({ "scanned": "nothing" }),
        };
        if pdf.len() as u64 > self.checker.max_pdf_bytes {
            return Ok(not_checked(format!(
                "PDF of {} bytes is larger than the {} bytes the PII check extracts text from; not checked",
                self.size, self.checker.max_pdf_bytes
            )));
        }
        let Some(parser) = &self.checker.parser else {
            return Ok(not_checked(
                "PDF text is not extracted here; the PDF was not checked for personal data".into(),
            ));
        };
        match parse_isolated(parser, &pdf, &self.checker.limits) {
            Ok(parsed) => {
                text.update(parsed.text().as_bytes());
                Ok(judge(&text.finish(), "extracted text"))
            }
            Err(err) if err.is_transient() => Err(CheckError(err.to_string())),
            Err(err) => Ok(not_checked(format!(
                "the PDF's text could not be read, so it was not checked: {err}"
            ))),
        }
    }
}

/// Counts and offsets per kind, never the values.
fn judge(report: &PiiReport, scanned: &str) -> Judgement {
    let mut found = Map::new();
    let mut problems = Vec::new();
    for (kind, offsets) in report {
        let name = serde_json::to_value(kind).unwrap_or_default();
        let name = name.as_str().unwrap_or("unknown").to_owned();
        problems.push(format!("{} {name}", offsets.len()));
        found.insert(
            name,
            json!({
                "count": offsets.len(),
                "offsets": &offsets[..offsets.len().min(MAX_OFFSETS_PER_KIND)],
            }),
        );
    }
    let problems = if problems.is_empty() {
        problems
    } else {
        vec![format!(
            "personal data or secrets found: {}",
            problems.join(", ")
        )]
    };
    Judgement::from_problems(
        Severity::Flagged,
        &problems,
        json!({ "scanned": scanned, "found": found }),
    )
}

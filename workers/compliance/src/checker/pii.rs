//! Personal data and secrets, wherever the content is text, whatever the key calls it: bytes
//! that read as text are scanned as they stream; a PDF is held (up to a limit) and its text,
//! extracted by the extractor's isolated parser, is scanned instead; anything else (an image,
//! an archive, an executable) holds no text to check, and the record says what it was.

use super::{CheckError, CheckRun, Checker, Judgement, Severity, Subject};
use crate::content::{looks_like_text, sniff};
use crate::pii::{PiiReport, PiiScan};
use extractor::isolate::{parse_isolated, IsolationError, Limits};
use extractor::pdf::PdfError;
use serde_json::{json, Map};
use std::path::PathBuf;

/// What extracts a PDF's text for the check: an executable that parses a PDF when started
/// with the extractor's child argument, and the limits it runs under.
#[derive(Debug, Clone)]
pub struct PdfParser {
    pub program: PathBuf,
    pub limits: Limits,
}

pub struct PiiChecker {
    /// Without one, PDFs are reported as not checked.
    pub parser: Option<PdfParser>,
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
/// Bytes looked at before the kind of content is decided.
const SNIFF_BYTES: usize = 4096;

enum Mode {
    /// Too few bytes yet to tell what the content is.
    Undecided(Vec<u8>),
    /// Bytes go straight to the scan.
    Text,
    /// The document so far (up to the limit).
    Pdf(Vec<u8>),
    /// Not text: nothing to scan (the sniffed type).
    NotText(&'static str),
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
            Mode::NotText(_) => {}
            Mode::Undecided(head) => {
                head.extend_from_slice(chunk);
                if head.len() >= SNIFF_BYTES {
                    let head = std::mem::take(head);
                    self.decide(head);
                }
            }
        }
    }

    fn finish(mut self: Box<Self>) -> Result<Judgement, CheckError> {
        if let Mode::Undecided(head) = &mut self.mode {
            let head = std::mem::take(head);
            self.decide(head);
        }
        let mut text = self.text;
        let pdf = match self.mode {
            Mode::Undecided(_) | Mode::Text => return Ok(judge(&text.finish(), "bytes")),
            Mode::NotText(content_type) => {
                return Ok(Judgement {
                    severity: Severity::Clean,
                    reason: None,
                    details: json!({ "scanned": "nothing", "content_type": content_type, "holds_text": false }),
                })
            }
            Mode::Pdf(pdf) => pdf,
        };
        let not_checked = |severity, reason: String| Judgement {
            severity,
            reason: Some(reason),
            details: json!({ "scanned": "nothing", "content_type": "application/pdf" }),
        };
        if pdf.len() as u64 > self.checker.max_pdf_bytes {
            return Ok(not_checked(
                Severity::Unsupported,
                format!(
                    "PDF of {} bytes is larger than the {} bytes the PII check extracts text from; not checked",
                    self.size, self.checker.max_pdf_bytes
                ),
            ));
        }
        let Some(parser) = &self.checker.parser else {
            return Ok(not_checked(
                Severity::Unsupported,
                "PDF text is not extracted here; the PDF was not checked for personal data".into(),
            ));
        };
        match parse_isolated(&parser.program, pdf, &parser.limits) {
            Ok(parsed) => {
                text.update(parsed.text().as_bytes());
                Ok(judge(&text.finish(), "extracted text"))
            }
            Err(err) if err.is_transient() => Err(CheckError(err.to_string())),
            Err(err @ IsolationError::Pdf(PdfError::Encrypted)) => Ok(not_checked(
                Severity::Unsupported,
                format!("the PDF's text could not be read, so it was not checked: {err}"),
            )),
            Err(err) => Ok(not_checked(
                Severity::Flagged,
                format!("the PDF's text could not be read, so it was not checked: {err}"),
            )),
        }
    }
}

impl PiiRun<'_> {
    /// Decides from the first bytes what the content is, and feeds them on.
    fn decide(&mut self, head: Vec<u8>) {
        self.mode = if head.starts_with(PDF_MAGIC) {
            Mode::Pdf(head)
        } else if head.is_empty() || looks_like_text(&head) {
            self.text.update(&head);
            Mode::Text
        } else {
            Mode::NotText(sniff(&head))
        };
    }
}

/// Counts and offsets per kind, never the values.
fn judge(report: &PiiReport, scanned: &str) -> Judgement {
    let mut found = Map::new();
    let mut problems = Vec::new();
    // The scan keeps the first offsets per kind and counts the rest, so the audit item stays
    // far below DynamoDB's 400 KB whatever the file holds.
    for (kind, of_kind) in report {
        let name = serde_json::to_value(kind).unwrap_or_default();
        let name = name.as_str().unwrap_or("unknown").to_owned();
        problems.push(format!("{} {name}", of_kind.count));
        found.insert(name, json!(of_kind));
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

//! Personal data and secrets, wherever the content is text, whatever the key calls it: bytes
//! that read as text are scanned as they stream; a document the extractor parses (PDF, Office,
//! OpenDocument, EPUB, RTF, e-mail) is held (up to a limit) and its text, extracted by the
//! extractor's isolated parser, is scanned instead, and so is the text of an e-mail's
//! attachments; anything else (an image, another archive, an executable) holds no text to
//! check, and the record says what it was.

use super::{CheckError, CheckRun, Checker, Judgement, Severity, Subject};
use crate::content::{looks_like_text, sniff};
use crate::pii::{PiiReport, PiiScan};
use extractor::document::{DocumentError, Kind, ParseError};
use extractor::isolate::{parse_isolated, IsolationError, Limits};
use extractor::mail::Attachment;
use extractor::pdf::PdfError;
use serde_json::{json, Map};
use std::path::PathBuf;
use std::time::Instant;

/// How deep attached messages are followed for the text of their own attachments.
const MAX_ATTACHED_DEPTH: usize = 3;

/// What extracts a document's text for the check: an executable that parses a document when
/// started with the extractor's child argument, and the limits it runs under.
#[derive(Debug, Clone)]
pub struct DocumentParser {
    pub program: PathBuf,
    pub limits: Limits,
}

pub struct PiiChecker {
    /// Without one, documents (PDF, Office, OpenDocument) are reported as not checked.
    pub parser: Option<DocumentParser>,
    /// Documents larger than this are flagged as not checked instead of being held in memory.
    pub max_document_bytes: u64,
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

/// Bytes looked at before the kind of content is decided.
const SNIFF_BYTES: usize = 4096;

enum Mode {
    /// Too few bytes yet to tell what the content is.
    Undecided(Vec<u8>),
    /// Bytes go straight to the scan.
    Text,
    /// The document so far, up to the limit, and its parser.
    Document(Kind, Vec<u8>),
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
            Mode::Document(_, held) => {
                if held.len() as u64 <= self.checker.max_document_bytes {
                    held.extend_from_slice(chunk);
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
        let (kind, held) = match self.mode {
            Mode::Undecided(_) | Mode::Text => return Ok(judge(&text.finish(), "bytes")),
            Mode::NotText(content_type) => {
                return Ok(Judgement {
                    severity: Severity::Clean,
                    reason: None,
                    details: json!({ "scanned": "nothing", "content_type": content_type, "holds_text": false }),
                })
            }
            Mode::Document(kind, held) => (kind, held),
        };
        let content_type = sniff(&held);
        let not_checked = |severity, reason: String| Judgement {
            severity,
            reason: Some(reason),
            details: json!({ "scanned": "nothing", "content_type": content_type }),
        };
        if held.len() as u64 > self.checker.max_document_bytes {
            return Ok(not_checked(
                Severity::Unsupported,
                format!(
                    "a document of {} bytes is larger than the {} bytes the PII check extracts text from; not checked",
                    self.size, self.checker.max_document_bytes
                ),
            ));
        }
        let Some(parser) = &self.checker.parser else {
            return Ok(not_checked(
                Severity::Unsupported,
                "document text is not extracted here; the document was not checked for personal data".into(),
            ));
        };
        // One deadline for the document and whatever is attached to it: the check's time is
        // planned around one parse.
        let deadline = Instant::now() + parser.limits.timeout;
        match parse_isolated(&parser.program, held, kind, &parser.limits) {
            Ok(mut parsed) => {
                let attachments = parsed.take_attachments();
                text.update(parsed.text().as_bytes());
                let unread = scan_attachments(parser, deadline, attachments, &mut text, 1)?;
                let mut judgement = judge(&text.finish(), "extracted text");
                judgement.details["content_type"] = parsed.content_type().into();
                if !unread.is_empty() {
                    let reason = format!(
                        "attachments not checked for personal data: {}",
                        unread.join("; ")
                    );
                    judgement.details["attachments_not_checked"] = json!(unread);
                    judgement.severity = judgement.severity.max(Severity::Unsupported);
                    judgement.reason = Some(match judgement.reason {
                        Some(found) => format!("{found}; {reason}"),
                        None => reason,
                    });
                }
                Ok(judgement)
            }
            Err(err) if err.is_transient() => Err(CheckError(err.to_string())),
            // A zip that is no document holds no text of its own, as any other archive.
            Err(IsolationError::Document(ParseError::NotADocument)) => Ok(Judgement {
                severity: Severity::Clean,
                reason: None,
                details: json!({ "scanned": "nothing", "content_type": content_type, "holds_text": false }),
            }),
            Err(
                err @ IsolationError::Document(
                    ParseError::Pdf(PdfError::Encrypted)
                    | ParseError::Document(DocumentError::Ole2),
                ),
            ) => Ok(not_checked(
                Severity::Unsupported,
                format!("the document's text could not be read, so it was not checked: {err}"),
            )),
            Err(err) => Ok(not_checked(
                Severity::Flagged,
                format!("the document's text could not be read, so it was not checked: {err}"),
            )),
        }
    }
}

impl PiiRun<'_> {
    /// Decides from the first bytes what the content is, and feeds them on.
    fn decide(&mut self, head: Vec<u8>) {
        // HTML is scanned as it is, markup included: an address in a link or a form field is
        // personal data as much as one in the visible text.
        self.mode = if let Some(kind) = Kind::sniff(&head).filter(|kind| *kind != Kind::Html) {
            Mode::Document(kind, head)
        } else if head.is_empty() || looks_like_text(&head) {
            self.text.update(&head);
            Mode::Text
        } else {
            Mode::NotText(sniff(&head))
        };
    }
}

/// Scans the text of the attachments an e-mail handed back, each after a line break: a
/// document's through the parser (within what is left until `deadline`), text as it is; what
/// holds no text is passed over. Returns each attachment that could not be read, and why.
fn scan_attachments(
    parser: &DocumentParser,
    deadline: Instant,
    attachments: Vec<Attachment>,
    text: &mut PiiScan,
    depth: usize,
) -> Result<Vec<String>, CheckError> {
    let mut unread = Vec::new();
    for attachment in attachments {
        let name = attachment.name.as_deref().unwrap_or("(unnamed)").to_owned();
        if let Some(reason) = attachment.not_reentered.filter(|_| attachment.bytes > 0) {
            unread.push(format!("{name}: {reason}"));
            continue;
        }
        let contents = attachment.contents;
        text.update(b"\n");
        let Some(kind) = Kind::sniff(&contents).filter(|kind| *kind != Kind::Html) else {
            if looks_like_text(&contents) {
                text.update(&contents);
            }
            continue;
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if depth > MAX_ATTACHED_DEPTH || left.is_zero() {
            let why = if left.is_zero() {
                format!(
                    "no time left of the {:?} parse deadline",
                    parser.limits.timeout
                )
            } else {
                format!("attached more than {MAX_ATTACHED_DEPTH} messages deep")
            };
            unread.push(format!("{name}: {why}"));
            continue;
        }
        let limits = Limits {
            timeout: left,
            ..parser.limits
        };
        match parse_isolated(&parser.program, contents, kind, &limits) {
            Ok(mut parsed) => {
                let inner = parsed.take_attachments();
                text.update(parsed.text().as_bytes());
                unread.extend(scan_attachments(parser, deadline, inner, text, depth + 1)?);
            }
            Err(err) if err.is_transient() => return Err(CheckError(err.to_string())),
            Err(IsolationError::Document(ParseError::NotADocument)) => {}
            Err(err) => unread.push(format!("{name}: {err}")),
        }
    }
    Ok(unread)
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

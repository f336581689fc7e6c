//! Which parser a document needs, by its bytes (and its key's extension where the bytes cannot
//! tell), and what each parser gives: the one entry the parser child runs ([`crate::isolate`])
//! for every format that is parsed rather than decoded.

use crate::mail::{Attachment, MailDetails};
use crate::office;
use crate::pdf::{self, PdfError, PdfText};
use crate::{html, mail, rtf};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const PDF_MAGIC: &[u8] = b"%PDF-";
const RTF_MAGIC: &[u8] = b"{\\rtf";

/// Which parser a document goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    /// A zip (Office, OpenDocument, EPUB) or an OLE2 container.
    Package,
    Rtf,
    Html,
    Mail,
}

impl Kind {
    /// What `bytes` are by their first bytes, else by the key's `extension` for the formats
    /// that may begin with anything (an HTML fragment, a message without the usual headers).
    pub fn of(bytes: &[u8], extension: Option<&str>) -> Option<Self> {
        Self::sniff(bytes).or(match extension {
            Some("html" | "htm" | "xhtml") => Some(Kind::Html),
            Some("eml") => Some(Kind::Mail),
            _ => None,
        })
    }

    /// What the first bytes show, with no help from a name (the PII check sees only bytes).
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(PDF_MAGIC) {
            Some(Kind::Pdf)
        } else if office::looks_like(bytes) {
            Some(Kind::Package)
        } else if bytes.starts_with(RTF_MAGIC) {
            Some(Kind::Rtf)
        } else if html::looks_like(bytes) {
            Some(Kind::Html)
        } else if mail::looks_like(bytes) {
            Some(Kind::Mail)
        } else {
            None
        }
    }

    /// The parser child's argument.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Package => "package",
            Kind::Rtf => "rtf",
            Kind::Html => "html",
            Kind::Mail => "mail",
        }
    }

    pub fn parse_arg(arg: &str) -> Option<Self> {
        [Kind::Pdf, Kind::Package, Kind::Rtf, Kind::Html, Kind::Mail]
            .into_iter()
            .find(|kind| kind.as_str() == arg)
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Parsed {
    Pdf(PdfText),
    Document(DocumentText),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ParseError {
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error("a zip archive that is neither an Office (DOCX, XLSX, PPTX), an OpenDocument (ODT, ODS, ODP) nor an EPUB file")]
    NotADocument,
}

/// Parses `bytes` as `kind`; no part or stream inflates past `max_stream_bytes`.
pub fn parse(bytes: &[u8], kind: Kind, max_stream_bytes: usize) -> Result<Parsed, ParseError> {
    let limits = office::Limits::new(max_stream_bytes);
    let document = match kind {
        Kind::Pdf => return Ok(Parsed::Pdf(pdf::extract(bytes, max_stream_bytes)?)),
        Kind::Package => office::extract(bytes, &limits)?.ok_or(ParseError::NotADocument)?,
        Kind::Rtf => rtf::extract(bytes, limits.max_depth)?,
        Kind::Html => html::extract(bytes),
        Kind::Mail => mail::extract(bytes)?,
    };
    Ok(Parsed::Document(document))
}

impl Parsed {
    pub fn text(&self) -> String {
        match self {
            Parsed::Pdf(pdf) => pdf.text(),
            Parsed::Document(document) => document.text.clone(),
        }
    }

    /// An e-mail's attachments with their bytes, which leave the details: those describe them.
    pub fn take_attachments(&mut self) -> Vec<Attachment> {
        let Parsed::Document(DocumentText {
            mail: Some(mail), ..
        }) = self
        else {
            return Vec::new();
        };
        mail.attachments
            .iter_mut()
            .map(|attachment| Attachment {
                contents: std::mem::take(&mut attachment.contents),
                ..attachment.clone()
            })
            .collect()
    }

    pub fn content_type(&self) -> &'static str {
        match self {
            Parsed::Pdf(_) => "application/pdf",
            Parsed::Document(document) => document.format.content_type(),
        }
    }

    /// The metadata output and the record's details.
    pub fn details(&self) -> Value {
        match self {
            Parsed::Pdf(pdf) => json!({
                "kind": "pdf",
                "pdf_version": pdf.version,
                "pages": pdf.page_count,
                "info": pdf.info,
                "encrypted": pdf.encrypted,
                "looks_scanned": pdf.looks_scanned,
                "image_only_pages": pdf.image_only_pages,
                "undecodable_pages": pdf.undecodable_pages,
            }),
            Parsed::Document(document) => {
                let mut details = json!({
                    "kind": document.format.as_str(),
                    "info": document.metadata,
                });
                if let Some(pages) = document.pages {
                    details["pages"] = pages.into();
                }
                if let Some(slides) = document.slides {
                    details["slides"] = slides.into();
                }
                if !document.sheets.is_empty() {
                    details["sheets"] = document.sheets.len().into();
                    details["sheet_names"] = document.sheets.clone().into();
                }
                if let Some(chapters) = document.chapters {
                    details["chapters"] = chapters.into();
                }
                if let Some(mail) = &document.mail {
                    details["mail"] = json!(mail);
                }
                details
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Docx,
    Xlsx,
    Pptx,
    Odt,
    Ods,
    Odp,
    Epub,
    Html,
    Rtf,
    Eml,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pptx => "pptx",
            Format::Odt => "odt",
            Format::Ods => "ods",
            Format::Odp => "odp",
            Format::Epub => "epub",
            Format::Html => "html",
            Format::Rtf => "rtf",
            Format::Eml => "eml",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Format::Odt => "application/vnd.oasis.opendocument.text",
            Format::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Format::Odp => "application/vnd.oasis.opendocument.presentation",
            Format::Epub => "application/epub+zip",
            Format::Html => "text/html",
            Format::Rtf => "application/rtf",
            Format::Eml => "message/rfc822",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub title: Option<String>,
    pub author: Option<String>,
    pub subject: Option<String>,
    pub created: Option<String>,
    pub modified: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentText {
    pub format: Format,
    pub text: String,
    pub metadata: Metadata,
    /// As the application last saved it (DOCX `Pages`, ODT `page-count`): a layout count the
    /// file states, not one computed here.
    pub pages: Option<u64>,
    pub slides: Option<usize>,
    /// Sheet names, in workbook order.
    pub sheets: Vec<String>,
    /// EPUB: the reading order's documents.
    pub chapters: Option<usize>,
    /// EML: who it went to, its bodies and attachments.
    pub mail: Option<MailDetails>,
}

impl DocumentText {
    /// A format's text and metadata, without the counts and parts other formats have.
    pub fn new(format: Format, text: String, metadata: Metadata) -> Self {
        Self {
            format,
            text,
            metadata,
            pages: None,
            slides: None,
            sheets: Vec::new(),
            chapters: None,
            mail: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum DocumentError {
    #[error("not a readable {format} file: {reason}")]
    Unreadable { format: String, reason: String },
    #[error("{0}")]
    Limit(String),
    #[error("encrypted or legacy binary Office document (an OLE2 container): not read")]
    Ole2,
    #[error("nesting deeper than {0} levels (a parser-exhaustion attempt?)")]
    TooDeep(usize),
}

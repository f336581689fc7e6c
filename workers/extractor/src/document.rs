//! Which parser a document needs, by its bytes, and what each parser gives: the one entry the
//! parser child runs ([`crate::isolate`]) for PDFs and Office/OpenDocument files alike.

use crate::office::{self, OfficeError, OfficeText};
use crate::pdf::{self, PdfError, PdfText};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const PDF_MAGIC: &[u8] = b"%PDF-";

#[derive(Debug, Serialize, Deserialize)]
pub enum Parsed {
    Pdf(PdfText),
    Office(OfficeText),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ParseError {
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error(transparent)]
    Office(#[from] OfficeError),
    #[error("a zip archive that is neither an Office (DOCX, XLSX, PPTX) nor an OpenDocument (ODT, ODS, ODP) file")]
    NotADocument,
}

/// Whether `bytes` are for the parser child: a PDF, or what may be an Office/OpenDocument file.
pub fn needs_parser(bytes: &[u8]) -> bool {
    bytes.starts_with(PDF_MAGIC) || office::looks_like(bytes)
}

/// Parses `bytes` by what they are; no part or stream inflates past `max_stream_bytes`.
pub fn parse(bytes: &[u8], max_stream_bytes: usize) -> Result<Parsed, ParseError> {
    if bytes.starts_with(PDF_MAGIC) {
        return Ok(Parsed::Pdf(pdf::extract(bytes, max_stream_bytes)?));
    }
    match office::extract(bytes, &office::Limits::new(max_stream_bytes))? {
        Some(document) => Ok(Parsed::Office(document)),
        None => Err(ParseError::NotADocument),
    }
}

impl Parsed {
    pub fn text(&self) -> String {
        match self {
            Parsed::Pdf(pdf) => pdf.text(),
            Parsed::Office(document) => document.text.clone(),
        }
    }

    pub fn content_type(&self) -> &'static str {
        match self {
            Parsed::Pdf(_) => "application/pdf",
            Parsed::Office(document) => document.format.content_type(),
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
            Parsed::Office(document) => {
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
                details
            }
        }
    }
}

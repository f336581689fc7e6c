//! Text and metadata from Office Open XML (DOCX, XLSX, PPTX) and OpenDocument (ODT, ODS, ODP)
//! files: zip archives of XML parts. Pure, no AWS; run in the parser child like PDFs.
//!
//! A hostile file is contained by limits checked before and while inflating (entry count, each
//! part's size, the total inflated) and by reading XML as a stream that refuses DTDs (no entity
//! is ever expanded) and nesting beyond [`Limits::max_depth`]. Whatever gets past them meets
//! the child's address-space limit and deadline.

mod markup;
mod sheets;

use markup::Markup;
use serde::{Deserialize, Serialize};
use std::io::{Cursor, Read};
use zip::result::ZipError;
use zip::ZipArchive;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OfficeFormat {
    Docx,
    Xlsx,
    Pptx,
    Odt,
    Ods,
    Odp,
}

impl OfficeFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            OfficeFormat::Docx => "docx",
            OfficeFormat::Xlsx => "xlsx",
            OfficeFormat::Pptx => "pptx",
            OfficeFormat::Odt => "odt",
            OfficeFormat::Ods => "ods",
            OfficeFormat::Odp => "odp",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            OfficeFormat::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            OfficeFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            OfficeFormat::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            OfficeFormat::Odt => "application/vnd.oasis.opendocument.text",
            OfficeFormat::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            OfficeFormat::Odp => "application/vnd.oasis.opendocument.presentation",
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
pub struct OfficeText {
    pub format: OfficeFormat,
    pub text: String,
    pub metadata: Metadata,
    /// As the application last saved it (DOCX `Pages`, ODT `page-count`): a layout count the
    /// file states, not one computed here.
    pub pages: Option<u64>,
    pub slides: Option<usize>,
    /// Sheet names, in workbook order.
    pub sheets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum OfficeError {
    #[error("not a readable {format} file: {reason}")]
    Unreadable { format: String, reason: String },
    #[error("{0}")]
    Limit(String),
    #[error("encrypted or legacy binary Office document (an OLE2 container): not read")]
    Ole2,
}

/// What a file may take to be read; each reached limit fails the file with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: usize,
    /// Most one XML part may inflate to.
    pub max_part_bytes: u64,
    /// Most all parts read may inflate to together.
    pub max_total_bytes: u64,
    pub max_depth: usize,
}

impl Limits {
    /// The parser child's limits: a part as large as a PDF stream may inflate.
    pub fn new(max_part_bytes: usize) -> Self {
        Self {
            max_entries: 10_000,
            max_part_bytes: max_part_bytes as u64,
            max_total_bytes: 4 * max_part_bytes as u64,
            max_depth: 512,
        }
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE2_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Whether `bytes` look like a file this module reads (a zip, or the OLE2 container that
/// encrypted and legacy Office files are): the full check is [`extract`]'s.
pub fn looks_like(bytes: &[u8]) -> bool {
    bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(OLE2_MAGIC)
}

/// The Office or OpenDocument file in `bytes`: its format by the parts it holds, its text and
/// metadata. `Ok(None)`: a zip that is neither.
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Option<OfficeText>, OfficeError> {
    if bytes.starts_with(OLE2_MAGIC) {
        return Err(OfficeError::Ole2);
    }
    let mut package = Package::open(bytes, limits)?;
    let Some(format) = package.format()? else {
        return Ok(None);
    };
    package.format = format.as_str();
    let content = match format {
        OfficeFormat::Docx => {
            Document::text(package.text("word/document.xml", &markup::WORDPROCESSING)?)
        }
        OfficeFormat::Pptx => package.pptx_slides()?,
        OfficeFormat::Odt => Document::text(package.text("content.xml", &markup::OPENDOCUMENT)?),
        OfficeFormat::Odp => package.odp_slides()?,
        OfficeFormat::Xlsx | OfficeFormat::Ods => {
            package.check_sheet_parts()?;
            let workbook =
                sheets::workbook(bytes, format).map_err(|reason| package.unreadable(reason))?;
            Document {
                text: workbook.text,
                slides: None,
                sheets: workbook.names,
            }
        }
    };
    let (metadata, pages) = match format {
        OfficeFormat::Docx | OfficeFormat::Xlsx | OfficeFormat::Pptx => package.ooxml_metadata()?,
        OfficeFormat::Odt | OfficeFormat::Ods | OfficeFormat::Odp => package.odf_metadata()?,
    };
    Ok(Some(OfficeText {
        format,
        text: content.text,
        metadata,
        pages,
        slides: content.slides,
        sheets: content.sheets,
    }))
}

/// What a format's own parts gave: its text, and its slides or sheets where it has them.
struct Document {
    text: String,
    slides: Option<usize>,
    sheets: Vec<String>,
}

impl Document {
    fn text(text: String) -> Self {
        Self {
            text,
            slides: None,
            sheets: Vec::new(),
        }
    }
}

/// The zip, read part by part within the limits.
struct Package<'a> {
    archive: ZipArchive<Cursor<&'a [u8]>>,
    limits: Limits,
    inflated: u64,
    /// For messages: the format once known.
    format: &'static str,
}

impl<'a> Package<'a> {
    fn open(bytes: &'a [u8], limits: &Limits) -> Result<Self, OfficeError> {
        let archive =
            ZipArchive::new(Cursor::new(bytes)).map_err(|err| OfficeError::Unreadable {
                format: "Office".into(),
                reason: format!("zip: {err}"),
            })?;
        if archive.len() > limits.max_entries {
            return Err(OfficeError::Limit(format!(
                "{} zip entries, more than the {} allowed (an entry-count bomb?)",
                archive.len(),
                limits.max_entries
            )));
        }
        Ok(Self {
            archive,
            limits: *limits,
            inflated: 0,
            format: "Office",
        })
    }

    fn unreadable(&self, reason: impl Into<String>) -> OfficeError {
        OfficeError::Unreadable {
            format: self.format.into(),
            reason: reason.into(),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.archive.index_for_name(name).is_some()
    }

    fn format(&mut self) -> Result<Option<OfficeFormat>, OfficeError> {
        if self.has("mimetype") {
            let mimetype = self.part("mimetype")?;
            return Ok(match String::from_utf8_lossy(&mimetype).trim() {
                "application/vnd.oasis.opendocument.text" => Some(OfficeFormat::Odt),
                "application/vnd.oasis.opendocument.spreadsheet" => Some(OfficeFormat::Ods),
                "application/vnd.oasis.opendocument.presentation" => Some(OfficeFormat::Odp),
                _ => None,
            });
        }
        Ok([
            ("word/document.xml", OfficeFormat::Docx),
            ("xl/workbook.xml", OfficeFormat::Xlsx),
            ("ppt/presentation.xml", OfficeFormat::Pptx),
        ]
        .into_iter()
        .find(|(part, _)| self.has(part))
        .map(|(_, format)| format))
    }

    /// One part, inflated, within the part and total limits (checked against the size the
    /// zip declares, and again while inflating: a declaration can lie).
    fn part(&mut self, name: &str) -> Result<Vec<u8>, OfficeError> {
        let format = self.format;
        let mut entry = self
            .archive
            .by_name(name)
            .map_err(|err| OfficeError::Unreadable {
                format: format.into(),
                reason: match err {
                    ZipError::UnsupportedArchive(ZipError::PASSWORD_REQUIRED) => {
                        format!("{name} is encrypted (a password-protected zip)")
                    }
                    err => format!("{name}: {err}"),
                },
            })?;
        let room = self
            .limits
            .max_part_bytes
            .min(self.limits.max_total_bytes.saturating_sub(self.inflated));
        let too_large = |size: u64| {
            OfficeError::Limit(format!(
                "{name} inflates to {size} bytes or more, past the {} allowed for a part ({} for the whole file): a decompression bomb?",
                self.limits.max_part_bytes, self.limits.max_total_bytes
            ))
        };
        if entry.size() > room {
            return Err(too_large(entry.size()));
        }
        let mut bytes = Vec::new();
        (&mut entry)
            .take(room + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| OfficeError::Unreadable {
                format: format.into(),
                reason: format!("{name}: {err}"),
            })?;
        if bytes.len() as u64 > room {
            return Err(too_large(bytes.len() as u64));
        }
        self.inflated += bytes.len() as u64;
        Ok(bytes)
    }

    fn optional_part(&mut self, name: &str) -> Result<Option<Vec<u8>>, OfficeError> {
        if self.has(name) {
            self.part(name).map(Some)
        } else {
            Ok(None)
        }
    }

    fn text(&mut self, name: &str, markup: &Markup) -> Result<String, OfficeError> {
        let xml = self.part(name)?;
        markup::text(&xml, markup, &self.limits).map_err(|err| self.located(name, err))
    }

    fn located(&self, name: &str, err: markup::XmlError) -> OfficeError {
        match err {
            markup::XmlError::Limit(reason) => OfficeError::Limit(format!("{name}: {reason}")),
            markup::XmlError::Malformed(reason) => self.unreadable(format!("{name}: {reason}")),
        }
    }

    /// Slides in presentation order (the order `presentation.xml` lists them, which file names
    /// need not follow), each with its speaker notes.
    fn pptx_slides(&mut self) -> Result<Document, OfficeError> {
        let presentation = self.part("ppt/presentation.xml")?;
        let order = markup::attribute_values(&presentation, "sldId", "r:id", &self.limits)
            .map_err(|err| self.located("ppt/presentation.xml", err))?;
        let targets = self.relationships("ppt/_rels/presentation.xml.rels", "ppt/")?;
        let mut text = String::new();
        let mut slides = 0;
        for id in &order {
            let Some((_, slide)) = targets.iter().find(|(rel, _)| rel == id) else {
                continue;
            };
            slides += 1;
            let body = self.text(slide, &markup::DRAWING)?;
            text.push_str(&format!("Slide {slides}\n{}", body));
            let rels = slide_rels(slide);
            let notes = self
                .relationships(&rels, "ppt/slides/")?
                .into_iter()
                .find(|(_, target)| target.contains("notesSlide"));
            if let Some((_, notes)) = notes {
                let notes = self.text(&notes, &markup::DRAWING)?;
                let notes = notes.trim();
                if !notes.is_empty() {
                    text.push_str(&format!("Notes: {notes}\n"));
                }
            }
            text.push('\n');
        }
        Ok(Document {
            slides: Some(slides),
            ..Document::text(text)
        })
    }

    /// Id -> part name of the relationships in `rels` (none when it is absent), targets
    /// resolved against `base`.
    fn relationships(
        &mut self,
        rels: &str,
        base: &str,
    ) -> Result<Vec<(String, String)>, OfficeError> {
        let Some(xml) = self.optional_part(rels)? else {
            return Ok(Vec::new());
        };
        let ids = markup::attribute_values(&xml, "Relationship", "Id", &self.limits)
            .map_err(|err| self.located(rels, err))?;
        let targets = markup::attribute_values(&xml, "Relationship", "Target", &self.limits)
            .map_err(|err| self.located(rels, err))?;
        Ok(ids
            .into_iter()
            .zip(targets)
            .map(|(id, target)| (id, resolve(base, &target)))
            .collect())
    }

    /// ODP: one slide per `draw:page`, notes included in their page's text.
    fn odp_slides(&mut self) -> Result<Document, OfficeError> {
        let xml = self.part("content.xml")?;
        let pages = markup::pages(&xml, &markup::OPENDOCUMENT, "page", &self.limits)
            .map_err(|err| self.located("content.xml", err))?;
        let mut text = String::new();
        for (n, page) in pages.iter().enumerate() {
            text.push_str(&format!("Slide {}\n{page}\n", n + 1));
        }
        Ok(Document {
            slides: Some(pages.len()),
            ..Document::text(text)
        })
    }

    /// A workbook's strings and sheets are read whole by the spreadsheet reader: their parts
    /// are held to the limits first.
    fn check_sheet_parts(&mut self) -> Result<(), OfficeError> {
        let mut total: u64 = 0;
        let format = self.format;
        for index in 0..self.archive.len() {
            let entry =
                self.archive
                    .by_index_raw(index)
                    .map_err(|err| OfficeError::Unreadable {
                        format: format.into(),
                        reason: format!("zip entry {index}: {err}"),
                    })?;
            let size = entry.size();
            total = total.saturating_add(size);
            if size > self.limits.max_part_bytes || total > self.limits.max_total_bytes {
                let name = entry
                    .name()
                    .map(|name| name.into_owned())
                    .unwrap_or_default();
                return Err(OfficeError::Limit(format!(
                    "{name} inflates to {size} bytes ({total} with the parts before it), past the {} allowed for a part ({} for the whole file): a decompression bomb or an outsized shared-strings table?",
                    self.limits.max_part_bytes, self.limits.max_total_bytes
                )));
            }
        }
        Ok(())
    }

    /// `docProps/core.xml` (title, creator, dates) and `docProps/app.xml` (pages).
    fn ooxml_metadata(&mut self) -> Result<(Metadata, Option<u64>), OfficeError> {
        let mut metadata = Metadata::default();
        if let Some(core) = self.optional_part("docProps/core.xml")? {
            let fields = markup::leaf_texts(&core, &self.limits)
                .map_err(|err| self.located("docProps/core.xml", err))?;
            metadata = Metadata {
                title: fields.get("title").cloned(),
                author: fields.get("creator").cloned(),
                subject: fields.get("subject").cloned(),
                created: fields.get("created").cloned(),
                modified: fields.get("modified").cloned(),
            };
        }
        let mut pages = None;
        if let Some(app) = self.optional_part("docProps/app.xml")? {
            let fields = markup::leaf_texts(&app, &self.limits)
                .map_err(|err| self.located("docProps/app.xml", err))?;
            pages = fields.get("Pages").and_then(|n| n.trim().parse().ok());
        }
        Ok((metadata, pages))
    }

    /// `meta.xml`: title, initial creator (else creator), dates, page count.
    fn odf_metadata(&mut self) -> Result<(Metadata, Option<u64>), OfficeError> {
        let Some(meta) = self.optional_part("meta.xml")? else {
            return Ok((Metadata::default(), None));
        };
        let fields =
            markup::leaf_texts(&meta, &self.limits).map_err(|err| self.located("meta.xml", err))?;
        let pages =
            markup::attribute_values(&meta, "document-statistic", "meta:page-count", &self.limits)
                .map_err(|err| self.located("meta.xml", err))?
                .first()
                .and_then(|n| n.parse().ok());
        Ok((
            Metadata {
                title: fields.get("title").cloned(),
                author: fields
                    .get("initial-creator")
                    .or_else(|| fields.get("creator"))
                    .cloned(),
                subject: fields.get("subject").cloned(),
                created: fields.get("creation-date").cloned(),
                modified: fields.get("date").cloned(),
            },
            pages,
        ))
    }
}

/// `ppt/slides/slide3.xml` -> `ppt/slides/_rels/slide3.xml.rels`.
fn slide_rels(slide: &str) -> String {
    match slide.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{slide}.rels"),
    }
}

/// A relationship target relative to `base` (`slides/slide1.xml`, `../notesSlides/n.xml`,
/// `/ppt/slides/slide1.xml`) as a part name.
fn resolve(base: &str, target: &str) -> String {
    if let Some(absolute) = target.strip_prefix('/') {
        return absolute.to_owned();
    }
    let mut parts: Vec<&str> = base.split('/').filter(|part| !part.is_empty()).collect();
    for segment in target.split('/') {
        match segment {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            name => parts.push(name),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests;

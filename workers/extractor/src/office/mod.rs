//! Text and metadata from Office Open XML (DOCX, XLSX, PPTX), OpenDocument (ODT, ODS, ODP) and
//! EPUB files: zip archives of XML parts. Pure, no AWS; run in the parser child like PDFs.
//!
//! A hostile file is contained by limits checked before and while inflating (entry count, each
//! part's size, the total inflated) and by reading XML as a stream that refuses DTDs (no entity
//! is ever expanded) and nesting beyond [`Limits::max_depth`]. Whatever gets past them meets
//! the child's address-space limit and deadline.

mod markup;
mod sheets;

use crate::document::{DocumentError, DocumentText, Format, Metadata};
use crate::html;
use markup::Markup;
use percent_encoding::percent_decode_str;
use std::io::{Cursor, Read};
use zip::result::ZipError;
use zip::ZipArchive;

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
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Option<DocumentText>, DocumentError> {
    if bytes.starts_with(OLE2_MAGIC) {
        return Err(DocumentError::Ole2);
    }
    let mut package = Package::open(bytes, limits)?;
    let Some(format) = package.format()? else {
        return Ok(None);
    };
    package.format = format.as_str();
    let text_of = |text| DocumentText::new(format, text, Metadata::default());
    let mut document = match format {
        Format::Docx => text_of(package.text("word/document.xml", &markup::WORDPROCESSING)?),
        Format::Pptx => package.pptx_slides()?,
        Format::Odt => text_of(package.text("content.xml", &markup::OPENDOCUMENT)?),
        Format::Odp => package.odp_slides()?,
        Format::Xlsx | Format::Ods => {
            package.check_sheet_parts()?;
            let workbook =
                sheets::workbook(bytes, format).map_err(|reason| package.unreadable(reason))?;
            DocumentText {
                sheets: workbook.names,
                ..text_of(workbook.text)
            }
        }
        Format::Epub => return package.epub().map(Some),
        Format::Html | Format::Rtf | Format::Eml => return Ok(None),
    };
    (document.metadata, document.pages) = match format {
        Format::Odt | Format::Ods | Format::Odp => package.odf_metadata()?,
        _ => package.ooxml_metadata()?,
    };
    Ok(Some(document))
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
    fn open(bytes: &'a [u8], limits: &Limits) -> Result<Self, DocumentError> {
        let archive =
            ZipArchive::new(Cursor::new(bytes)).map_err(|err| DocumentError::Unreadable {
                format: "Office".into(),
                reason: format!("zip: {err}"),
            })?;
        if archive.len() > limits.max_entries {
            return Err(DocumentError::Limit(format!(
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

    fn unreadable(&self, reason: impl Into<String>) -> DocumentError {
        DocumentError::Unreadable {
            format: self.format.into(),
            reason: reason.into(),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.archive.index_for_name(name).is_some()
    }

    fn format(&mut self) -> Result<Option<Format>, DocumentError> {
        if self.has("mimetype") {
            let mimetype = self.part("mimetype")?;
            return Ok(match String::from_utf8_lossy(&mimetype).trim() {
                "application/vnd.oasis.opendocument.text" => Some(Format::Odt),
                "application/vnd.oasis.opendocument.spreadsheet" => Some(Format::Ods),
                "application/vnd.oasis.opendocument.presentation" => Some(Format::Odp),
                "application/epub+zip" => Some(Format::Epub),
                _ => None,
            });
        }
        Ok([
            ("word/document.xml", Format::Docx),
            ("xl/workbook.xml", Format::Xlsx),
            ("ppt/presentation.xml", Format::Pptx),
        ]
        .into_iter()
        .find(|(part, _)| self.has(part))
        .map(|(_, format)| format))
    }

    /// One part, inflated, within the part and total limits (checked against the size the
    /// zip declares, and again while inflating: a declaration can lie).
    fn part(&mut self, name: &str) -> Result<Vec<u8>, DocumentError> {
        let format = self.format;
        let mut entry = self
            .archive
            .by_name(name)
            .map_err(|err| DocumentError::Unreadable {
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
            DocumentError::Limit(format!(
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
            .map_err(|err| DocumentError::Unreadable {
                format: format.into(),
                reason: format!("{name}: {err}"),
            })?;
        if bytes.len() as u64 > room {
            return Err(too_large(bytes.len() as u64));
        }
        self.inflated += bytes.len() as u64;
        Ok(bytes)
    }

    fn optional_part(&mut self, name: &str) -> Result<Option<Vec<u8>>, DocumentError> {
        if self.has(name) {
            self.part(name).map(Some)
        } else {
            Ok(None)
        }
    }

    fn text(&mut self, name: &str, markup: &Markup) -> Result<String, DocumentError> {
        let xml = self.part(name)?;
        markup::text(&xml, markup, &self.limits).map_err(|err| self.located(name, err))
    }

    fn located(&self, name: &str, err: markup::XmlError) -> DocumentError {
        match err {
            markup::XmlError::Limit(reason) => DocumentError::Limit(format!("{name}: {reason}")),
            markup::XmlError::Malformed(reason) => self.unreadable(format!("{name}: {reason}")),
        }
    }

    /// Slides in presentation order (the order `presentation.xml` lists them, which file names
    /// need not follow), each with its speaker notes.
    fn pptx_slides(&mut self) -> Result<DocumentText, DocumentError> {
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
        Ok(DocumentText {
            slides: Some(slides),
            ..DocumentText::new(Format::Pptx, text, Metadata::default())
        })
    }

    /// Id -> part name of the relationships in `rels` (none when it is absent), targets
    /// resolved against `base`.
    fn relationships(
        &mut self,
        rels: &str,
        base: &str,
    ) -> Result<Vec<(String, String)>, DocumentError> {
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
    fn odp_slides(&mut self) -> Result<DocumentText, DocumentError> {
        let xml = self.part("content.xml")?;
        let pages = markup::pages(&xml, &markup::OPENDOCUMENT, "page", &self.limits)
            .map_err(|err| self.located("content.xml", err))?;
        let mut text = String::new();
        for (n, page) in pages.iter().enumerate() {
            text.push_str(&format!("Slide {}\n{page}\n", n + 1));
        }
        Ok(DocumentText {
            slides: Some(pages.len()),
            ..DocumentText::new(Format::Odp, text, Metadata::default())
        })
    }

    /// A workbook's strings and sheets are read whole by the spreadsheet reader: their parts
    /// are held to the limits first.
    fn check_sheet_parts(&mut self) -> Result<(), DocumentError> {
        let mut total: u64 = 0;
        let format = self.format;
        for index in 0..self.archive.len() {
            let entry =
                self.archive
                    .by_index_raw(index)
                    .map_err(|err| DocumentError::Unreadable {
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
                return Err(DocumentError::Limit(format!(
                    "{name} inflates to {size} bytes ({total} with the parts before it), past the {} allowed for a part ({} for the whole file): a decompression bomb or an outsized shared-strings table?",
                    self.limits.max_part_bytes, self.limits.max_total_bytes
                )));
            }
        }
        Ok(())
    }

    /// EPUB: the chapters in reading order (the package document's spine), each by its visible
    /// text, with the package's title, creator, subject and date.
    fn epub(&mut self) -> Result<DocumentText, DocumentError> {
        const CONTAINER: &str = "META-INF/container.xml";
        let container = self.part(CONTAINER)?;
        let package_path =
            markup::attribute_values(&container, "rootfile", "full-path", &self.limits)
                .map_err(|err| self.located(CONTAINER, err))?
                .into_iter()
                .next()
                .ok_or_else(|| self.unreadable(format!("{CONTAINER} names no package document")))?;
        let opf = self.part(&package_path)?;
        let located = |package: &Self, err| package.located(&package_path, err);
        let ids = markup::attribute_values(&opf, "item", "id", &self.limits)
            .map_err(|err| located(self, err))?;
        let hrefs = markup::attribute_values(&opf, "item", "href", &self.limits)
            .map_err(|err| located(self, err))?;
        let spine = markup::attribute_values(&opf, "itemref", "idref", &self.limits)
            .map_err(|err| located(self, err))?;
        let fields = markup::leaf_texts(&opf, &self.limits).map_err(|err| located(self, err))?;
        let base = package_path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut text = String::new();
        let mut chapters = 0;
        for idref in &spine {
            let Some((_, href)) = ids.iter().zip(&hrefs).find(|(id, _)| *id == idref) else {
                continue;
            };
            let href = href.split('#').next().unwrap_or_default();
            // Hrefs are URLs (`My%20Chapter.xhtml`); zip entry names are not escaped.
            let href = percent_decode_str(href).decode_utf8_lossy();
            let chapter = self.part(&resolve(base, &href))?;
            text.push_str(&html::visible(&html::decode(&chapter)).text);
            chapters += 1;
        }
        let metadata = Metadata {
            title: fields.get("title").cloned(),
            author: fields.get("creator").cloned(),
            subject: fields.get("subject").cloned(),
            created: fields.get("date").cloned(),
            modified: None,
        };
        Ok(DocumentText {
            chapters: Some(chapters),
            ..DocumentText::new(Format::Epub, text, metadata)
        })
    }

    /// `docProps/core.xml` (title, creator, dates) and `docProps/app.xml` (pages).
    fn ooxml_metadata(&mut self) -> Result<(Metadata, Option<u64>), DocumentError> {
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
    fn odf_metadata(&mut self) -> Result<(Metadata, Option<u64>), DocumentError> {
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

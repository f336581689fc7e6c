//! PDF text and metadata with lopdf, reading the content stream's positioning so words and lines
//! stay apart: lopdf's own `extract_text` drops the `TJ` offsets and `Td`/`TD`/`Tm`/`T*` moves
//! that mean a space or a line break, and words run together.
//!
//! Input is hostile. Every stream is decoded with a size limit; a panic inside lopdf is the
//! caller's to contain, and aborts (stack overflow, allocation failure) are why callers run
//! this in a child process (see the crate docs).

use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Encoding, LoadOptions, Object, ObjectId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

/// A `TJ` adjustment beyond this (thousandths of a text space unit, negative = move right)
/// is a word gap rather than kerning.
const TJ_WORD_GAP: f32 = 180.0;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PdfError {
    #[error("not a readable PDF: {0}")]
    Unreadable(String),
    #[error("no pages: the page tree is missing or unreadable (truncated or damaged file)")]
    NoPages,
    #[error("damaged: the cross-reference table had to be rebuilt and no page has any content left (a truncated file?)")]
    Damaged,
    #[error("encrypted: the document needs a password to open")]
    Encrypted,
    #[error("{pages} pages show text that none of their fonts can decode, and no page yields any")]
    Undecodable { pages: usize },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentInfo {
    pub title: Option<String>,
    pub author: Option<String>,
    pub subject: Option<String>,
    pub producer: Option<String>,
    pub creator: Option<String>,
    pub creation_date: Option<String>,
    pub modification_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PdfText {
    pub version: String,
    pub page_count: usize,
    /// Text per page, in content-stream order.
    pub pages: Vec<String>,
    pub info: DocumentInfo,
    /// The file is encrypted (and opened with the empty user password).
    pub encrypted: bool,
    /// Pages that paint images and show no text: scans, unless OCR text was added.
    pub image_only_pages: usize,
    /// Pages that show text which no font could decode: surfaced, not hidden in a success.
    pub undecodable_pages: usize,
    pub looks_scanned: bool,
}

impl PdfText {
    /// All pages, separated by form feeds as `pdftotext` does.
    pub fn text(&self) -> String {
        self.pages.join("\u{c}")
    }
}

pub fn extract(bytes: &[u8], max_stream_bytes: usize) -> Result<PdfText, PdfError> {
    let options = LoadOptions {
        password: Some(String::new()),
        max_decompressed_size: Some(max_stream_bytes),
        ..LoadOptions::default()
    };
    let encrypted_trailer = find_subslice(bytes, b"/Encrypt").is_some();
    let document = match Document::load_mem_with_options(bytes, options) {
        Ok(document) => document,
        Err(_) if encrypted_trailer => return Err(PdfError::Encrypted),
        Err(err) => return Err(PdfError::Unreadable(err.to_string())),
    };
    if document.is_encrypted() {
        return Err(PdfError::Encrypted);
    }
    let mut pages = Vec::new();
    let mut image_only_pages = 0;
    let mut undecodable_pages = 0;
    let mut painted_pages = 0;
    for (number, page_id) in document.get_pages() {
        let page = page_text(&document, page_id, max_stream_bytes)
            .map_err(|err| PdfError::Unreadable(format!("page {number}: {err}")))?;
        if page.shows_text && page.text.trim().is_empty() {
            undecodable_pages += 1;
        }
        if page.paints_images && !page.shows_text {
            image_only_pages += 1;
        }
        if page.paints_images || page.shows_text {
            painted_pages += 1;
        }
        pages.push(page.text);
    }
    if undecodable_pages > 0 && pages.iter().all(|page: &String| page.trim().is_empty()) {
        return Err(PdfError::Undecodable {
            pages: undecodable_pages,
        });
    }
    let page_count = pages.len();
    if page_count == 0 {
        return Err(PdfError::NoPages);
    }
    let rebuilt = matches!(
        document.xref_recovery,
        Some(lopdf::xref::XrefRecovery::Reconstructed)
    );
    if rebuilt && painted_pages == 0 {
        return Err(PdfError::Damaged);
    }
    let looks_scanned = page_count > 0 && image_only_pages * 2 >= page_count;
    Ok(PdfText {
        version: document.version.clone(),
        page_count,
        info: info(&document),
        encrypted: document.was_encrypted(),
        pages,
        image_only_pages,
        undecodable_pages,
        looks_scanned,
    })
}

struct PageText {
    text: String,
    shows_text: bool,
    paints_images: bool,
}

/// Where the next shown text goes relative to the last.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Gap {
    None,
    Space,
    Line,
}

/// A font as far as spacing needs it: how far each code moves the pen, in text space units
/// per unit of font size.
struct Font<'a> {
    encoding: Encoding<'a>,
    /// Type0 (CID) fonts take two bytes a code.
    two_byte: bool,
    widths: BTreeMap<u32, f32>,
    default_width: f32,
}

impl<'a> Font<'a> {
    fn load(
        document: &'a Document,
        dictionary: &'a lopdf::Dictionary,
        limit: usize,
    ) -> Option<Self> {
        let encoding = dictionary
            .get_font_encoding_with_limit(document, limit)
            .ok()?;
        let deref = |object: &'a Object| document.dereference(object).ok().map(|(_, o)| o);
        let two_byte = dictionary
            .get(b"Subtype")
            .ok()
            .and_then(|s| s.as_name().ok())
            == Some(b"Type0");
        let (widths, default_width) = if two_byte {
            // /W in the descendant CIDFont: `c [w1 w2 ...]` runs (the other form is rare).
            let descendant = dictionary
                .get(b"DescendantFonts")
                .ok()
                .and_then(deref)
                .and_then(|fonts| fonts.as_array().ok())
                .and_then(|fonts| fonts.first())
                .and_then(deref)
                .and_then(|font| font.as_dict().ok());
            let default_width = descendant
                .and_then(|font| font.get(b"DW").ok())
                .and_then(number)
                .unwrap_or(1000.0)
                / 1000.0;
            let runs = descendant
                .and_then(|font| font.get(b"W").ok())
                .and_then(deref)
                .and_then(|w| w.as_array().ok())
                .map(|w| cid_widths(w, deref))
                .unwrap_or_default();
            (runs, default_width)
        } else {
            let first = dictionary
                .get(b"FirstChar")
                .ok()
                .and_then(number)
                .unwrap_or(0.0)
                .max(0.0) as u32;
            let widths = dictionary
                .get(b"Widths")
                .ok()
                .and_then(deref)
                .and_then(|w| w.as_array().ok())
                .map(|w| {
                    (first..)
                        .zip(w.iter().filter_map(|w| deref(w).and_then(number)))
                        .map(|(code, width)| (code, width / 1000.0))
                        .collect()
                })
                .unwrap_or_default();
            (widths, 0.5)
        };
        Some(Self {
            encoding,
            two_byte,
            widths,
            default_width,
        })
    }

    /// How far `bytes` move the pen, per unit of font size.
    fn advance(&self, bytes: &[u8]) -> f32 {
        let width = |code: u32| {
            self.widths
                .get(&code)
                .copied()
                .unwrap_or(self.default_width)
        };
        if self.two_byte {
            bytes
                .chunks(2)
                .map(|pair| width(u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0))))
                .sum()
        } else {
            bytes.iter().map(|&code| width(u32::from(code))).sum()
        }
    }
}

/// A CIDFont's `/W` array: runs of `first [w1 w2 ...]` and `first last w`. Bounded, as the
/// array comes from the file.
fn cid_widths<'a>(
    array: &'a [Object],
    deref: impl Fn(&'a Object) -> Option<&'a Object>,
) -> BTreeMap<u32, f32> {
    const MAX_CODES: usize = 1 << 16;
    let mut widths = BTreeMap::new();
    let mut items = array.iter().filter_map(&deref);
    while let Some(first) = items.next().and_then(number) {
        let first = first.max(0.0) as u32;
        match items.next() {
            Some(Object::Array(run)) => {
                for (offset, width) in run
                    .iter()
                    .filter_map(|w| deref(w).and_then(number))
                    .enumerate()
                {
                    widths.insert(first.saturating_add(offset as u32), width / 1000.0);
                }
            }
            Some(last) => {
                let (Some(last), Some(width)) = (number(last), items.next().and_then(number))
                else {
                    break;
                };
                for code in
                    first..=(last.max(0.0) as u32).min(first.saturating_add(MAX_CODES as u32))
                {
                    widths.insert(code, width / 1000.0);
                }
            }
            None => break,
        }
        if widths.len() > MAX_CODES {
            break;
        }
    }
    widths
}

/// The text state that decides gaps: where the pen is and where the line started, in user
/// space (the text matrix's scale applied), and the font.
struct Pen<'a> {
    font: Option<Rc<Font<'a>>>,
    font_size: f32,
    scale_x: f32,
    scale_y: f32,
    line_x: f32,
    line_y: f32,
    x: f32,
    started: bool,
    gap: Gap,
}

impl Pen<'_> {
    fn em(&self) -> f32 {
        (self.font_size * self.scale_x).abs().max(0.01)
    }

    /// A move to (x, y): a new line if y changed by half a line, else a space if it skips
    /// ahead of where the last text ended.
    fn move_to(&mut self, x: f32, y: f32) {
        if self.started {
            if (y - self.line_y).abs() > 0.5 * (self.font_size * self.scale_y).abs().max(0.01) {
                self.gap = self.gap.max(Gap::Line);
            } else if x - self.x > 0.15 * self.em() {
                self.gap = self.gap.max(Gap::Space);
            }
        }
        (self.line_x, self.line_y, self.x) = (x, y, x);
    }
}

/// Form XObjects nest; deeper than this is a recursion bomb, not a document.
const MAX_FORM_DEPTH: usize = 8;

type Fonts<'a> = BTreeMap<Vec<u8>, Rc<Font<'a>>>;

fn page_text(
    document: &Document,
    page_id: ObjectId,
    max_stream_bytes: usize,
) -> lopdf::Result<PageText> {
    let fonts: Fonts = document
        .get_page_fonts(page_id)?
        .into_iter()
        .filter_map(|(name, font)| {
            Some((name, Rc::new(Font::load(document, font, max_stream_bytes)?)))
        })
        .collect();
    let (inline, inherited) = document.get_page_resources(page_id)?;
    let resources = inline.into_iter().chain(
        inherited
            .into_iter()
            .filter_map(|id| document.get_dictionary(id).ok()),
    );
    let xobjects: Vec<&Dictionary> = resources
        .filter_map(|resources| sub_dictionary(document, resources, b"XObject"))
        .collect();
    let mut walk = Walk {
        document,
        max_stream_bytes,
        page: PageText {
            text: String::new(),
            shows_text: false,
            paints_images: false,
        },
        pen: Pen {
            font: None,
            font_size: 1.0,
            scale_x: 1.0,
            scale_y: 1.0,
            line_x: 0.0,
            line_y: 0.0,
            x: 0.0,
            started: false,
            gap: Gap::None,
        },
        forms_seen: HashSet::new(),
    };
    let content = document.get_page_content_with_limit(page_id, max_stream_bytes)?;
    walk.run(&content, &fonts, &xobjects, 0)?;
    Ok(walk.page)
}

fn sub_dictionary<'a>(
    document: &'a Document,
    dictionary: &'a Dictionary,
    key: &[u8],
) -> Option<&'a Dictionary> {
    let object = dictionary.get(key).ok()?;
    document.dereference(object).ok()?.1.as_dict().ok()
}

/// One page's content streams, the page's own and those of the forms it draws.
struct Walk<'a> {
    document: &'a Document,
    max_stream_bytes: usize,
    page: PageText,
    pen: Pen<'a>,
    forms_seen: HashSet<ObjectId>,
}

impl<'a> Walk<'a> {
    fn run(
        &mut self,
        content: &[u8],
        fonts: &Fonts<'a>,
        xobjects: &[&'a Dictionary],
        depth: usize,
    ) -> lopdf::Result<()> {
        let content = Content::decode(content)?;
        for Operation { operator, operands } in &content.operations {
            let pen = &mut self.pen;
            match operator.as_str() {
                "Tf" => {
                    pen.font = operands
                        .first()
                        .and_then(|name| name.as_name().ok())
                        .and_then(|name| fonts.get(name))
                        .cloned();
                    pen.font_size = operands.get(1).and_then(number).unwrap_or(1.0);
                }
                "Td" | "TD" => {
                    let (x, y) = (
                        pen.line_x + operand(operands, 0) * pen.scale_x,
                        pen.line_y + operand(operands, 1) * pen.scale_y,
                    );
                    pen.move_to(x, y);
                }
                "Tm" => {
                    pen.scale_x = operand(operands, 0);
                    pen.scale_y = operand(operands, 3);
                    pen.move_to(operand(operands, 4), operand(operands, 5));
                }
                "T*" => pen.gap = pen.gap.max(Gap::Line),
                "Tj" | "'" | "\"" | "TJ" => {
                    self.page.shows_text = true;
                    if operator != "Tj" && operator != "TJ" {
                        pen.gap = pen.gap.max(Gap::Line);
                    }
                    for item in operands {
                        match item {
                            Object::String(bytes, _) => show(&mut self.page.text, pen, bytes),
                            Object::Array(parts) => {
                                for part in parts {
                                    match part {
                                        Object::String(bytes, _) => {
                                            show(&mut self.page.text, pen, bytes)
                                        }
                                        other => {
                                            let adjustment = number(other).unwrap_or(0.0);
                                            if -adjustment > TJ_WORD_GAP {
                                                pen.gap = pen.gap.max(Gap::Space);
                                            }
                                            pen.x -= adjustment / 1000.0 * pen.em();
                                        }
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                "BI" => self.page.paints_images = true,
                "Do" => {
                    let name = operands.first().and_then(|name| name.as_name().ok());
                    if let Some(name) = name {
                        self.draw(name, fonts, xobjects, depth)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// An image marks the page; a form is walked with its own fonts, once per page.
    fn draw(
        &mut self,
        name: &[u8],
        fonts: &Fonts<'a>,
        xobjects: &[&'a Dictionary],
        depth: usize,
    ) -> lopdf::Result<()> {
        let document = self.document;
        let Some((id, stream)) = xobjects.iter().find_map(|dictionary| {
            let id = dictionary.get(name).ok()?.as_reference().ok()?;
            Some((id, document.get_object(id).ok()?.as_stream().ok()?))
        }) else {
            return Ok(());
        };
        match stream.dict.get(b"Subtype").and_then(Object::as_name) {
            Ok(b"Image") => self.page.paints_images = true,
            Ok(b"Form") if depth < MAX_FORM_DEPTH && self.forms_seen.insert(id) => {
                let Ok(content) = stream.get_plain_content_with_limit(self.max_stream_bytes) else {
                    return Ok(());
                };
                let resources = sub_dictionary(document, &stream.dict, b"Resources");
                let form_fonts: Fonts =
                    match resources.and_then(|r| sub_dictionary(document, r, b"Font")) {
                        Some(font_dictionary) => font_dictionary
                            .iter()
                            .filter_map(|(font_name, font)| {
                                let font = document.dereference(font).ok()?.1.as_dict().ok()?;
                                Some((
                                    font_name.clone(),
                                    Rc::new(Font::load(document, font, self.max_stream_bytes)?),
                                ))
                            })
                            .collect(),
                        None => fonts.clone(),
                    };
                let form_xobjects: Vec<&Dictionary> =
                    match resources.and_then(|r| sub_dictionary(document, r, b"XObject")) {
                        Some(own) => vec![own],
                        None => xobjects.to_vec(),
                    };
                let outer_font = self.pen.font.take();
                // A form that does not parse costs its own text only.
                let _ = self.run(&content, &form_fonts, &form_xobjects, depth + 1);
                self.pen.font = outer_font;
            }
            _ => {}
        }
        Ok(())
    }
}

fn show(text: &mut String, pen: &mut Pen, bytes: &[u8]) {
    let Some(font) = pen.font.clone() else { return };
    let decoded = Document::decode_text(&font.encoding, bytes).unwrap_or_default();
    push(text, &decoded, &mut pen.gap);
    pen.x += font.advance(bytes) * pen.em();
    pen.started = true;
}

fn push(text: &mut String, decoded: &str, gap: &mut Gap) {
    if decoded.is_empty() {
        return;
    }
    let ends_blank = text.chars().last().is_none_or(char::is_whitespace);
    match *gap {
        Gap::Line if !text.is_empty() => text.push('\n'),
        Gap::Space if !ends_blank && !decoded.starts_with(char::is_whitespace) => text.push(' '),
        _ => {}
    }
    *gap = Gap::None;
    text.push_str(decoded);
}

fn number(object: &Object) -> Option<f32> {
    match object {
        Object::Integer(value) => Some(*value as f32),
        Object::Real(value) => Some(*value),
        _ => None,
    }
}

fn operand(operands: &[Object], index: usize) -> f32 {
    operands.get(index).and_then(number).unwrap_or(0.0)
}

fn info(document: &Document) -> DocumentInfo {
    let dictionary = document
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|info| match info {
            Object::Reference(id) => document.get_dictionary(*id).ok(),
            Object::Dictionary(dictionary) => Some(dictionary),
            _ => None,
        });
    let field = |name: &[u8]| {
        let value = dictionary?.get(name).ok()?;
        let value = match value {
            Object::Reference(id) => document.get_object(*id).ok()?,
            other => other,
        };
        lopdf::decode_text_string(value)
            .ok()
            .map(|text| {
                text.trim_matches(|c: char| c.is_whitespace() || c == '\0')
                    .to_owned()
            })
            .filter(|text| !text.is_empty())
    };
    DocumentInfo {
        title: field(b"Title"),
        author: field(b"Author"),
        subject: field(b"Subject"),
        producer: field(b"Producer"),
        creator: field(b"Creator"),
        creation_date: field(b"CreationDate"),
        modification_date: field(b"ModDate"),
    }
}

fn find_subslice(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

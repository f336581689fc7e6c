//! E-mail messages (RFC 5322 with MIME) unpacked as their bytes stream by, inside the one
//! scanning pass: every part's body is decoded (base64, quoted-printable, or taken as it is)
//! and scanned as a file of its own, named by its file name (`message.eml!report.pdf`). An
//! attached message is such a file, unpacked in its turn. Without this an attachment is seen
//! only base64-encoded, where no signature can match; ClamAV decodes mail the same way.
//!
//! MIME is lenient, and so is this: a part never closed ends with the message, a header that
//! cannot be read leaves its part taken as it is. Only limits are reported.

use super::{Budget, FileScan, Found, Scanner};

/// Lines longer than this are taken in pieces: no boundary line is anywhere near it.
const MAX_LINE_BYTES: usize = 8 << 10;
/// A part's header block is read up to this; the rest of it is passed over.
const MAX_HEADER_BYTES: usize = 64 << 10;
/// Multiparts nested deeper than this are scanned as they are, not split.
const MAX_MULTIPART_DEPTH: usize = 64;
/// RFC 2046 allows 70 characters; a longer parameter is not taken for a boundary.
const MAX_BOUNDARY_BYTES: usize = 200;
/// Decoded bytes are handed to a part's scan in pieces of this size, not line by line.
const SCAN_PIECE_BYTES: usize = 64 << 10;

pub(crate) struct MailUnpacker<'a> {
    scanner: &'a Scanner,
    /// The nesting level of the parts.
    depth: u32,
    line: Vec<u8>,
    state: State,
    /// The open multiparts' boundaries, outermost first.
    boundaries: Vec<Vec<u8>>,
    part: Option<Part<'a>>,
    parts: u64,
}

enum State {
    /// Gathering a part's header block.
    Headers(Vec<u8>),
    /// A part's body, decoded into `part`.
    Body,
    /// A multipart's preamble or epilogue: nothing to scan until a boundary.
    Between,
    /// A limit was reached: nothing more is unpacked.
    Done,
}

struct Part<'a> {
    name: String,
    entry_scan: FileScan<'a>,
    decoder: Decoder,
    /// The line break ending the last line: the part's own unless a boundary comes next.
    held: Vec<u8>,
    decoded: Vec<u8>,
}

enum Decoder {
    AsIs,
    QuotedPrintable,
    /// Sextets gathered towards the next 3 bytes; `ended` after padding.
    Base64 {
        sextets: u32,
        count: u8,
        ended: bool,
    },
}

impl<'a> MailUnpacker<'a> {
    pub(crate) fn new(scanner: &'a Scanner, depth: u32) -> Self {
        Self {
            scanner,
            depth,
            line: Vec::new(),
            state: State::Headers(Vec::new()),
            boundaries: Vec::new(),
            part: None,
            parts: 0,
        }
    }

    pub(crate) fn update(&mut self, mut data: &[u8], budget: &mut Budget, found: &mut Found<'a>) {
        while !data.is_empty() {
            if budget.exhausted || matches!(self.state, State::Done) {
                self.end_part(budget, found);
                self.state = State::Done;
                return;
            }
            let room = MAX_LINE_BYTES - self.line.len();
            let (taken, ends_line) = match data.iter().position(|&byte| byte == b'\n') {
                Some(end) if end < room => (end + 1, true),
                _ => (data.len().min(room), false),
            };
            self.line.extend_from_slice(&data[..taken]);
            data = &data[taken..];
            // A piece of an over-long line is passed on as it is: it cannot be a boundary.
            if ends_line || self.line.len() == MAX_LINE_BYTES {
                let mut line = std::mem::take(&mut self.line);
                self.take_line(&line, ends_line, budget, found);
                line.clear();
                self.line = line;
            }
        }
    }

    pub(crate) fn end_archive(mut self, budget: &mut Budget, found: &mut Found<'a>) {
        if !self.line.is_empty() && !matches!(self.state, State::Done) {
            let line = std::mem::take(&mut self.line);
            self.take_line(&line, false, budget, found);
        }
        self.end_part(budget, found);
    }

    /// One line, with its line break when `whole`, else a piece of one.
    fn take_line(&mut self, line: &[u8], whole: bool, budget: &mut Budget, found: &mut Found<'a>) {
        if whole && self.at_boundary(line, budget, found) {
            return;
        }
        match &mut self.state {
            State::Between | State::Done => {}
            State::Headers(block) => {
                if whole && line.iter().all(u8::is_ascii_whitespace) {
                    let block = std::mem::take(block);
                    self.begin_part(&block, budget, found);
                } else if block.len() + line.len() <= MAX_HEADER_BYTES {
                    block.extend_from_slice(line);
                }
            }
            State::Body => {
                if let Some(part) = &mut self.part {
                    part.decode_line(line, whole, budget);
                }
            }
        }
    }

    /// Whether `line` is a boundary of an open multipart: it ends the part before it, and
    /// any multipart nested inside that one.
    fn at_boundary(&mut self, line: &[u8], budget: &mut Budget, found: &mut Found<'a>) -> bool {
        let Some(rest) = line.strip_prefix(b"--") else {
            return false;
        };
        let rest = rest.trim_ascii_end();
        for level in (0..self.boundaries.len()).rev() {
            let Some(after) = rest.strip_prefix(self.boundaries[level].as_slice()) else {
                continue;
            };
            let closing = after == b"--";
            if !after.is_empty() && !closing {
                continue;
            }
            self.end_part(budget, found);
            if closing {
                self.boundaries.truncate(level);
                self.state = State::Between;
            } else {
                self.boundaries.truncate(level + 1);
                self.state = State::Headers(Vec::new());
            }
            return true;
        }
        false
    }

    /// After a part's header block: a multipart opens, anything else is a part to scan.
    fn begin_part(&mut self, block: &[u8], budget: &mut Budget, found: &mut Found<'a>) {
        let headers = Headers::of(block);
        let boundary = headers
            .content_type
            .as_deref()
            .filter(|kind| kind.starts_with("multipart/"))
            .and(headers.boundary.as_ref())
            .filter(|boundary| !boundary.is_empty() && boundary.len() <= MAX_BOUNDARY_BYTES);
        if let Some(boundary) = boundary {
            if self.boundaries.len() < MAX_MULTIPART_DEPTH {
                self.boundaries.push(boundary.clone().into_bytes());
                self.state = State::Between;
                return;
            }
        }
        if let Err(limit) = budget.count_entry(&self.scanner.limits) {
            found.note(
                "",
                format!("{limit}: the rest of the message is not scanned"),
            );
            self.state = State::Done;
            return;
        }
        self.parts += 1;
        let attached_message = headers.content_type.as_deref() == Some("message/rfc822");
        let name = headers.file_name.unwrap_or_else(|| {
            let suffix = if attached_message { ".eml" } else { "" };
            format!("part {}{suffix}", self.parts)
        });
        let decoder = match headers.encoding.as_deref() {
            Some("base64") => Decoder::Base64 {
                sextets: 0,
                count: 0,
                ended: false,
            },
            Some("quoted-printable") => Decoder::QuotedPrintable,
            _ => Decoder::AsIs,
        };
        self.part = Some(Part {
            entry_scan: FileScan::for_entry(self.scanner, &name, None, self.depth),
            name,
            decoder,
            held: Vec::new(),
            decoded: Vec::new(),
        });
        self.state = State::Body;
    }

    fn end_part(&mut self, budget: &mut Budget, found: &mut Found<'a>) {
        if let Some(mut part) = self.part.take() {
            part.end_decoding(budget);
            found.absorb(&part.name, part.entry_scan.end_scan(budget));
        }
    }
}

impl Part<'_> {
    /// Decodes one line (or piece of one) of the body. The line break before a boundary
    /// belongs to the boundary, so each is held until the next line shows it is the part's.
    fn decode_line(&mut self, line: &[u8], whole: bool, budget: &mut Budget) {
        let (content, line_break) = if whole {
            let content = line.strip_suffix(b"\n").unwrap_or(line);
            let content = content.strip_suffix(b"\r").unwrap_or(content);
            (content, &line[content.len()..])
        } else {
            (line, &b""[..])
        };
        match &mut self.decoder {
            Decoder::AsIs => {
                self.decoded.append(&mut self.held);
                self.decoded.extend_from_slice(content);
                self.held.extend_from_slice(line_break);
            }
            Decoder::QuotedPrintable => {
                self.decoded.append(&mut self.held);
                let trimmed = content.trim_ascii_end();
                match trimmed.strip_suffix(b"=") {
                    // A soft line break: the line goes on.
                    Some(soft) if whole => decode_quoted_printable(soft, &mut self.decoded),
                    _ => {
                        decode_quoted_printable(content, &mut self.decoded);
                        self.held.extend_from_slice(line_break);
                    }
                }
            }
            Decoder::Base64 {
                sextets,
                count,
                ended,
            } => {
                if !*ended {
                    // Locals, not the fields: this loop is most of a message's decoding time.
                    let (mut bits, mut gathered) = (*sextets, *count);
                    self.decoded.reserve(content.len() / 4 * 3 + 3);
                    for &byte in content {
                        match BASE64_VALUES[usize::from(byte)] {
                            PADDING => {
                                *ended = true;
                                break;
                            }
                            // Whitespace and stray characters, as decoders of mail skip them.
                            SKIPPED => {}
                            value => {
                                bits = (bits << 6) | u32::from(value);
                                gathered += 1;
                                if gathered == 4 {
                                    self.decoded.extend_from_slice(&bits.to_be_bytes()[1..]);
                                    (bits, gathered) = (0, 0);
                                }
                            }
                        }
                    }
                    (*sextets, *count) = (bits, gathered);
                }
                if *ended {
                    self.decode_rest_of_base64();
                }
            }
        }
        if self.decoded.len() >= SCAN_PIECE_BYTES {
            self.scan_decoded(budget);
        }
    }

    /// What padding (or the end of an unpadded body) leaves: 2 sextets make 1 byte, 3 make 2.
    fn decode_rest_of_base64(&mut self) {
        if let Decoder::Base64 { sextets, count, .. } = &mut self.decoder {
            if *count > 1 {
                let bytes = (*sextets << (6 * (4 - u32::from(*count)))).to_be_bytes();
                self.decoded
                    .extend_from_slice(&bytes[1..usize::from(*count)]);
            }
            (*sextets, *count) = (0, 0);
        }
    }

    fn end_decoding(&mut self, budget: &mut Budget) {
        self.decode_rest_of_base64();
        self.scan_decoded(budget);
    }

    fn scan_decoded(&mut self, budget: &mut Budget) {
        if !self.decoded.is_empty() {
            self.entry_scan.update(&self.decoded, budget);
            self.decoded.clear();
        }
    }
}

const PADDING: u8 = 64;
const SKIPPED: u8 = 65;

/// Each byte's base64 value, or [`PADDING`] for `=`, or [`SKIPPED`].
const BASE64_VALUES: [u8; 256] = {
    let mut values = [SKIPPED; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut index = 0;
    while index < alphabet.len() {
        values[alphabet[index] as usize] = index as u8;
        index += 1;
    }
    values[b'=' as usize] = PADDING;
    values
};

/// `=XX` as the byte it names; anything else, a malformed `=` included, as it is.
fn decode_quoted_printable(text: &[u8], out: &mut Vec<u8>) {
    let hex = |byte: u8| char::from(byte).to_digit(16);
    let mut index = 0;
    while index < text.len() {
        if text[index] == b'=' {
            if let (Some(high), Some(low)) = (
                text.get(index + 1).copied().and_then(hex),
                text.get(index + 2).copied().and_then(hex),
            ) {
                out.push((high * 16 + low) as u8);
                index += 3;
                continue;
            }
        }
        out.push(text[index]);
        index += 1;
    }
}

/// What a part's header block says about its body.
#[derive(Debug, Default, PartialEq, Eq)]
struct Headers {
    /// `type/subtype`, lowercase.
    content_type: Option<String>,
    boundary: Option<String>,
    /// From the disposition's `filename`, else the type's `name`.
    file_name: Option<String>,
    /// The transfer encoding, lowercase.
    encoding: Option<String>,
}

impl Headers {
    fn of(block: &[u8]) -> Self {
        let text = String::from_utf8_lossy(block);
        // Unfolded: a line beginning with whitespace continues the field before it.
        let mut fields: Vec<String> = Vec::new();
        for line in text.lines() {
            match fields.last_mut() {
                Some(field) if line.starts_with([' ', '\t']) => {
                    field.push(' ');
                    field.push_str(line.trim());
                }
                _ => fields.push(line.to_owned()),
            }
        }
        let mut headers = Headers::default();
        let mut name_param = None;
        for field in &fields {
            let Some((name, value)) = field.split_once(':') else {
                continue;
            };
            let mut items = value.split(';');
            let first = items.next().unwrap_or_default().trim().to_ascii_lowercase();
            let params = || items.clone().filter_map(parameter);
            match name.trim().to_ascii_lowercase().as_str() {
                "content-type" => {
                    for (key, value) in params() {
                        match key.as_str() {
                            "boundary" => headers.boundary = Some(value),
                            "name" => name_param = Some(value),
                            _ => {}
                        }
                    }
                    headers.content_type = Some(first);
                }
                "content-disposition" => {
                    headers.file_name = params()
                        .find(|(key, _)| key == "filename" || key == "filename*")
                        .map(|(_, value)| value);
                }
                "content-transfer-encoding" => headers.encoding = Some(first),
                _ => {}
            }
        }
        headers.file_name = headers.file_name.or(name_param);
        headers
    }
}

/// `key=value` or `key="value"`, the key lowercase.
fn parameter(item: &str) -> Option<(String, String)> {
    let (key, value) = item.split_once('=')?;
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|quoted| quoted.strip_suffix('"'))
        .unwrap_or(value);
    Some((key.trim().to_ascii_lowercase(), value.to_owned()))
}

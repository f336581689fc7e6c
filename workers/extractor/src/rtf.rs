//! RTF's text and its `\info` metadata. RTF is a flat stream of groups and control words, so
//! one pass with a stack of group states reads it: destinations that hold no body text (font
//! and colour tables, pictures, field instructions, anything marked `\*`) are skipped, `\'hh`
//! bytes are decoded in the document's code page and `\uN` with its fallback characters.
//!
//! Group nesting is the only thing a hostile file can multiply (each level is a saved
//! state): beyond the limit the file fails. The text is never longer than the file.

use crate::document::{DocumentError, DocumentText, Format, Metadata};
use encoding_rs::{Encoding, BIG5, EUC_KR, GBK, MACINTOSH, SHIFT_JIS, WINDOWS_1252};
use std::collections::HashMap;

/// Destinations whose content is not body text.
const SKIPPED: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "listtable",
    "listoverridetable",
    "revtbl",
    "rsidtbl",
    "generator",
    "xmlnstbl",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "pgdsctbl",
    "fldinst",
    "pict",
    "object",
    "filetbl",
    "mmathPr",
    "nonshppict",
    "bkmkstart",
    "bkmkend",
    "xe",
    "tc",
    "private",
    "wgrffmtfilter",
    "userprops",
];
/// `\info` fields kept as metadata.
const INFO_FIELDS: &[&str] = &["title", "author", "subject", "operator", "keywords"];

#[derive(Clone, Default)]
struct Group {
    /// Its text is not body text.
    skip: bool,
    /// Fallback characters that follow each `\uN` (`\ucN`).
    fallback: usize,
    in_info: bool,
    /// The `\info` field or date this group holds.
    field: Option<&'static str>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    group: Group,
    stack: Vec<Group>,
    code_page: &'static Encoding,
    /// Bytes from `\'hh` and 8-bit characters, decoded together (a double-byte code page
    /// spreads one character over two).
    pending: Vec<u8>,
    fallback_left: usize,
    text: String,
    fields: HashMap<&'static str, String>,
    dates: HashMap<&'static str, [u32; 5]>,
}

/// The RTF document in `bytes` (which begin `{\rtf`).
pub fn extract(bytes: &[u8], max_depth: usize) -> Result<DocumentText, DocumentError> {
    let mut reader = Reader {
        bytes,
        at: 0,
        group: Group {
            fallback: 1,
            ..Group::default()
        },
        stack: Vec::new(),
        code_page: WINDOWS_1252,
        pending: Vec::new(),
        fallback_left: 0,
        text: String::new(),
        fields: HashMap::new(),
        dates: HashMap::new(),
    };
    reader.walk(max_depth)?;
    let text = reader
        .text
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    let field = |name: &str| {
        reader
            .fields
            .get(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let date = |name: &str| {
        reader
            .dates
            .get(name)
            .map(|[year, month, day, hour, minute]| {
                format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:00")
            })
    };
    let metadata = Metadata {
        title: field("title"),
        author: field("author").or_else(|| field("operator")),
        subject: field("subject"),
        created: date("creatim"),
        modified: date("revtim"),
    };
    Ok(DocumentText::new(
        Format::Rtf,
        format!("{}\n", text.trim_end()),
        metadata,
    ))
}

impl Reader<'_> {
    fn walk(&mut self, max_depth: usize) -> Result<(), DocumentError> {
        while let Some(&byte) = self.bytes.get(self.at) {
            self.at += 1;
            match byte {
                b'{' => {
                    self.flush();
                    if self.stack.len() >= max_depth {
                        return Err(DocumentError::TooDeep(max_depth));
                    }
                    self.stack.push(self.group.clone());
                }
                b'}' => {
                    self.flush();
                    if let Some(outer) = self.stack.pop() {
                        self.group = outer;
                    }
                }
                b'\\' => self.control(),
                b'\r' | b'\n' => {}
                _ => self.byte(byte),
            }
        }
        self.flush();
        Ok(())
    }

    fn control(&mut self) {
        let Some(&next) = self.bytes.get(self.at) else {
            return;
        };
        self.at += 1;
        match next {
            b'\'' => {
                let hex = self.bytes.get(self.at..self.at + 2).unwrap_or_default();
                self.at += hex.len();
                if let Some(byte) = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                {
                    self.byte(byte);
                }
            }
            b'*' => self.group.skip = true,
            b'\\' | b'{' | b'}' => self.byte(next),
            b'~' => self.emit('\u{a0}'),
            b'_' => self.emit('\u{2011}'),
            b'\r' | b'\n' => self.emit('\n'),
            letter if letter.is_ascii_alphabetic() => {
                let start = self.at - 1;
                while self.at - start < 32
                    && self.bytes.get(self.at).is_some_and(u8::is_ascii_alphabetic)
                {
                    self.at += 1;
                }
                let word = String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned();
                let parameter = self.parameter();
                if self.bytes.get(self.at) == Some(&b' ') {
                    self.at += 1;
                }
                self.word(&word, parameter);
            }
            _ => {}
        }
    }

    /// A control word's numeric parameter (`\fs24`, `\u-3913`), if it has one.
    fn parameter(&mut self) -> Option<i32> {
        let start = self.at;
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        while self.at - start < 11 && self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let digits = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
        if digits.is_empty() || digits == "-" {
            self.at = start;
            return None;
        }
        digits.parse().ok()
    }

    fn word(&mut self, word: &str, parameter: Option<i32>) {
        match word {
            "par" | "line" | "sect" | "page" | "row" => self.emit('\n'),
            "tab" | "cell" => self.emit('\t'),
            "emdash" => self.emit('\u{2014}'),
            "endash" => self.emit('\u{2013}'),
            "bullet" => self.emit('\u{2022}'),
            "lquote" => self.emit('\u{2018}'),
            "rquote" => self.emit('\u{2019}'),
            "ldblquote" => self.emit('\u{201c}'),
            "rdblquote" => self.emit('\u{201d}'),
            "emspace" | "enspace" | "qmspace" => self.emit(' '),
            "u" => {
                if let Some(code) = parameter {
                    // Parameters are signed 16-bit: code points above 32767 come negative.
                    let code = if code < 0 { code + 65_536 } else { code };
                    let c = u32::try_from(code)
                        .ok()
                        .and_then(char::from_u32)
                        .unwrap_or(char::REPLACEMENT_CHARACTER);
                    self.emit(c);
                    self.fallback_left = self.group.fallback;
                }
            }
            "uc" => {
                self.group.fallback = parameter.and_then(|n| usize::try_from(n).ok()).unwrap_or(1)
            }
            "ansicpg" => self.code_page = code_page(parameter.unwrap_or(1252)),
            "bin" => {
                self.flush();
                let length = parameter.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
                self.at = self.at.saturating_add(length).min(self.bytes.len());
            }
            "info" => {
                self.group.skip = true;
                self.group.in_info = true;
            }
            "creatim" | "revtim" if self.group.in_info => {
                self.group.field = INFO_DATES.iter().copied().find(|date| *date == word);
            }
            "yr" | "mo" | "dy" | "hr" | "min" if self.group.in_info => {
                let (Some(date), Some(value)) = (self.group.field, parameter) else {
                    return;
                };
                let slot = ["yr", "mo", "dy", "hr", "min"]
                    .iter()
                    .position(|part| *part == word)
                    .unwrap_or(0);
                self.dates.entry(date).or_default()[slot] = u32::try_from(value).unwrap_or(0);
            }
            _ if self.group.in_info => {
                if let Some(field) = INFO_FIELDS.iter().copied().find(|field| *field == word) {
                    self.group.field = Some(field);
                }
            }
            _ if SKIPPED.contains(&word) => self.group.skip = true,
            _ => {}
        }
    }

    /// A character byte: to be decoded in the code page, unless it is a `\uN` fallback.
    fn byte(&mut self, byte: u8) {
        if self.fallback_left > 0 {
            self.fallback_left -= 1;
            return;
        }
        self.pending.push(byte);
    }

    fn emit(&mut self, c: char) {
        self.flush();
        self.fallback_left = 0;
        self.push(&c.to_string());
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let bytes = std::mem::take(&mut self.pending);
        let (text, _) = self.code_page.decode_without_bom_handling(&bytes);
        self.push(&text);
    }

    fn push(&mut self, text: &str) {
        if !self.group.skip {
            self.text.push_str(text);
        } else if let (true, Some(field)) = (self.group.in_info, self.group.field) {
            self.fields.entry(field).or_default().push_str(text);
        }
    }
}

const INFO_DATES: &[&str] = &["creatim", "revtim"];

/// `\ansicpgN`'s encoding; an unknown code page reads as Windows-1252.
fn code_page(number: i32) -> &'static Encoding {
    match number {
        932 => SHIFT_JIS,
        936 => GBK,
        949 => EUC_KR,
        950 => BIG5,
        10000 => MACINTOSH,
        874 | 1250..=1258 => {
            Encoding::for_label(format!("windows-{number}").as_bytes()).unwrap_or(WINDOWS_1252)
        }
        _ => WINDOWS_1252,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = r#"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\froman Times;}}{\colortbl;\red0\green0\blue0;}
{\info{\title Board minutes}{\author Ada Lovelace}{\subject Q3}{\creatim\yr2026\mo11\dy3\hr9\min30}}
{\*\generator Riched20 10.0;}\pard\f0\fs24 Caf\'e9 opened at 9.\par
Na\u239?ve \ldblquote quotes\rdblquote\tab and a tab.\par
{\field{\*\fldinst HYPERLINK ""https://example.com""}{\fldrslt the link text}}\par
\trowd\cellx1000\cellx2000 Region\cell Sales\cell\row
\uc2\u8364\'80\'80 five\par
{\pict\pngblip 89504e470d0a}Escaped \{braces\} and \\ backslash\par}"#;

    #[test]
    fn text_and_info_come_out_and_tables_pictures_and_instructions_do_not() {
        let document = extract(DOCUMENT.as_bytes(), 64).expect("read");
        assert_eq!(
            document.text,
            "Café opened at 9.\nNaïve \u{201c}quotes\u{201d}\tand a tab.\nthe link text\nRegion\tSales\n€ five\nEscaped {braces} and \\ backslash\n"
        );
        assert_eq!(document.metadata.title.as_deref(), Some("Board minutes"));
        assert_eq!(document.metadata.author.as_deref(), Some("Ada Lovelace"));
        assert_eq!(document.metadata.subject.as_deref(), Some("Q3"));
        assert_eq!(
            document.metadata.created.as_deref(),
            Some("2026-11-03T09:30:00")
        );
    }

    #[test]
    fn code_pages_decode_their_bytes() {
        let japanese = extract(br"{\rtf1\ansi\ansicpg932 \'93\'fa\'96\'7b\par}", 8).expect("read");
        assert_eq!(japanese.text, "日本\n");
    }

    #[test]
    fn nesting_past_the_limit_fails_the_file() {
        let deep = format!("{{\\rtf1 {}x{}}}", "{".repeat(100), "}".repeat(100));
        assert_eq!(
            extract(deep.as_bytes(), 64).map(|_| ()),
            Err(DocumentError::TooDeep(64))
        );
        assert!(extract(deep.as_bytes(), 512).is_ok());
    }

    #[test]
    fn a_truncated_file_keeps_what_it_has() {
        let document = extract(br"{\rtf1\ansi Half a sent", 8).expect("read");
        assert_eq!(document.text, "Half a sent\n");
    }
}

//! Plain text, Markdown, CSV and JSON documents: the encoding, and line, word and character
//! counts. The text itself is written out as UTF-8 whatever it came in.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextDocument {
    /// `utf-8`, `utf-8 (BOM)`, `utf-16le`, `utf-16be`, or `iso-8859-1` when the bytes are not
    /// valid UTF-8 (every byte is a character there, so nothing is lost).
    pub encoding: String,
    #[serde(skip)]
    pub text: String,
    pub lines: usize,
    pub words: usize,
    pub chars: usize,
}

pub fn read_text(bytes: &[u8]) -> TextDocument {
    let (encoding, text) = decode(bytes);
    TextDocument {
        encoding: encoding.to_owned(),
        lines: text.lines().count(),
        words: text.split_whitespace().count(),
        chars: text.chars().count(),
        text,
    }
}

fn decode(bytes: &[u8]) -> (&'static str, String) {
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| {
        let units = rest.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
    };
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return ("utf-8 (BOM)", String::from_utf8_lossy(rest).into_owned());
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return ("utf-16le", utf16(rest, u16::from_le_bytes));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return ("utf-16be", utf16(rest, u16::from_be_bytes));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => ("utf-8", text.to_owned()),
        Err(_) => ("iso-8859-1", bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_detected_and_counted() {
        let plain = read_text("# Notes\n\nShip the router first.\n".as_bytes());
        assert_eq!(
            (plain.encoding.as_str(), plain.lines, plain.words),
            ("utf-8", 3, 6)
        );
        let latin1 = read_text(b"caf\xe9 cr\xe8me");
        assert_eq!(latin1.encoding, "iso-8859-1");
        assert_eq!(latin1.text, "café crème");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("héllo wörld".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let decoded = read_text(&utf16);
        assert_eq!(
            (decoded.encoding.as_str(), decoded.text.as_str()),
            ("utf-16le", "héllo wörld")
        );
        assert_eq!(read_text(b"\xEF\xBB\xBFa,b\n1,2\n").lines, 2);
    }
}

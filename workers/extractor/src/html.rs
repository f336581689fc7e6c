//! HTML's visible text: what a reader sees with scripts off and no styles, one line per block.
//! Used for `.html` uploads, EPUB chapters and e-mail HTML bodies.
//!
//! Only html5ever's tokenizer runs (no tree is built): memory stays proportional to the
//! text, and nesting costs nothing. HTML has no entity definitions a document can add, so a
//! DOCTYPE with an internal subset (billion laughs) expands nothing.

use crate::document::{DocumentText, Format, Metadata};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use std::borrow::Cow;
use std::cell::RefCell;

/// How far into a file its charset declaration or `<html>` may come.
const HEAD_BYTES: usize = 1024;

/// Whether `bytes` begin as an HTML document does (a doctype, or `<html>` after a prologue).
pub fn looks_like(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let head = &bytes[..bytes.len().min(HEAD_BYTES)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let head = head.trim_start();
    head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || ((head.starts_with("<?xml") || head.starts_with("<!--")) && head.contains("<html"))
}

/// An HTML file: its visible text, and title, author and description as metadata.
pub fn extract(bytes: &[u8]) -> DocumentText {
    let page = visible(&decode(bytes));
    DocumentText::new(Format::Html, page.text, page.metadata)
}

/// The document's characters: by its byte-order mark, as UTF-8 when it is valid UTF-8, else by
/// the charset its head declares, else Windows-1252 (what browsers assume).
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return encoding.decode_without_bom_handling(&bytes[bom..]).0;
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let encoding = declared_charset(&bytes[..bytes.len().min(HEAD_BYTES)])
        .filter(|encoding| *encoding != UTF_8)
        .unwrap_or(WINDOWS_1252);
    encoding.decode_without_bom_handling(bytes).0
}

fn declared_charset(head: &[u8]) -> Option<&'static Encoding> {
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let label: String = head[at..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    Encoding::for_label(label.as_bytes())
}

/// What a page shows.
pub struct Page {
    pub text: String,
    pub metadata: Metadata,
}

/// The visible text of `html`, with `<title>` and the author and description `<meta>`s.
pub fn visible(html: &str) -> Page {
    let sink = Sink::default();
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(html.into());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let state = tokenizer.sink.state.into_inner();
    let title = state.title.split_whitespace().collect::<Vec<_>>().join(" ");
    Page {
        text: state.text.finish(),
        metadata: Metadata {
            title: (!title.is_empty()).then_some(title),
            author: state.author,
            subject: state.description,
            ..Metadata::default()
        },
    }
}

/// Elements whose content is never shown: scripts, styles, templates, and what only shows
/// with scripts off in a browser that has them on. Each has a required end tag, so hiding
/// ends where the element does.
const HIDDEN: &[&str] = &["script", "style", "template", "noscript"];
/// Elements that start and end a line of text.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tr",
    "ul",
];

#[derive(Default)]
struct Sink {
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    text: Lines,
    /// Open hidden elements (their names), innermost last.
    hidden: Vec<String>,
    in_title: bool,
    in_pre: usize,
    title: String,
    author: Option<String>,
    description: Option<String>,
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) => return state.tag(&tag),
            Token::CharacterTokens(text) => {
                if state.in_title {
                    state.title.push_str(&text);
                } else if state.hidden.is_empty() {
                    let pre = state.in_pre > 0;
                    state.text.push(&text, pre);
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

impl State {
    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        match tag.kind {
            TagKind::StartTag => {
                if name == "meta" {
                    self.meta(tag);
                }
                if BLOCKS.contains(&name) || name == "br" {
                    self.text.end_line();
                }
                match name {
                    "td" | "th" => self.text.separate('\t'),
                    "pre" => self.in_pre += 1,
                    "title" => self.in_title = !tag.self_closing,
                    _ => {}
                }
                let hidden = HIDDEN.contains(&name) || is_hidden(tag);
                if hidden && !tag.self_closing && !is_void(name) {
                    self.hidden.push(name.to_owned());
                }
                // The tree builder would switch the tokenizer for these; without it, this sink must.
                match name {
                    "script" => return TokenSinkResult::RawData(RawKind::ScriptData),
                    "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                        return TokenSinkResult::RawData(RawKind::Rawtext)
                    }
                    "title" | "textarea" => return TokenSinkResult::RawData(RawKind::Rcdata),
                    "plaintext" => return TokenSinkResult::Plaintext,
                    _ => {}
                }
            }
            TagKind::EndTag => {
                if let Some(at) = self.hidden.iter().rposition(|open| open == name) {
                    self.hidden.truncate(at);
                }
                match name {
                    "title" => self.in_title = false,
                    "pre" => self.in_pre = self.in_pre.saturating_sub(1),
                    _ => {}
                }
                if BLOCKS.contains(&name) {
                    self.text.end_line();
                }
            }
        }
        TokenSinkResult::Continue
    }

    fn meta(&mut self, tag: &Tag) {
        let attribute = |wanted: &str| {
            tag.attrs
                .iter()
                .find(|attr| &*attr.name.local == wanted)
                .map(|attr| attr.value.trim().to_owned())
        };
        let content = attribute("content").filter(|content| !content.is_empty());
        match attribute("name")
            .map(|name| name.to_ascii_lowercase())
            .as_deref()
        {
            Some("author") => self.author = self.author.take().or(content),
            Some("description") => self.description = self.description.take().or(content),
            _ => {}
        }
    }
}

/// A `hidden` element, unless its end tag may be left out (`<p hidden>draft<p>shown`): its
/// hiding would then never end.
fn is_hidden(tag: &Tag) -> bool {
    let optional_end = matches!(
        &*tag.name,
        "p" | "li"
            | "dt"
            | "dd"
            | "tr"
            | "td"
            | "th"
            | "thead"
            | "tbody"
            | "tfoot"
            | "option"
            | "optgroup"
            | "colgroup"
            | "caption"
            | "rt"
            | "rp"
            | "html"
            | "head"
            | "body"
    );
    !optional_end
        && tag.attrs.iter().any(|attr| {
            let name: &str = &attr.name.local;
            name == "hidden" || (name == "aria-hidden" && attr.value.trim() == "true")
        })
}

/// Elements that never have an end tag.
fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
    )
}

/// Text as lines: runs of white space are one space, as a browser shows them (except in
/// `<pre>`), and no line is empty.
#[derive(Default)]
struct Lines {
    text: String,
    space_pending: bool,
}

impl Lines {
    fn push(&mut self, text: &str, preformatted: bool) {
        if preformatted {
            self.text.push_str(text);
            self.space_pending = false;
            return;
        }
        for c in text.chars() {
            // HTML collapses ASCII white space only: a no-break space stays.
            if c.is_ascii_whitespace() {
                self.space_pending = true;
                continue;
            }
            if self.space_pending && !self.at_line_start() {
                self.text.push(' ');
            }
            self.space_pending = false;
            self.text.push(c);
        }
    }

    fn at_line_start(&self) -> bool {
        self.text.is_empty() || self.text.ends_with(['\n', '\t'])
    }

    fn end_line(&mut self) {
        self.space_pending = false;
        let kept = self.text.trim_end_matches([' ', '\t']).len();
        self.text.truncate(kept);
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }

    /// A table cell: a tab between it and the cell before it on the line.
    fn separate(&mut self, separator: char) {
        self.space_pending = false;
        if !self.at_line_start() {
            self.text.push(separator);
        }
    }

    fn finish(mut self) -> String {
        self.end_line();
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_text_leaves_out_scripts_styles_and_hidden_elements() {
        let page = visible(
            r#"<!DOCTYPE html><html lang="en"><head><title> Quarterly
            report </title><meta name="author" content="Ada Lovelace">
            <meta name="description" content="Numbers for Q3"><style>p { color: red }</style>
            <script>if (a < b) { document.write("<p>injected</p>") }</script></head>
            <body><h1>Results &amp; outlook</h1><p>Revenue   grew<br>by 12&nbsp;%.</p>
            <div hidden><p>draft note</p></div><p hidden>stale<p>Shown after a hidden p.<template><p>row template</p></template>
            <noscript>enable scripts</noscript>
            <table><tr><th>Region</th><th>Sales</th></tr><tr><td>EU</td><td>4</td></tr></table>
            <pre>  kept
   as is</pre><ul><li>one</li><li>two</li></ul></body></html>"#,
        );
        assert_eq!(
            page.text,
            "Results & outlook\nRevenue grew\nby 12\u{a0}%.\nstale\nShown after a hidden p.\nRegion\tSales\nEU\t4\n  kept\n   as is\none\ntwo\n"
        );
        assert_eq!(page.metadata.title.as_deref(), Some("Quarterly report"));
        assert_eq!(page.metadata.author.as_deref(), Some("Ada Lovelace"));
        assert_eq!(page.metadata.subject.as_deref(), Some("Numbers for Q3"));
    }

    #[test]
    fn a_doctype_with_entity_definitions_expands_nothing() {
        let laughs = format!(
            "<!DOCTYPE html [<!ENTITY lol \"lol\">{}]><html><body><p>&lol9;</p><p>fine</p></body></html>",
            (1..10)
                .map(|n| format!("<!ENTITY lol{n} \"{}\">", format!("&lol{};", n - 1).repeat(10)))
                .collect::<String>()
        );
        let page = visible(&laughs);
        assert!(page.text.len() < 100, "{}", page.text);
        assert!(page.text.contains("fine"));
    }

    #[test]
    fn charset_comes_from_the_bom_the_bytes_or_the_head() {
        assert_eq!(decode("naïve".as_bytes()), "naïve");
        assert_eq!(
            decode(b"<meta charset=\"iso-8859-15\"><p>\xa4 5</p>"),
            "<meta charset=\"iso-8859-15\"><p>€ 5</p>"
        );
        assert_eq!(decode(b"<p>caf\xe9</p>"), "<p>café</p>");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("<p>hé</p>".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16), "<p>hé</p>");
    }

    #[test]
    fn html_is_recognised_by_its_start() {
        assert!(looks_like(b"\n  <!DOCTYPE html><p>x"));
        assert!(looks_like(b"<HTML><body>"));
        assert!(looks_like(
            b"<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\">"
        ));
        assert!(!looks_like(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"));
        assert!(!looks_like(b"# Notes about <html>"));
    }
}

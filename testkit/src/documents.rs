//! EPUB, HTML, RTF and e-mail documents built in memory with known text and metadata (the
//! same [`Properties`] as the Office files), each as its format's readers expect it.

use crate::office::{build, escape, Properties};

/// An EPUB 3 whose spine lists `chapters` (each a heading and paragraphs) in order. The
/// files are named against that order (the last chapter is `a.xhtml`) and the second has a
/// space in its name, so a reader must follow the spine and decode hrefs.
pub fn epub(chapters: &[(&str, &[&str])], properties: &Properties) -> Vec<u8> {
    let bodies: Vec<String> = chapters
        .iter()
        .map(|(heading, paragraphs)| {
            let paragraphs: String = paragraphs
                .iter()
                .map(|paragraph| format!("<p>{}</p>", escape(paragraph)))
                .collect();
            format!("<h1>{}</h1>{paragraphs}", escape(heading))
        })
        .collect();
    epub_with_chapters(&bodies, properties)
}

/// An EPUB whose chapters' `<body>`s are `bodies`, as written.
pub fn epub_with_chapters(bodies: &[String], properties: &Properties) -> Vec<u8> {
    let file = |n: usize| match n {
        1 => "part two.xhtml".to_owned(),
        n if n + 1 == bodies.len() => "a.xhtml".to_owned(),
        n => format!("chapter-{n}.xhtml"),
    };
    let manifest: String = (0..bodies.len())
        .rev()
        .map(|n| {
            format!(
                r#"<item id="c{n}" href="text/{}" media-type="application/xhtml+xml"/>"#,
                file(n).replace(' ', "%20")
            )
        })
        .collect();
    let spine: String = (0..bodies.len())
        .map(|n| format!(r#"<itemref idref="c{n}"/>"#))
        .collect();
    let mut parts = vec![
        ("mimetype".to_owned(), "application/epub+zip".to_owned()),
        (
            "META-INF/container.xml".to_owned(),
            r#"<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#
                .to_owned(),
        ),
        (
            "OEBPS/content.opf".to_owned(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">urn:uuid:0</dc:identifier><dc:title>{}</dc:title><dc:creator>{}</dc:creator><dc:date>{}</dc:date><dc:language>en</dc:language></metadata><manifest>{manifest}</manifest><spine>{spine}</spine></package>"#,
                escape(properties.title),
                escape(properties.author),
                properties.created,
            ),
        ),
    ];
    for (n, body) in bodies.iter().enumerate() {
        parts.push((
            format!("OEBPS/text/{}", file(n)),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Chapter {n}</title><style>h1 {{ color: red }}</style></head><body>{body}</body></html>"#
            ),
        ));
    }
    build(parts)
}

/// An HTML page: `paragraphs`, with a script and a style that are not text.
pub fn html(paragraphs: &[&str], properties: &Properties) -> Vec<u8> {
    let paragraphs: String = paragraphs
        .iter()
        .map(|paragraph| format!("<p>{}</p>\n", escape(paragraph)))
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{}</title><meta name="author" content="{}">
<style>p {{ font-family: serif }}</style><script>document.title = "not text";</script></head>
<body>
{paragraphs}</body></html>
"#,
        escape(properties.title),
        escape(properties.author)
    )
    .into_bytes()
}

/// An RTF document: `paragraphs` (ASCII and `\uN` escapes for the rest), title, author and
/// creation time in `\info`.
pub fn rtf(paragraphs: &[&str], properties: &Properties) -> Vec<u8> {
    let escape_rtf = |text: &str| -> String {
        text.chars()
            .map(|c| match c {
                '\\' | '{' | '}' => format!("\\{c}"),
                '\t' => "\\tab ".into(),
                c if c.is_ascii() => c.to_string(),
                c => format!("\\u{}?", c as u32 as i16),
            })
            .collect()
    };
    let body: String = paragraphs
        .iter()
        .map(|paragraph| format!("{}\\par\n", escape_rtf(paragraph)))
        .collect();
    let created = &properties.created;
    let number = |range: std::ops::Range<usize>| created.get(range).unwrap_or("0").to_owned();
    format!(
        "{{\\rtf1\\ansi\\ansicpg1252\\deff0{{\\fonttbl{{\\f0\\fswiss Helvetica;}}}}\n{{\\info{{\\title {}}}{{\\author {}}}{{\\creatim\\yr{}\\mo{}\\dy{}\\hr{}\\min{}}}}}\n\\pard\\f0\\fs24 {body}}}",
        escape_rtf(properties.title),
        escape_rtf(properties.author),
        number(0..4),
        number(5..7),
        number(8..10),
        number(11..13),
        number(14..16),
    )
    .into_bytes()
}

/// An e-mail from the properties' author with the properties' title as subject: a plain-text
/// body and its HTML alternative, and `attachments` (name, content type, bytes) in base64.
pub fn eml(body: &str, attachments: &[(&str, &str, &[u8])], properties: &Properties) -> Vec<u8> {
    let mut message = format!(
        "From: {} <ada@example.com>\r\nTo: ops@example.org\r\nSubject: {}\r\nDate: Fri, 02 Jan 2026 03:04:05 +0000\r\nMessage-ID: <generated@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"mixed\"\r\n\r\n--mixed\r\nContent-Type: multipart/alternative; boundary=\"alternative\"\r\n\r\n--alternative\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n--alternative\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>{}</p>\r\n--alternative--\r\n",
        properties.author,
        properties.title,
        escape(body)
    );
    for (name, content_type, bytes) in attachments {
        message.push_str(&format!(
            "--mixed\r\nContent-Type: {content_type}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            base64_lines(bytes).replace('\n', "\r\n")
        ));
    }
    message.push_str("--mixed--\r\n");
    message.into_bytes()
}

/// `bytes` in base64 as mail carries it: lines of 76 characters.
pub fn base64_lines(bytes: &[u8]) -> String {
    let encoded = aws_smithy_types::base64::encode(bytes);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).unwrap_or_default())
        .collect();
    lines.join("\n")
}

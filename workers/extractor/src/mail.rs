//! E-mail messages (`.eml`: RFC 5322 with MIME): the headers people read, the bodies as text
//! (an HTML-only body by its visible text), and the list of attachments. Parsed by
//! mail-parser, which decodes every transfer encoding and charset. Each attachment's decoded
//! bytes are handed back too: the extractor writes them as objects of their own, which the
//! pipeline processes as it would their source's uploads.

use crate::document::{DocumentError, DocumentText, Format, Metadata};
use crate::html;
use mail_parser::{Address, Message, MessageParser, MessagePart, MimeHeaders};
use serde::{Deserialize, Serialize};
use worker_common::s3::shortened;

/// How much of the start is read to recognise a message.
const HEAD_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailDetails {
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub message_id: Option<String>,
    /// The content types of the bodies read (`text/plain`, `text/html`).
    pub bodies: Vec<String>,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: Option<String>,
    pub content_type: String,
    pub bytes: usize,
    /// The attachment, decoded: carried out of the parser child (base64 in its JSON answer),
    /// then taken out before the details are recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "base64_bytes")]
    pub contents: Vec<u8>,
    /// Why it does not re-enter the pipeline, when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_reentered: Option<String>,
}

/// The most attachment bytes one message hands back: base64 makes them 4/3 larger, and the
/// parser's whole answer (text included) is read up to 64 MiB (`isolate::Limits`).
pub const MAX_ATTACHMENT_BYTES: usize = 32 << 20;

/// The longest last segment of an attachment's key: an attached message is named after its
/// subject, which may run to kilobytes, and the e-mail's key must fit beside it in S3's 1,024.
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// The most attachments of one message that re-enter the pipeline: each is a write, and an
/// upload to process, and a message of a few KiB can declare thousands.
pub const MAX_REENTERED_ATTACHMENTS: usize = 100;

impl Attachment {
    /// The last segment of its key when it re-enters the pipeline: its place in the message
    /// (two attachments may share a name), then its name with path separators and control
    /// characters replaced, in at most [`MAX_FILE_NAME_BYTES`] (a long name keeps its start and
    /// its extension).
    pub fn file_name(&self, position: usize) -> String {
        let name: String = self
            .name
            .as_deref()
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c == '/' || c == '\\' || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let name = name.trim();
        let name = format!(
            "{position}-{}",
            if name.is_empty() { "attachment" } else { name }
        );
        shortened(&name, MAX_FILE_NAME_BYTES)
    }

    /// Its content type as an S3 header can carry it, else `application/octet-stream`.
    pub fn stored_content_type(&self) -> &str {
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c);
        match self.content_type.split_once('/') {
            Some((kind, subtype))
                if !kind.is_empty() && kind.chars().all(token) && subtype.chars().all(token) =>
            {
                &self.content_type
            }
            _ => "application/octet-stream",
        }
    }
}

mod base64_bytes {
    use aws_smithy_types::base64;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        base64::decode(text).map_err(serde::de::Error::custom)
    }
}

/// Whether `bytes` begin with a message's header block: header fields only, up to the blank
/// line, with a `From` and a `Date`, `Subject`, `Message-ID` or `Received` among them, or
/// first a trace field a mail server adds (`Return-Path`, `Received`, `Delivered-To`).
pub fn looks_like(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(HEAD_BYTES)]);
    // A head cut short ends in part of a line: judged by its whole lines.
    let whole = match head.rfind('\n') {
        Some(end) if !head.ends_with('\n') => &head[..end],
        _ => &head,
    };
    let mut names = Vec::new();
    for line in whole.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) && !names.is_empty() {
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return false;
        }
        names.push(name.to_ascii_lowercase());
    }
    let has = |wanted: &str| names.iter().any(|name| name == wanted);
    // What a mail server prepends: a long trace can push From past the head.
    let traced = names.len() >= 2
        && names.first().is_some_and(|first| {
            ["return-path", "received", "delivered-to"].contains(&first.as_str())
        });
    traced
        || has("from")
            && ["date", "subject", "message-id", "received"]
                .iter()
                .any(|name| has(name))
}

pub fn extract(bytes: &[u8]) -> Result<DocumentText, DocumentError> {
    let message =
        MessageParser::default()
            .parse(bytes)
            .ok_or_else(|| DocumentError::Unreadable {
                format: "e-mail".into(),
                reason: "no header or body could be read".into(),
            })?;
    let from = addresses(message.from());
    let to = addresses(message.to());
    let cc = addresses(message.cc());
    let subject = message.subject().map(str::to_owned);
    let date = message.date().map(|date| date.to_rfc3339());

    let mut text = String::new();
    for (label, value) in [
        ("From", from.join(", ")),
        ("To", to.join(", ")),
        ("Cc", cc.join(", ")),
        ("Date", date.clone().unwrap_or_default()),
        ("Subject", subject.clone().unwrap_or_default()),
    ] {
        if !value.is_empty() {
            text.push_str(&format!("{label}: {value}\n"));
        }
    }
    let mut bodies = Vec::new();
    for part in message.text_bodies() {
        let (content_type, body) = body_text(part);
        if !bodies.contains(&content_type) {
            bodies.push(content_type);
        }
        text.push('\n');
        text.push_str(body.trim_end());
        text.push('\n');
    }
    let attachments = attachments(&message, MAX_ATTACHMENT_BYTES);
    if !attachments.is_empty() {
        text.push_str("\nAttachments:\n");
        for attachment in &attachments {
            text.push_str(&format!(
                "- {} ({}, {} bytes)\n",
                attachment.name.as_deref().unwrap_or("(unnamed)"),
                attachment.content_type,
                attachment.bytes
            ));
        }
    }
    let metadata = Metadata {
        title: subject,
        author: from.first().cloned(),
        subject: None,
        created: date,
        modified: None,
    };
    Ok(DocumentText {
        mail: Some(MailDetails {
            from,
            to,
            cc,
            message_id: message.message_id().map(str::to_owned),
            bodies,
            attachments,
        }),
        ..DocumentText::new(Format::Eml, text, metadata)
    })
}

/// `Name <address>` (or the address alone) for each address, groups flattened.
fn addresses(address: Option<&Address>) -> Vec<String> {
    address
        .map(|address| {
            address
                .iter()
                .map(|addr| match (addr.name(), addr.address()) {
                    (Some(name), Some(address)) => format!("{name} <{address}>"),
                    (None, Some(address)) => address.to_owned(),
                    (Some(name), None) => name.to_owned(),
                    (None, None) => String::new(),
                })
                .filter(|text| !text.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// A body's content type and its text: an HTML body by what it shows.
fn body_text(part: &MessagePart) -> (String, String) {
    let contents = part.text_contents().unwrap_or_default();
    if part.is_text_html() {
        ("text/html".into(), html::visible(contents).text)
    } else {
        ("text/plain".into(), contents.to_owned())
    }
}

/// Each attachment's description, with its bytes when it re-enters the pipeline: the first
/// [`MAX_REENTERED_ATTACHMENTS`] that hold anything, while they fit in what is left of `budget`.
fn attachments(message: &Message, mut budget: usize) -> Vec<Attachment> {
    let mut reentered = 0;
    message
        .attachments()
        .map(|part| {
            let mut attachment = described(part);
            let contents = part.contents();
            attachment.not_reentered = if contents.is_empty() {
                Some("empty".into())
            } else if reentered == MAX_REENTERED_ATTACHMENTS {
                Some(format!(
                    "past the first {MAX_REENTERED_ATTACHMENTS} attachments of one message"
                ))
            } else if contents.len() > budget {
                Some(format!(
                    "past the {} MiB of attachments one message hands back",
                    MAX_ATTACHMENT_BYTES >> 20
                ))
            } else {
                budget -= contents.len();
                reentered += 1;
                attachment.contents = contents.to_vec();
                None
            };
            attachment
        })
        .collect()
}

/// What a part is, without its bytes.
fn described(part: &MessagePart) -> Attachment {
    let content_type = part.content_type().map_or_else(
        || "application/octet-stream".to_owned(),
        |ct| match ct.subtype() {
            Some(subtype) => format!("{}/{subtype}", ct.ctype()),
            None => ct.ctype().to_owned(),
        },
    );
    let name = part.attachment_name().map(str::to_owned).or_else(|| {
        part.message()
            .and_then(Message::subject)
            .map(|s| format!("{s}.eml"))
    });
    Attachment {
        name,
        content_type: content_type.to_ascii_lowercase(),
        bytes: part.contents().len(),
        contents: Vec::new(),
        not_reentered: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &str = "Return-Path: <ada@example.com>\r
Received: from mx.example.com by mail.example.org; Tue, 3 Nov 2026 09:30:00 +0000\r
From: Ada Lovelace <ada@example.com>\r
To: Charles Babbage <charles@example.org>, ops@example.org\r
Cc: =?UTF-8?B?w4lsb2lzZQ==?= <eloise@example.org>\r
Subject: =?UTF-8?Q?Q3_numbers_=E2=80=94_final?=\r
Date: Tue, 3 Nov 2026 09:30:00 +0000\r
Message-ID: <q3@example.com>\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary=\"outer\"\r
\r
--outer\r
Content-Type: multipart/alternative; boundary=\"inner\"\r
\r
--inner\r
Content-Type: text/plain; charset=iso-8859-1\r
Content-Transfer-Encoding: quoted-printable\r
\r
The numbers are in the attached report, caf=E9 at ten.\r
--inner\r
Content-Type: text/html; charset=utf-8\r
\r
<p>The numbers are in the <b>attached</b> report.</p>\r
--inner--\r
--outer\r
Content-Type: application/pdf; name=\"report q3.pdf\"\r
Content-Disposition: attachment; filename=\"report q3.pdf\"\r
Content-Transfer-Encoding: base64\r
\r
JVBERi0xLjQKJSVFT0YK\r
--outer--\r
";

    #[test]
    fn headers_the_text_body_and_the_attachment_list_are_read() {
        let document = extract(MESSAGE.as_bytes()).expect("read");
        assert_eq!(
            document.text,
            "From: Ada Lovelace <ada@example.com>\n\
             To: Charles Babbage <charles@example.org>, ops@example.org\n\
             Cc: Éloise <eloise@example.org>\n\
             Date: 2026-11-03T09:30:00Z\n\
             Subject: Q3 numbers — final\n\
             \n\
             The numbers are in the attached report, café at ten.\n\
             \n\
             Attachments:\n\
             - report q3.pdf (application/pdf, 15 bytes)\n"
        );
        assert_eq!(
            document.metadata.title.as_deref(),
            Some("Q3 numbers — final")
        );
        assert_eq!(
            document.metadata.author.as_deref(),
            Some("Ada Lovelace <ada@example.com>")
        );
        let mail = document.mail.expect("mail details");
        assert_eq!(mail.message_id.as_deref(), Some("q3@example.com"));
        assert_eq!(mail.bodies, ["text/plain"]);
        assert_eq!(
            mail.attachments,
            [Attachment {
                name: Some("report q3.pdf".into()),
                content_type: "application/pdf".into(),
                bytes: 15,
                contents: b"%PDF-1.4\n%%EOF\n".to_vec(),
                not_reentered: None,
            }]
        );
    }

    #[test]
    fn attachments_survive_the_childs_json_and_are_named_safely_for_their_keys() {
        let mail = extract(MESSAGE.as_bytes())
            .expect("read")
            .mail
            .expect("mail");
        let json = serde_json::to_string(&mail).expect("json");
        assert!(
            json.contains("\"contents\":\"JVBERi0xLjQKJSVFT0YK\""),
            "{json}"
        );
        let back: MailDetails = serde_json::from_str(&json).expect("back");
        assert_eq!(back, mail);
        let attachment = |name: Option<&str>, content_type: &str| Attachment {
            name: name.map(str::to_owned),
            content_type: content_type.into(),
            bytes: 0,
            contents: Vec::new(),
            not_reentered: None,
        };
        let report = attachment(Some("report q3.pdf"), "application/pdf");
        assert_eq!(report.file_name(1), "1-report q3.pdf");
        assert_eq!(report.stored_content_type(), "application/pdf");
        let hostile = attachment(
            Some("../../etc/\u{0}passwd\\x"),
            "text/html\r\nX-Amz-Acl: public",
        );
        assert_eq!(hostile.file_name(2), "2-.._.._etc__passwd_x");
        assert_eq!(hostile.stored_content_type(), "application/octet-stream");
        assert_eq!(attachment(None, "image/png").file_name(3), "3-attachment");
        let long = attachment(
            Some(&format!("{}.eml", "subject ".repeat(200))),
            "message/rfc822",
        );
        let name = long.file_name(5);
        assert_eq!(name.len(), MAX_FILE_NAME_BYTES);
        assert!(
            name.starts_with("5-subject subject") && name.ends_with(".eml"),
            "{name}"
        );
        assert_eq!(attachment(Some("  "), "x").file_name(4), "4-attachment");
    }

    #[test]
    fn attachments_past_the_budget_are_described_but_not_handed_back() {
        let message = format!(
            "From: a@example.com\nSubject: three\nContent-Type: multipart/mixed; boundary=b\n\n{}--b--\n",
            [("a.bin", 6), ("b.bin", 6), ("c.bin", 3), ("d.bin", 0)]
                .iter()
                .map(|(name, size)| format!(
                    "--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename={name}\n\n{}\n",
                    "x".repeat(*size)
                ))
                .collect::<String>()
        );
        let parsed = MessageParser::default()
            .parse(message.as_bytes())
            .expect("parsed");
        let described = attachments(&parsed, 10);
        let kept: Vec<(usize, bool)> = described
            .iter()
            .map(|attachment| (attachment.bytes, attachment.contents.is_empty()))
            .collect();
        assert_eq!(kept, [(6, false), (6, true), (3, false), (0, true)]);
        let reasons: Vec<Option<&str>> = described
            .iter()
            .map(|attachment| attachment.not_reentered.as_deref())
            .collect();
        assert_eq!(
            reasons,
            [
                None,
                Some("past the 32 MiB of attachments one message hands back"),
                None,
                Some("empty"),
            ]
        );
        let many = format!(
            "From: a@example.com\nSubject: many\nContent-Type: multipart/mixed; boundary=b\n\n{}--b--\n",
            "--b\nContent-Disposition: attachment; filename=x.bin\n\nx\n".repeat(MAX_REENTERED_ATTACHMENTS + 1)
        );
        let parsed = MessageParser::default()
            .parse(many.as_bytes())
            .expect("parsed");
        let described = attachments(&parsed, MAX_ATTACHMENT_BYTES);
        assert_eq!(described.len(), MAX_REENTERED_ATTACHMENTS + 1);
        assert!(described[..MAX_REENTERED_ATTACHMENTS]
            .iter()
            .all(|attachment| attachment.not_reentered.is_none()));
        assert_eq!(
            described[MAX_REENTERED_ATTACHMENTS]
                .not_reentered
                .as_deref(),
            Some("past the first 100 attachments of one message")
        );
    }

    #[test]
    fn an_html_only_body_is_read_for_what_it_shows() {
        let message = "From: a@example.com\nSubject: hi\nContent-Type: text/html\n\n<html><head><style>p{}</style></head><body><p>Hello <i>there</i></p><script>x()</script></body></html>\n";
        let document = extract(message.as_bytes()).expect("read");
        assert_eq!(
            document.text,
            "From: a@example.com\nSubject: hi\n\nHello there\n"
        );
        assert_eq!(document.mail.expect("details").bodies, ["text/html"]);
    }

    #[test]
    fn ten_thousand_nested_multiparts_are_read_without_recursion() {
        let levels = 10_000;
        let mut message = String::from("From: a@example.com\nSubject: deep\n");
        for level in 0..levels {
            message.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"b{level}\"\n\n--b{level}\n"
            ));
        }
        message.push_str("Content-Type: text/plain\n\nat the bottom\n");
        for level in (0..levels).rev() {
            message.push_str(&format!("--b{level}--\n"));
        }
        let document = extract(message.as_bytes()).expect("read");
        assert!(
            document.text.ends_with("\nat the bottom\n"),
            "{:?}",
            document.text
        );
    }

    #[test]
    fn messages_are_recognised_by_their_header_block() {
        assert!(looks_like(MESSAGE.as_bytes()));
        assert!(looks_like(b"From: a@example.com\nSubject: x\n\nbody"));
        assert!(!looks_like(b"From: me\nthese are notes, not a header\n"));
        assert!(!looks_like(b"Subject: only a subject\n\nbody"));
        let traced = format!(
            "Return-Path: <a@example.com>\n{}",
            "Received: from relay.example.com by mx.example.org; Tue, 3 Nov 2026 09:30:00 +0000\n"
                .repeat(20)
        );
        assert!(
            looks_like(&traced.as_bytes()[..1024]),
            "From is past the head"
        );
        assert!(!looks_like(b"Received: 5 boxes\n\nThanks"));
        assert!(!looks_like(
            b"# Title\n\nFrom: a@example.com\nDate: today\n"
        ));
    }
}

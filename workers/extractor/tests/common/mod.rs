//! Documents for the extractor's tests: generated PDFs, hostile ones, and corpus files.
// Each test crate uses its own part of this module.
#![allow(dead_code)]

use extractor::isolate::Limits;
use std::path::Path;
use std::time::Duration;

pub fn limits() -> Limits {
    Limits {
        memory_bytes: 1 << 30,
        timeout: Duration::from_secs(20),
        max_stream_bytes: 64 << 20,
    }
}

pub fn corpus_file(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/pdfs")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// A one-page PDF showing `text`, with a correct cross-reference table.
pub fn pdf(text: &str) -> Vec<u8> {
    pdf_with_content(
        format!("BT /F1 18 Tf 72 720 Td ({text}) Tj ET").as_bytes(),
        "",
    )
}

/// A one-page PDF whose content stream is `stream`, its dictionary extended by `filter`.
pub fn pdf_with_content(stream: &[u8], filter: &str) -> Vec<u8> {
    let mut content = format!("<< /Length {} {filter} >>\nstream\n", stream.len()).into_bytes();
    content.extend_from_slice(stream);
    content.extend_from_slice(b"\nendstream");
    let objects: [Vec<u8>; 5] = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_vec(),
        content,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (number, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", number + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A page whose content stream inflates to 100 MB of spaces.
pub fn inflation_bomb() -> Vec<u8> {
    let spaces = vec![b' '; 100 << 20];
    let mut deflater = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut deflater, &spaces).expect("compressed");
    let deflated = deflater.finish().expect("compressed");
    pdf_with_content(&deflated, "/Filter /FlateDecode")
}

/// A cross-reference table that claims 2^31 - 1 entries (with a trailer /Size to match) over
/// the two it has, in front of an empty page tree. A parser that sized its tables from the claim
/// would allocate gigabytes; lopdf 0.47 reads entries as they come, so the document fails, fast
/// and small, on its page tree.
pub fn huge_xref() -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let catalog = out.len();
    out.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    let pages = out.len();
    out.extend_from_slice(b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n");
    let xref = out.len();
    out.extend_from_slice(
        format!(
            "xref\n0 2147483647\n0000000000 65535 f \n{catalog:010} 00000 n \n{pages:010} 00000 n \n\
             trailer\n<< /Size 2147483647 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
    out
}

pub fn hostile_documents() -> Vec<(&'static str, Vec<u8>)> {
    let whole = pdf("soon to be cut short");
    let truncated = whole[..whole.len() / 3].to_vec();
    // Arrays nested far deeper than any document: a recursive parser runs out of stack.
    let mut bomb = b"%PDF-1.4\n1 0 obj\n".to_vec();
    bomb.extend(std::iter::repeat_n(b'[', 2_000_000));
    bomb.extend_from_slice(b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    vec![
        ("truncated", truncated),
        ("recursion bomb", bomb),
        ("huge xref", huge_xref()),
    ]
}

/// Ten documents: seven good ones (generated and from the corpus), then the three hostile ones.
pub fn ten_documents() -> Vec<(String, Vec<u8>)> {
    let mut documents: Vec<(String, Vec<u8>)> = (0..4)
        .map(|n| {
            (
                format!("generated {n}"),
                pdf(&format!("Document number {n}")),
            )
        })
        .collect();
    for name in [
        "samplefiles__minimal-document.pdf",
        "samplefiles__google-doc-document.pdf",
        "pdfjs__tracemonkey.pdf",
    ] {
        documents.push((name.to_owned(), corpus_file(name)));
    }
    for (name, bytes) in hostile_documents() {
        documents.push((name.to_owned(), bytes));
    }
    documents
}

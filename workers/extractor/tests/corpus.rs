//! Every real-world PDF of the corpus (when configured, see `testkit::corpus`): text (with
//! known phrases where we know them) or a clear failure. `generated.rs` covers the same cases
//! with documents the tests make.

use extractor::pdf::{extract, PdfError};
use std::panic::{catch_unwind, AssertUnwindSafe};

const LIMIT: usize = 64 << 20;

#[test]
fn every_corpus_pdf_gives_text_or_a_reason() {
    let Some(files) = testkit::corpus::files("pdfs") else {
        return;
    };
    let mut seen = 0;
    for path in files {
        let bytes = std::fs::read(&path).expect("readable");
        // lopdf may panic on crafted files; the worker contains that in a child process.
        let outcome = catch_unwind(AssertUnwindSafe(|| extract(&bytes, LIMIT)));
        let name = path.display();
        match outcome {
            Ok(Ok(pdf)) => assert_eq!(pdf.pages.len(), pdf.page_count, "{name}"),
            Ok(Err(err)) => assert!(!err.to_string().is_empty(), "{name}"),
            Err(_) => panic!("{name}: extraction panicked"),
        }
        seen += 1;
    }
    assert!(seen >= 20, "{seen} PDFs in the corpus");
}

#[test]
fn known_phrases_come_out_with_their_spaces() {
    if testkit::corpus::dir("pdfs").is_none() {
        return;
    }
    let cases = [
        (
            "samplefiles__google-doc-document.pdf",
            "Beautiful is better than ugly.",
        ),
        (
            "samplefiles__minimal-document.pdf",
            "Lorem ipsum dolor sit amet",
        ),
        ("pypdf__r6-empty-password.pdf", "password: asdfzxcv"),
        (
            "pdfjs__tracemonkey.pdf",
            "Trace-based Just-in-Time Type Specialization for Dynamic",
        ),
        (
            "pdfjs__TAMReview.pdf",
            "Working Papers on Information Systems",
        ),
    ];
    for (name, phrase) in cases {
        let pdf = extract(&corpus_file(name), LIMIT).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(
            pdf.text().contains(phrase),
            "{name} lacks {phrase:?}: {}",
            pdf.text().chars().take(300).collect::<String>()
        );
    }
}

#[test]
fn metadata_and_page_structure_are_reported() {
    if testkit::corpus::dir("pdfs").is_none() {
        return;
    }
    let freeculture = extract(&corpus_file("pdfjs__freeculture.pdf"), LIMIT).expect("readable");
    assert_eq!(freeculture.page_count, 352);
    let tracemonkey = extract(&corpus_file("pdfjs__tracemonkey.pdf"), LIMIT).expect("readable");
    assert_eq!(tracemonkey.page_count, 14);
    assert!(!tracemonkey.looks_scanned);
    assert!(
        tracemonkey.version.starts_with("1."),
        "{}",
        tracemonkey.version
    );

    let scanned = extract(
        &corpus_file("samplefiles__imagemagick-CCITTFaxDecode.pdf"),
        LIMIT,
    )
    .expect("readable");
    assert!(scanned.looks_scanned, "{scanned:?}");
    let labelled =
        extract(&corpus_file("samplefiles__imagemagick-images.pdf"), LIMIT).expect("readable");
    assert_eq!(labelled.image_only_pages, 2);
    assert_eq!(labelled.info.title.as_deref(), Some("imagemagick-images"));
    assert_eq!(
        labelled.info.producer.as_deref(),
        Some("https://imagemagick.org")
    );
}

#[test]
fn encryption_is_opened_with_the_empty_password_or_reported() {
    if testkit::corpus::dir("pdfs").is_none() {
        return;
    }
    let open = extract(&corpus_file("pypdf__r6-empty-password.pdf"), LIMIT).expect("opens");
    assert!(open.encrypted);
    assert_eq!(
        extract(&corpus_file("pypdf__r4-aes-user-password.pdf"), LIMIT),
        Err(PdfError::Encrypted)
    );
}

fn corpus_file(name: &str) -> Vec<u8> {
    testkit::corpus::file("pdfs", name).expect("the corpus is configured")
}

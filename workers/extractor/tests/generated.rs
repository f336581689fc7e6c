//! The real-world cases the corpus holds, made by the tests: multi-page compressed documents
//! with metadata, scanned pages, RC4 and AES-256 encryption with and without a password.

use extractor::pdf::{extract, PdfError};
use testkit::pdf::Built;

const LIMIT: usize = 64 << 20;

#[test]
fn pages_metadata_and_text_come_from_a_compressed_document() {
    let pdf = extract(
        &Built::pages(&["First page of three", "Second page", "Third page"])
            .info("Quarterly report", "Ada Lovelace")
            .save(),
        LIMIT,
    )
    .expect("readable");
    assert_eq!(pdf.page_count, 3);
    assert_eq!(pdf.pages.len(), 3);
    assert_eq!(pdf.pages[0].trim(), "First page of three");
    assert_eq!(pdf.pages[2].trim(), "Third page");
    assert_eq!(pdf.info.title.as_deref(), Some("Quarterly report"));
    assert_eq!(pdf.info.author.as_deref(), Some("Ada Lovelace"));
    assert_eq!(pdf.info.producer.as_deref(), Some("s3-triage testkit"));
    assert!(!pdf.encrypted && !pdf.looks_scanned);
    assert!(pdf.version.starts_with("1."), "{}", pdf.version);
}

#[test]
fn image_only_pages_look_scanned() {
    let pdf = extract(&Built::scanned().save(), LIMIT).expect("readable");
    assert_eq!(pdf.image_only_pages, 2);
    assert!(pdf.looks_scanned);
}

#[test]
fn encryption_is_opened_with_the_empty_password_or_reported() {
    for (cipher, bytes) in [
        ("RC4", Built::pages(&["password: asdfzxcv"]).rc4("").save()),
        (
            "AES-256",
            Built::pages(&["password: asdfzxcv"]).aes256("").save(),
        ),
    ] {
        let open = extract(&bytes, LIMIT).unwrap_or_else(|err| panic!("{cipher}: {err}"));
        assert!(open.encrypted, "{cipher}");
        assert!(
            open.text().contains("password: asdfzxcv"),
            "{cipher}: {:?}",
            open.text()
        );
    }
    for (cipher, bytes) in [
        ("RC4", Built::pages(&["secret"]).rc4("user").save()),
        ("AES-256", Built::pages(&["secret"]).aes256("user").save()),
    ] {
        assert_eq!(extract(&bytes, LIMIT), Err(PdfError::Encrypted), "{cipher}");
    }
}

#[test]
fn broken_documents_fail_with_a_reason() {
    for (name, bytes) in testkit::pdf::hostile_documents() {
        let err = extract(&bytes, LIMIT).expect_err(name);
        assert!(!err.to_string().is_empty(), "{name}");
    }
}

//! No false positives on real files: every file of the real-world corpus (when configured, see
//! `testkit::corpus`) and every generated document scanned, in chunks, with a signature set
//! that detects EICAR three ways (body, MD5, SHA-256), finds nothing; the same set finds EICAR
//! planted in a copy of a file's bytes (by body only: the file differs).

use compliance::scan::{FindingKind, Scanner, EICAR};
use compliance::signatures::SignatureSet;
use md5::{Digest as _, Md5};
use sha2::Sha256;
use worker_common::s3::hex;

fn eicar_signatures() -> Scanner {
    let mut set = SignatureSet::default();
    set.add_file("eicar.ndb", format!("Eicar.Body:0:*:{}\n", hex(EICAR)))
        .expect("ndb");
    set.add_file(
        "eicar.hsb",
        format!(
            "{}:68:Eicar.Md5\n{}:*:Eicar.Sha256\n",
            hex(&Md5::digest(EICAR)),
            hex(&Sha256::digest(EICAR))
        ),
    )
    .expect("hsb");
    Scanner::new(set).expect("compiled")
}

/// Scans `bytes` in 64 KiB chunks, as the checker streams an object.
fn findings_in(scanner: &Scanner, bytes: &[u8]) -> Vec<compliance::scan::Finding> {
    let mut scan = scanner.start(Some(bytes.len() as u64));
    for chunk in bytes.chunks(64 * 1024) {
        scan.update(chunk);
    }
    let report = scan.finish();
    assert_eq!(report.matches, report.findings.len() as u64);
    report.findings
}

#[test]
fn the_corpus_is_clean() {
    let scanner = eicar_signatures();
    let Some(mut files) = testkit::corpus::files("images") else {
        return;
    };
    files.extend(testkit::corpus::files("pdfs").expect("configured"));
    assert!(files.len() >= 48, "{} files", files.len());
    for path in &files {
        let bytes = std::fs::read(path).expect("readable");
        let findings = findings_in(&scanner, &bytes);
        assert!(findings.is_empty(), "{}: {findings:?}", path.display());
    }
}

#[test]
fn generated_documents_are_clean_and_planted_eicar_is_found() {
    let scanner = eicar_signatures();
    let documents = testkit::pdf::ten_documents();
    for (name, bytes) in &documents {
        let findings = findings_in(&scanner, bytes);
        assert!(findings.is_empty(), "{name}: {findings:?}");
    }

    let mut planted = documents[0].1.clone();
    let at = planted.len() / 2;
    planted.splice(at..at, EICAR.iter().copied());
    let findings = scanner.scan(&planted).findings;
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].kind, FindingKind::Body);
    assert_eq!(findings[0].offset, Some(at as u64));
    assert_eq!(
        scanner
            .scan(EICAR)
            .findings
            .iter()
            .map(|f| f.signature.as_str())
            .collect::<Vec<_>>(),
        [
            "Eicar.Body",
            "Eicar.Md5",
            "Eicar.Sha256",
            "Eicar-Test-Signature"
        ]
    );
}

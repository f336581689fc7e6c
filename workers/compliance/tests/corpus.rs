//! No false positives on real files: every file of ../shared/corpus scanned, in chunks, with a
//! signature set that detects EICAR three ways (body, MD5, SHA-256), finds nothing; the same
//! set finds EICAR planted in a copy of a corpus file's bytes (by body only: the file differs).

use compliance::scan::{FindingKind, Scanner, EICAR};
use compliance::signatures::SignatureSet;
use md5::{Digest as _, Md5};
use s3_io::hex;
use sha2::Sha256;
use std::path::PathBuf;

fn eicar_signatures() -> Scanner {
    let mut set = SignatureSet::default();
    set.add_file("eicar.ndb", &format!("Eicar.Body:0:*:{}\n", hex(EICAR)))
        .expect("ndb");
    set.add_file(
        "eicar.hsb",
        &format!(
            "{}:68:Eicar.Md5\n{}:*:Eicar.Sha256\n",
            hex(&Md5::digest(EICAR)),
            hex(&Sha256::digest(EICAR))
        ),
    )
    .expect("hsb");
    Scanner::new(set).expect("compiled")
}

fn corpus_files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let mut files = Vec::new();
    for kind in ["images", "pdfs"] {
        let dir = std::fs::read_dir(root.join(kind)).expect("the shared corpus is beside the repo");
        files.extend(dir.map(|entry| entry.expect("entry").path()));
    }
    files.sort();
    files
}

#[test]
fn the_corpus_is_clean_and_planted_eicar_is_found() {
    let scanner = eicar_signatures();
    let files = corpus_files();
    assert!(files.len() >= 48, "{} files", files.len());
    for path in &files {
        let bytes = std::fs::read(path).expect("readable");
        let mut scan = scanner.start(Some(bytes.len() as u64));
        for chunk in bytes.chunks(64 * 1024) {
            scan.update(chunk);
        }
        let findings = scan.finish();
        assert!(findings.is_empty(), "{}: {findings:?}", path.display());
    }

    let mut planted = std::fs::read(&files[0]).expect("readable");
    let at = planted.len() / 2;
    planted.splice(at..at, EICAR.iter().copied());
    let findings = scanner.scan(&planted);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].kind, FindingKind::Body);
    assert_eq!(findings[0].offset, Some(at as u64));
    assert_eq!(
        scanner
            .scan(EICAR)
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

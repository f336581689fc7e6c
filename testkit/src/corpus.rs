//! The real-world corpus (camera photos, decompression bombs, encrypted and broken PDFs from
//! public test suites), which the repository does not ship: tests over it run when
//! `TRIAGE_CORPUS_DIR` names a folder holding `images/` and `pdfs/` (`.ci/run` points it at
//! `../shared/corpus` when that exists; a relative path is taken from the repository root) and
//! otherwise say, on the terminal, that they skipped.
//! Generated files cover the important cases either way.

use std::io::Write;
use std::path::{Path, PathBuf};

pub const VARIABLE: &str = "TRIAGE_CORPUS_DIR";

/// The corpus folder of `kind` (`images`, `pdfs`), or `None` when no corpus is configured,
/// after printing that the calling test skips. A configured corpus that is not there fails the
/// test: a typo must not pass as a skip.
pub fn dir(kind: &str) -> Option<PathBuf> {
    let Some(root) = std::env::var_os(VARIABLE).filter(|root| !root.is_empty()) else {
        let test = std::thread::current()
            .name()
            .unwrap_or("a corpus test")
            .to_owned();
        // Straight to the terminal: the harness captures print! and eprint! of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "skipped {test}: no real-world corpus ({VARIABLE} is not set; point it at a folder with images/ and pdfs/, e.g. ../shared/corpus)"
        );
        return None;
    };
    // Tests run in their own package's folder: a relative path is taken from the repository's.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(root)
        .join(kind);
    assert!(
        dir.is_dir(),
        "{VARIABLE} names {}, which has no {kind}/ folder",
        dir.display()
    );
    Some(dir)
}

/// The files of the corpus folder of `kind`, sorted by name.
pub fn files(kind: &str) -> Option<Vec<PathBuf>> {
    let dir = dir(kind)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    Some(files)
}

/// One corpus file's bytes.
pub fn file(kind: &str, name: &str) -> Option<Vec<u8>> {
    let path = dir(kind)?.join(name);
    Some(std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display())))
}

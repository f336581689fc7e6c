//! Content validation: what a file really is (magic bytes) against what its key's extension
//! and its declared Content-Type claim; a deny list of kinds nobody should upload here
//! (executables, scripts, Office files with macros); zip-family archives judged from their
//! central directory, without extracting anything (compression-ratio and entry-count bombs,
//! encrypted entries, archives inside archives).

use infer::MatcherType;
use serde::Serialize;
use std::io::Cursor;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentPolicy {
    pub deny_executables: bool,
    pub deny_scripts: bool,
    pub deny_office_macros: bool,
    /// Uncompressed / compressed, over the whole archive, above which it is a bomb.
    pub max_compression_ratio: u64,
    pub max_archive_entries: usize,
}

impl Default for ContentPolicy {
    fn default() -> Self {
        Self {
            deny_executables: true,
            deny_scripts: true,
            deny_office_macros: true,
            max_compression_ratio: 100,
            max_archive_entries: 10_000,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ContentReport {
    /// The MIME type the bytes show.
    pub real_type: String,
    /// Claims the bytes contradict: "key says .pdf, content is image/png".
    pub mismatches: Vec<String>,
    /// Why the file is on the deny list.
    pub denied: Vec<String>,
    pub archive: Option<ArchiveReport>,
}

impl ContentReport {
    pub fn flagged(&self) -> bool {
        !self.mismatches.is_empty()
            || !self.denied.is_empty()
            || self
                .archive
                .as_ref()
                .is_some_and(|a| !a.problems.is_empty())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ArchiveReport {
    pub entries: usize,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub encrypted_entries: usize,
    pub nested_archives: usize,
    pub problems: Vec<String>,
}

/// The content type the bytes show, whatever the key or the uploader claimed.
pub fn sniff(head: &[u8]) -> &'static str {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type();
    }
    if head.is_empty() {
        "application/x-empty"
    } else if looks_like_text(head) {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

/// Whether bytes no magic number claims read as text: UTF-8, or a single-byte encoding
/// (Latin-1, Windows-1252), with no NUL and hardly any control characters but layout ones.
/// Formats that are text (HTML, XML, scripts) count as text.
pub fn looks_like_text(head: &[u8]) -> bool {
    let binary_format =
        infer::get(head).is_some_and(|kind| kind.matcher_type() != MatcherType::Text);
    if head.is_empty() || head.contains(&0) || binary_format {
        return false;
    }
    let controls = head
        .iter()
        .filter(|&&byte| byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    controls * 100 <= head.len()
}

pub fn validate(
    bytes: &[u8],
    key: &str,
    declared_type: Option<&str>,
    policy: &ContentPolicy,
) -> ContentReport {
    let real_type = sniff(bytes);
    let mut report = ContentReport {
        real_type: real_type.to_owned(),
        ..ContentReport::default()
    };
    let extension = key
        .rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, extension)| extension.to_ascii_lowercase());
    if let Some(extension) = &extension {
        if !extension_fits(extension, bytes, real_type) {
            report
                .mismatches
                .push(format!("key says .{extension}, content is {real_type}"));
        }
    }
    if let Some(declared) = declared_type.map(|t| t.split(';').next().unwrap_or(t).trim()) {
        let claims_nothing = matches!(
            declared,
            "" | "application/octet-stream" | "binary/octet-stream"
        );
        if !claims_nothing && !declared.eq_ignore_ascii_case(real_type) {
            report
                .mismatches
                .push(format!("declared {declared}, content is {real_type}"));
        }
    }
    if let Some(format) = executable_format(bytes).filter(|_| policy.deny_executables) {
        report.denied.push(format!("executable ({format})"));
    }
    if policy.deny_scripts && bytes.starts_with(b"#!") {
        let interpreter = bytes[2..]
            .split(|b| *b == b'\n')
            .next()
            .map(|line| String::from_utf8_lossy(line).trim().to_owned())
            .unwrap_or_default();
        report.denied.push(format!("script ({interpreter})"));
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        let archive = inspect_zip(bytes, policy);
        if policy.deny_office_macros && archive.1 {
            report
                .denied
                .push("Office document with macros (vbaProject.bin)".into());
        }
        report.archive = Some(archive.0);
    }
    report
}

/// The executable format the magic bytes announce. (Java's 0xCAFEBABE is left out: Mach-O
/// fat binaries share it with class files.)
fn executable_format(bytes: &[u8]) -> Option<&'static str> {
    const MACH_O: [[u8; 4]; 4] = [
        [0xfe, 0xed, 0xfa, 0xce],
        [0xfe, 0xed, 0xfa, 0xcf],
        [0xce, 0xfa, 0xed, 0xfe],
        [0xcf, 0xfa, 0xed, 0xfe],
    ];
    if bytes.starts_with(b"\x7fELF") {
        Some("ELF")
    } else if bytes.starts_with(b"MZ") {
        Some("PE/DOS")
    } else if MACH_O.iter().any(|magic| bytes.starts_with(magic)) {
        Some("Mach-O")
    } else {
        None
    }
}

/// Whether the key's extension names what the bytes are. Text-like extensions accept any
/// text; bytes of no known kind contradict nothing.
fn extension_fits(extension: &str, bytes: &[u8], real_type: &str) -> bool {
    const TEXT: &[&str] = &[
        "txt", "md", "markdown", "csv", "tsv", "json", "log", "xml", "html", "htm", "yaml", "yml",
    ];
    const ZIP_FAMILY: &[&str] = &[
        "zip", "jar", "docx", "xlsx", "pptx", "docm", "xlsm", "pptm", "odt", "ods", "odp", "epub",
        "apk",
    ];
    let canonical = |extension: &str| match extension {
        "jpeg" | "jpe" => "jpg".to_owned(),
        "tiff" => "tif".to_owned(),
        "docm" => "docx".to_owned(),
        "xlsm" => "xlsx".to_owned(),
        "pptm" => "pptx".to_owned(),
        other => other.to_owned(),
    };
    match real_type {
        "text/plain" | "application/x-empty" => TEXT.contains(&extension),
        "application/octet-stream" => true,
        "application/zip" => ZIP_FAMILY.contains(&extension),
        _ => infer::get(bytes)
            .is_some_and(|kind| canonical(kind.extension()) == canonical(extension)),
    }
}

/// The archive's central directory, and whether it holds a VBA project (Office macros).
fn inspect_zip(bytes: &[u8], policy: &ContentPolicy) -> (ArchiveReport, bool) {
    let mut report = ArchiveReport::default();
    let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(archive) => archive,
        Err(err) => {
            report
                .problems
                .push(format!("unreadable zip central directory: {err}"));
            return (report, false);
        }
    };
    report.entries = archive.len();
    if report.entries > policy.max_archive_entries {
        report.problems.push(format!(
            "{} entries, more than the {} allowed (an entry-count bomb?)",
            report.entries, policy.max_archive_entries
        ));
    }
    let mut macros = false;
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(index) else {
            report.problems.push(format!(
                "entry {index} of the central directory is unreadable"
            ));
            continue;
        };
        report.compressed_bytes += entry.compressed_size();
        report.uncompressed_bytes = report.uncompressed_bytes.saturating_add(entry.size());
        report.encrypted_entries += usize::from(entry.encrypted());
        let Ok(name) = entry.name().map(|name| name.to_ascii_lowercase()) else {
            report
                .problems
                .push(format!("entry {index} has a name that cannot be read"));
            continue;
        };
        macros |= name.ends_with("vbaproject.bin");
        let nested = [
            ".zip", ".jar", ".7z", ".rar", ".gz", ".tar", ".tgz", ".bz2", ".xz",
        ];
        report.nested_archives += usize::from(nested.iter().any(|ext| name.ends_with(ext)));
    }
    let ratio = report.uncompressed_bytes / report.compressed_bytes.max(1);
    if ratio > policy.max_compression_ratio {
        report.problems.push(format!(
            "expands {ratio}x ({} to {} bytes), more than {}x: a decompression bomb",
            report.compressed_bytes, report.uncompressed_bytes, policy.max_compression_ratio
        ));
    }
    if report.encrypted_entries > 0 {
        report.problems.push(format!(
            "{} encrypted entries cannot be checked",
            report.encrypted_entries
        ));
    }
    if report.nested_archives > 0 {
        report.problems.push(format!(
            "{} archives inside the archive are not checked",
            report.nested_archives
        ));
    }
    (report, macros)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip whose central directory lists `entries` as (name, general-purpose flags,
    /// compressed size, uncompressed size), with junk standing in for the compressed data.
    fn zip(entries: &[(&str, u16, u32, u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut directory = Vec::new();
        for &(name, flags, compressed, uncompressed) in entries {
            let offset = u32::try_from(out.len()).expect("small");
            let fields = |out: &mut Vec<u8>| {
                out.extend_from_slice(&20u16.to_le_bytes());
                out.extend_from_slice(&flags.to_le_bytes());
                out.extend_from_slice(&8u16.to_le_bytes());
                out.extend_from_slice(&[0; 8]); // time, date, crc
                out.extend_from_slice(&compressed.to_le_bytes());
                out.extend_from_slice(&uncompressed.to_le_bytes());
                out.extend_from_slice(&u16::try_from(name.len()).expect("short").to_le_bytes());
                out.extend_from_slice(&0u16.to_le_bytes());
            };
            out.extend_from_slice(b"PK\x03\x04");
            fields(&mut out);
            out.extend_from_slice(name.as_bytes());
            out.resize(out.len() + compressed as usize, 0x55);
            directory.extend_from_slice(b"PK\x01\x02\x14\x00");
            fields(&mut directory);
            directory.extend_from_slice(&[0; 10]); // comment length, disk, attributes
            directory.extend_from_slice(&offset.to_le_bytes());
            directory.extend_from_slice(name.as_bytes());
        }
        let count = u16::try_from(entries.len()).expect("few").to_le_bytes();
        let at = u32::try_from(out.len()).expect("small").to_le_bytes();
        let size = u32::try_from(directory.len()).expect("small").to_le_bytes();
        out.extend_from_slice(&directory);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&[count, count].concat());
        out.extend_from_slice(&[size, at].concat());
        out.extend_from_slice(&[0, 0]);
        out
    }

    fn check(bytes: &[u8], key: &str) -> ContentReport {
        validate(bytes, key, None, &ContentPolicy::default())
    }

    #[test]
    fn each_denied_kind_is_named() {
        let cases: [(&[u8], &str); 4] = [
            (
                b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0",
                "executable (ELF)",
            ),
            (
                b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff",
                "executable (PE/DOS)",
            ),
            (
                b"\xcf\xfa\xed\xfe\x07\0\0\x01\x03\0\0\0",
                "executable (Mach-O)",
            ),
            (b"#!/bin/sh\nrm -rf /\n", "script (/bin/sh)"),
        ];
        for (bytes, denied) in cases {
            let report = check(bytes, "uploads/compliance/file");
            assert_eq!(report.denied, [denied], "{report:?}");
            assert!(report.flagged());
        }
        let macros = zip(&[
            ("[Content_Types].xml", 0, 10, 20),
            ("word/vbaProject.bin", 0, 100, 300),
        ]);
        let report = check(&macros, "uploads/compliance/invoice.docm");
        assert_eq!(
            report.denied,
            ["Office document with macros (vbaProject.bin)"]
        );
    }

    #[test]
    fn claims_the_bytes_contradict_are_mismatches() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";
        let report = validate(
            png,
            "uploads/compliance/report.pdf",
            Some("application/pdf"),
            &ContentPolicy::default(),
        );
        assert_eq!(
            report.mismatches,
            [
                "key says .pdf, content is image/png",
                "declared application/pdf, content is image/png"
            ]
        );
        let fine = validate(
            png,
            "uploads/compliance/photo.PNG",
            Some("image/png"),
            &ContentPolicy::default(),
        );
        assert!(!fine.flagged(), "{fine:?}");
        assert!(!check(b"name,email\n", "uploads/compliance/customers.csv").flagged());
        assert!(!check(b"plain words", "uploads/compliance/no-extension").flagged());
    }

    #[test]
    fn archives_are_judged_from_their_central_directory() {
        let fine = check(
            &zip(&[("a.txt", 0, 100, 400), ("b.txt", 0, 50, 60)]),
            "uploads/compliance/a.zip",
        );
        let archive = fine.archive.clone().expect("inspected");
        assert_eq!(
            (
                archive.entries,
                archive.compressed_bytes,
                archive.uncompressed_bytes
            ),
            (2, 150, 460)
        );
        assert!(!fine.flagged(), "{fine:?}");

        let bomb = check(
            &zip(&[("zeros.bin", 0, 1_000, 1_000_000_000)]),
            "uploads/compliance/bomb.zip",
        );
        let problems = bomb.archive.expect("inspected").problems;
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("1000000x") && problems[0].contains("decompression bomb"),
            "{problems:?}"
        );

        let encrypted = check(
            &zip(&[("secret.txt", 1, 10, 10), ("inner.zip", 0, 10, 10)]),
            "uploads/compliance/box.zip",
        );
        assert_eq!(
            encrypted.archive.expect("inspected").problems,
            [
                "1 encrypted entries cannot be checked",
                "1 archives inside the archive are not checked"
            ]
        );

        let many: Vec<(String, u16, u32, u32)> =
            (0..12).map(|n| (format!("{n}.txt"), 0, 1, 1)).collect();
        let many: Vec<(&str, u16, u32, u32)> = many
            .iter()
            .map(|(n, f, c, u)| (n.as_str(), *f, *c, *u))
            .collect();
        let policy = ContentPolicy {
            max_archive_entries: 10,
            ..ContentPolicy::default()
        };
        let crowded = validate(&zip(&many), "uploads/compliance/many.zip", None, &policy);
        assert!(crowded.archive.expect("inspected").problems[0].starts_with("12 entries"));
    }

    #[test]
    fn content_type_comes_from_the_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), "application/pdf");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0\x08\0"), "application/zip");
        assert_eq!(sniff("plain text, caf\u{e9}".as_bytes()), "text/plain");
        assert_eq!(sniff(&"é".as_bytes()[..1]), "text/plain");
        assert_eq!(sniff(&[0, 1, 2, 3, 0xff, 0xfe]), "application/octet-stream");
        assert_eq!(sniff(b""), "application/x-empty");
    }
}

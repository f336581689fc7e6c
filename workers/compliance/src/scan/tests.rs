use super::*;
use testkit::archives::{gzip, tar, zip, Method, ZipStyle};
use testkit::documents::base64_lines;
use worker_common::s3::hex;

fn compiled_files(files: &[(&str, &str)]) -> Scanner {
    let mut set = SignatureSet::default();
    for (file, text) in files {
        set.add_file(file, text).expect("valid signatures");
    }
    Scanner::new(set).expect("compiled")
}

fn compiled(ndb: &str, hsb: &str) -> Scanner {
    compiled_files(&[("test.ndb", ndb), ("test.hsb", hsb)])
}

/// Scans `bytes` in chunks of `chunk` bytes.
fn scan_in(scanner: &Scanner, bytes: &[u8], chunk: usize, size_known: bool) -> ScanReport {
    let mut scan = scanner.start_named("object", size_known.then_some(bytes.len() as u64));
    for piece in bytes.chunks(chunk.max(1)) {
        scan.update(piece);
    }
    scan.finish()
}

fn names(report: &ScanReport) -> Vec<(&str, Option<u64>)> {
    report
        .findings
        .iter()
        .map(|f| (f.signature.as_str(), f.offset))
        .collect()
}

/// Each finding's signature and the entry it was found in.
fn by_entry(report: &ScanReport) -> Vec<(&str, Option<&str>)> {
    report
        .findings
        .iter()
        .map(|f| (f.signature.as_str(), f.entry.as_deref()))
        .collect()
}

/// The signatures found in `bytes`, whatever the chunking and whether the size is known.
fn detected(scanner: &Scanner, bytes: &[u8]) -> Vec<String> {
    let reference = scan_in(scanner, bytes, 64 << 10, true).signatures;
    for chunk in [1, 7, 1000] {
        for size_known in [true, false] {
            assert_eq!(
                scan_in(scanner, bytes, chunk, size_known).signatures,
                reference,
                "chunks of {chunk}, size known: {size_known}"
            );
        }
    }
    reference
}

/// `filler` bytes (never matching anything below) with `parts` placed at offsets.
fn file_with(len: usize, parts: &[(usize, &[u8])]) -> Vec<u8> {
    let mut file = vec![b'.'; len];
    for (at, bytes) in parts {
        file[*at..*at + bytes.len()].copy_from_slice(bytes);
    }
    file
}

#[test]
fn eicar_is_detected_per_its_specification() {
    let scanner = compiled("", "");
    let detected = |bytes: &[u8]| {
        scanner
            .scan(bytes)
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Eicar)
    };
    assert!(detected(EICAR));
    assert!(detected(&[EICAR, b" \t\r\n\x1a"].concat()));
    assert!(detected(&[EICAR, &[b' '; 60]].concat()), "128 bytes in all");
    assert!(!detected(&[EICAR, &[b' '; 61]].concat()), "129 bytes");
    assert!(!detected(&[b"prefix ", EICAR].concat()), "not at the start");
    assert!(!detected(&[EICAR, b"trailing text"].concat()));
    assert!(!detected(&EICAR[..67]));
}

#[test]
fn a_pattern_split_across_chunks_is_found_at_its_offset() {
    let scanner = compiled("Split.Test:0:*:0102030405060708\n", "");
    let mut file = vec![0u8; 10_000];
    file[4_094..4_102].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    for chunk_size in [1, 3, 7, 4_096, 10_000] {
        assert_eq!(
            names(&scan_in(&scanner, &file, chunk_size, false)),
            [("Split.Test", Some(4_094))],
            "chunks of {chunk_size}"
        );
    }
}

#[test]
fn overlapping_matches_are_all_reported() {
    // "abab", "babc", "ab" anywhere; "ab" only at offset 2 (never) and at offset 3.
    let scanner = compiled(
        "A:0:*:61626162\nB:0:*:62616263\nC:0:*:6162\nAtTwo:0:2:6162\nAtThree:0:3:6162\n",
        "",
    );
    let report = scan_in(&scanner, b"xabababc", 3, true);
    let mut found = names(&report);
    found.sort();
    assert_eq!(
        found,
        [
            ("A", Some(1)),
            ("A", Some(3)),
            ("AtThree", Some(3)),
            ("B", Some(4)),
            ("C", Some(1)),
            ("C", Some(3)),
            ("C", Some(5)),
        ]
    );
}

#[test]
fn every_wildcard_form_matches_what_clamav_documents() {
    // Each signature with a file that holds it and one that nearly does.
    let cases: &[(&str, &[u8], &[u8])] = &[
        ("Any:0:*:4142??4445", b"AB\x00DE", b"AB\x00DF"),
        ("High:0:*:41424?", b"ABO", b"ABP"),
        ("Low:0:*:4142?3", b"ABS", b"ABT"),
        ("Fixed:0:*:4142{3}4546", b"ABxyzEF", b"ABxyEF"),
        (
            "Star:0:*:41424344*45464748",
            b"ABCD..long way..EFGH",
            b"EFGH then ABCD",
        ),
        (
            "Upto:0:*:41424344{-4}45464748",
            b"ABCD1234EFGH",
            b"ABCD12345EFGH",
        ),
        (
            "Atleast:0:*:41424344{4-}45464748",
            b"ABCD1234EFGH",
            b"ABCD123EFGH",
        ),
        (
            "Between:0:*:41424344{2-3}45464748",
            b"ABCD12EFGH",
            b"ABCD1EFGH",
        ),
        (
            "Between:0:*:41424344{2-3}45464748",
            b"ABCD123EFGH",
            b"ABCD1234EFGH",
        ),
        ("Alt:0:*:4142(4344|5859)4546", b"ABXYEF", b"ABXCEF"),
        ("Not:0:*:41424344!(45|46)4748", b"ABCDZGH", b"ABCDEGH"),
        (
            "Chain:0:*:4142*4344{1-2}4546*4748",
            b"AB..CD.EF..GH",
            b"AB..CD...EF..GH",
        ),
    ];
    for (signature, yes, no) in cases {
        let scanner = compiled(&format!("{signature}\n"), "");
        let name = signature.split(':').next().expect("named");
        let positive = file_with(3000, &[(1500, yes)]);
        assert_eq!(
            detected(&scanner, &positive),
            [name],
            "{signature} in {yes:?}"
        );
        let negative = file_with(3000, &[(1500, no)]);
        assert!(
            detected(&scanner, &negative).is_empty(),
            "{signature} in {no:?}"
        );
    }
}

#[test]
fn offsets_and_target_types_narrow_where_a_match_counts() {
    let scanner = compiled(
        "AtTen:0:10:41424344\nFloating:0:10,5:45464748\nNearEnd:0:EOF-8:494a4b4c\n\
         PeOnly:1:*:50515253\nEndChain:0:EOF-20:5a5a*5a5b\n",
        "",
    );
    let text = file_with(
        100,
        &[(10, b"ABCD"), (14, b"EFGH"), (92, b"IJKL"), (40, b"PQRS")],
    );
    assert_eq!(detected(&scanner, &text), ["AtTen", "Floating", "NearEnd"]);
    let moved = file_with(100, &[(11, b"ABCD"), (20, b"EFGH"), (91, b"IJKL")]);
    assert!(detected(&scanner, &moved).is_empty());
    let mut pe = text.clone();
    pe[..2].copy_from_slice(b"MZ");
    assert!(detected(&scanner, &pe).contains(&"PeOnly".to_owned()));
    let chained = file_with(100, &[(80, b"ZZ"), (95, b"Z[")]);
    assert_eq!(detected(&scanner, &chained), ["EndChain"]);
}

#[test]
fn logical_signatures_combine_their_subsignatures() {
    let scanner = compiled_files(&[(
        "test.ldb",
        "Both;Target:0;0&1;41414141;42424242\n\
         Twice;Target:0;0=2;43434343\n\
         Distinct;Target:0;(0|1|2)>2,2;44444444;45454545;46464646\n\
         Sized;Target:0,FileSize:100-200;0;47474747\n\
         Offset;Target:0;0&1;0:48484848;EOF-4:49494949\n\
         Elf;Target:6;0;4a4a4a4a\n",
    )]);
    let check = |len: usize, parts: &[(usize, &[u8])], expected: &[&str]| {
        assert_eq!(
            detected(&scanner, &file_with(len, parts)),
            expected,
            "{parts:?}"
        );
    };
    check(300, &[(10, b"AAAA"), (200, b"BBBB")], &["Both"]);
    check(300, &[(10, b"AAAA")], &[]);
    check(300, &[(10, b"CCCC"), (50, b"CCCC")], &["Twice"]);
    check(300, &[(10, b"CCCC"), (50, b"CCCC"), (90, b"CCCC")], &[]);
    check(
        300,
        &[(10, b"DDDD"), (20, b"DDDD"), (30, b"EEEE")],
        &["Distinct"],
    );
    check(300, &[(10, b"DDDD"), (20, b"DDDD"), (30, b"DDDD")], &[]);
    check(150, &[(10, b"GGGG")], &["Sized"]);
    check(300, &[(10, b"GGGG")], &[]);
    check(300, &[(0, b"HHHH"), (296, b"IIII")], &["Offset"]);
    check(300, &[(1, b"HHHH"), (296, b"IIII")], &[]);
    check(300, &[(0, b"\x7fELF"), (100, b"JJJJ")], &["Elf"]);
    check(300, &[(100, b"JJJJ")], &[]);
}

#[test]
fn hash_blocklists_match_with_and_without_a_size() {
    let file = b"a file on the blocklist".as_slice();
    let md5 = hex(&Md5::digest(file));
    let sha = hex(&Sha256::digest(file));
    let scanner = compiled(
        "",
        &format!(
            "{md5}:{}:Md5.Sized\n{sha}:*:Sha.Any\n{md5}:999:Md5.Wrong.Size\n",
            file.len()
        ),
    );
    let findings = scanner.scan(file);
    let mut found = names(&findings);
    found.sort();
    assert_eq!(found, [("Md5.Sized", None), ("Sha.Any", None)]);
    assert!(scanner.scan(b"another file").is_clean());
    // Only hashes some signature could match a file of the size are computed.
    let sized = self::compiled("", &format!("{md5}:{}:Md5.Sized\n", file.len()));
    assert!(matches!(sized.start(Some(5)).file.hashing, Hashing::None));
    assert!(!matches!(sized.start(None).file.hashing, Hashing::None));
    let mut scan = sized.start(Some(file.len() as u64));
    scan.update(file);
    assert_eq!(names(&scan.finish()), [("Md5.Sized", None)]);
}

#[test]
fn matches_beyond_the_kept_findings_are_counted_in_flat_memory() {
    let scanner = compiled("Repeat:0:*:41424344\nOther:0:*:5a5a5a5a\n", "");
    let mut scan = scanner.start(None);
    let chunk = b"ABCD".repeat(16 << 10);
    for _ in 0..64 {
        scan.update(&chunk);
    }
    scan.update(b"ZZZZ");
    let report = scan.finish();
    assert_eq!(report.matches, 64 * (16 << 10) + 1);
    assert_eq!(report.findings.len(), MAX_FINDINGS_KEPT);
    assert_eq!(report.findings[1].offset, Some(4));
    assert_eq!(report.signatures, ["Other", "Repeat"]);
}

/// EICAR, a body signature with wildcards and a hash signature, each in its own file.
fn archive_scanner() -> (Scanner, Vec<u8>) {
    let hashed = b"a file known by its hash".to_vec();
    let scanner = compiled(
        "Wild.Body:0:*:4d414c57{2-4}415245\n",
        &format!(
            "{}:{}:Known.Hash\n",
            hex(&Md5::digest(&hashed)),
            hashed.len()
        ),
    );
    (scanner, hashed)
}

#[test]
fn eicar_in_a_zip_in_a_tar_gz_is_found_and_named_by_path() {
    let (scanner, hashed) = archive_scanner();
    for style in [
        ZipStyle::DEFLATE,
        ZipStyle::STORED,
        ZipStyle {
            data_descriptor: true,
            ..ZipStyle::DEFLATE
        },
    ] {
        let inner = zip(
            &[
                ("readme.txt", b"nothing here".as_slice()),
                ("eicar.com", EICAR),
                ("dir/tool.bin", b"..MALW12ARE.."),
                ("known.dat", &hashed),
            ],
            style,
        );
        let outer = gzip(
            &tar(&[("notes.txt", b"plain"), ("eicar.zip", &inner)]),
            None,
        );
        let mut scan = scanner.start_named("upload.tar.gz", Some(outer.len() as u64));
        for chunk in outer.chunks(333) {
            scan.update(chunk);
        }
        let report = scan.finish();
        let found = by_entry(&report);
        assert_eq!(
            found[..3],
            [
                (
                    "Eicar-Test-Signature",
                    Some("upload.tar!eicar.zip!eicar.com")
                ),
                ("Wild.Body", Some("upload.tar!eicar.zip!dir/tool.bin")),
                ("Known.Hash", Some("upload.tar!eicar.zip!known.dat")),
            ],
            "{style:?}"
        );
        // A stored entry's bytes are also in its containers, where they match too.
        let containers = [
            ("Wild.Body", Some("upload.tar!eicar.zip")),
            ("Wild.Body", Some("upload.tar")),
        ];
        let expected_more = if style.method == Method::Stored {
            &containers[..]
        } else {
            &[]
        };
        assert_eq!(found[3..], *expected_more, "{style:?}");
        assert!(report.not_scanned.is_empty(), "{:?}", report.not_scanned);
        assert_eq!(
            report.entries,
            1 + 2 + 4,
            "gzip content, tar entries, zip entries"
        );
    }
}

#[test]
fn archives_nested_past_the_depth_limit_are_reported_not_unpacked() {
    let (scanner, _) = archive_scanner();
    let scanner = scanner.with_limits(Limits {
        max_depth: 3,
        ..Limits::default()
    });
    let three_deep = gzip(
        &tar(&[("in.zip", &zip(&[("e.com", EICAR)], ZipStyle::DEFLATE))]),
        None,
    );
    let report = scanner.scan(&three_deep);
    assert_eq!(report.signatures, [EICAR_NAME]);
    let four_deep = gzip(&three_deep, Some("three.tar.gz"));
    let report = scanner.scan(&four_deep);
    assert!(report.is_clean());
    assert_eq!(report.not_scanned.len(), 1);
    let note = &report.not_scanned[0];
    assert_eq!(note.entry, "three.tar.gz!three.tar!in.zip");
    assert_eq!(
        note.reason,
        "a zip nested 3 archives deep: not unpacked (limit 3)"
    );
}

#[test]
fn a_zip_bomb_is_stopped_by_a_limit_that_says_so() {
    let (scanner, _) = archive_scanner();
    let zeros = vec![0u8; 64 << 20];
    let bomb = zip(
        &[("zeros.bin", &zeros), ("eicar.com", EICAR)],
        ZipStyle::DEFLATE,
    );
    assert!(bomb.len() < 128 << 10, "{} bytes", bomb.len());
    let report = scanner.scan(&bomb);
    assert!(report.is_clean(), "the scan stopped before EICAR");
    assert_eq!(report.not_scanned.len(), 1);
    assert_eq!(report.not_scanned[0].entry, "zeros.bin");
    assert_eq!(
        report.not_scanned[0].reason,
        "unpacks over 200:1 (a decompression bomb?): the rest is not scanned"
    );
    assert!(report.unpacked_bytes < 2 << 20, "{}", report.unpacked_bytes);

    let small = scanner.with_limits(Limits {
        max_unpacked_bytes: 1 << 20,
        max_ratio: u64::MAX,
        ..Limits::default()
    });
    let report = small.scan(&bomb);
    assert!(report.not_scanned[0]
        .reason
        .starts_with("the unpacked-size limit (1 MiB"));
    let many = small.with_limits(Limits {
        max_entries: 2,
        ..Limits::default()
    });
    let files: Vec<(String, Vec<u8>)> = (0..5).map(|n| (format!("f{n}"), vec![b'x'; 10])).collect();
    let entries: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let report = many.scan(&tar(&entries));
    assert_eq!(report.entries, 2);
    assert!(report.not_scanned[0]
        .reason
        .starts_with("more than 2 archive entries"));
}

#[test]
fn encrypted_and_damaged_entries_are_reported() {
    let (scanner, _) = archive_scanner();
    let encrypted = zip(
        &[("secret.exe", b"ciphertext"), ("eicar.com", EICAR)],
        ZipStyle {
            encrypted: true,
            ..ZipStyle::STORED
        },
    );
    let report = scanner.scan(&encrypted);
    let notes: Vec<(&str, &str)> = report
        .not_scanned
        .iter()
        .map(|n| (n.entry.as_str(), n.reason.as_str()))
        .collect();
    assert_eq!(
        notes,
        [
            ("secret.exe", "encrypted: not scanned"),
            ("eicar.com", "encrypted: not scanned")
        ]
    );
    let noise: Vec<u8> = (0..50_000u32)
        .map(|n| (n.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut cut = zip(&[("big.txt", &noise)], ZipStyle::DEFLATE);
    cut.truncate(200);
    let report = scanner.scan(&cut);
    assert_eq!(report.not_scanned[0].entry, "big.txt");
    assert!(report.not_scanned[0].reason.contains("truncated"));
    let mut spliced = zip(&[("a.txt", b"first".as_slice())], ZipStyle::DEFLATE);
    let directory = spliced
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .expect("a central directory");
    spliced.splice(
        directory..directory,
        b"not a header at all, 30 bytes+".iter().copied(),
    );
    let report = scanner.scan(&spliced);
    assert_eq!(report.entries, 1);
    assert!(
        report.not_scanned[0]
            .reason
            .starts_with("bytes that are not a zip entry header at byte"),
        "{:?}",
        report.not_scanned
    );
    let report = scanner.scan(&cut[..20]);
    assert_eq!(
        report.not_scanned[0].reason,
        "the archive ends inside a header: truncated"
    );
    let mut padded = gzip(EICAR, None);
    padded.extend_from_slice(&[0; 5]);
    let report = scanner.scan(&padded);
    assert_eq!(report.signatures, [EICAR_NAME]);
    assert!(
        report.not_scanned.is_empty(),
        "padding after a member is not damage"
    );
    let mut unnamed = gzip(b"content", Some(&"n".repeat(5000)));
    unnamed.truncate(6000);
    let report = scanner.scan(&unnamed);
    assert!(report.not_scanned[0]
        .reason
        .starts_with("a gzip name or comment over 4 KiB"));
}

#[test]
fn a_large_entry_arrives_whole_through_every_layer() {
    let content: Vec<u8> = (0..3_000_000u32)
        .map(|n| (n.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let signature = format!(
        "{}:{}:Whole.Entry\n",
        hex(&Md5::digest(&content)),
        content.len()
    );
    // Inflated bytes alone count against the limit: a tar's entry is its container's bytes.
    let scanner = compiled("", &signature).with_limits(Limits {
        max_unpacked_bytes: 5 << 20,
        ..Limits::default()
    });
    for (name, archive) in [
        ("tar", tar(&[("big.bin", &content)])),
        ("gzip", gzip(&content, Some("big.bin"))),
        ("tar.gz", gzip(&tar(&[("big.bin", &content)]), None)),
        ("zip", zip(&[("big.bin", &content)], ZipStyle::DEFLATE)),
    ] {
        for chunk in [1 << 20, 65_536, 4_099] {
            let report = scan_in(&scanner, &archive, chunk, true);
            assert_eq!(
                report.signatures,
                ["Whole.Entry"],
                "{name} in chunks of {chunk}"
            );
        }
    }
}

/// A message as a mail client writes it: `parts` (content type, transfer encoding, file name,
/// encoded body) in a multipart/mixed, lines ending in `newline`.
fn message(parts: &[(&str, &str, &str, &str)], newline: &str) -> Vec<u8> {
    let mut text = String::from(
        "Return-Path: <ada@example.com>\nReceived: from mx.example.com by mail.example.org\nFrom: Ada <ada@example.com>\nSubject: files\nMIME-Version: 1.0\nContent-Type: multipart/mixed;\n boundary=\"outer\"\n\npreamble\n",
    );
    for (content_type, encoding, name, body) in parts {
        text.push_str(&format!(
            "--outer\nContent-Type: {content_type}\nContent-Transfer-Encoding: {encoding}\nContent-Disposition: attachment; filename=\"{name}\"\n\n{body}\n"
        ));
    }
    text.push_str("--outer--\nepilogue\n");
    text.replace('\n', newline).into_bytes()
}

#[test]
fn an_e_mails_attachments_are_decoded_and_scanned_as_files_of_their_own() {
    let (scanner, hashed) = archive_scanner();
    for newline in ["\n", "\r\n"] {
        let mail = message(
            &[
                (
                    "text/plain; charset=utf-8",
                    "7bit",
                    "note.txt",
                    "nothing here",
                ),
                (
                    "application/octet-stream",
                    "base64",
                    "eicar.com",
                    &base64_lines(EICAR),
                ),
                // Unpadded, and split into short lines.
                (
                    "application/octet-stream",
                    "base64",
                    "known.dat",
                    &base64_lines(&hashed)
                        .trim_end_matches('=')
                        .replace("Zm", "Zm\n"),
                ),
                // Soft line breaks inside the signature's bytes.
                (
                    "text/plain",
                    "quoted-printable",
                    "tool.txt",
                    "..MA=\nLW12=41RE..=3D",
                ),
            ],
            newline,
        );
        assert_eq!(
            detected(&scanner, &mail),
            ["Eicar-Test-Signature", "Known.Hash", "Wild.Body"],
            "{newline:?}"
        );
        let report = scanner.scan(&mail);
        let found = by_entry(&report);
        assert_eq!(
            found,
            [
                ("Eicar-Test-Signature", Some("eicar.com")),
                ("Known.Hash", Some("known.dat")),
                ("Wild.Body", Some("tool.txt")),
            ],
            "{newline:?}"
        );
        assert_eq!(report.entries, 4);
        assert!(report.not_scanned.is_empty(), "{:?}", report.not_scanned);
    }
}

#[test]
fn a_zip_in_a_forwarded_message_is_unpacked_through_both() {
    let (scanner, _) = archive_scanner();
    let inner = message(
        &[(
            "application/zip",
            "base64",
            "tools.zip",
            &base64_lines(&zip(&[("eicar.com", EICAR)], ZipStyle::DEFLATE)),
        )],
        "\n",
    );
    // Its own boundary, as every mail client makes one per message.
    let inner = String::from_utf8_lossy(&inner).replace("outer", "inner");
    let outer = String::from_utf8(message(
        &[("message/rfc822", "7bit", "fwd.eml", &inner)],
        "\r\n",
    ))
    .expect("text");
    let report = scanner.scan(outer.as_bytes());
    let found = by_entry(&report);
    assert_eq!(
        found,
        [("Eicar-Test-Signature", Some("fwd.eml!tools.zip!eicar.com"))]
    );
    assert!(report.not_scanned.is_empty(), "{:?}", report.not_scanned);
}

#[test]
fn text_that_is_not_a_message_is_not_unpacked() {
    let (scanner, _) = archive_scanner();
    for text in [
        "name: report\nversion: 2\n\nplain text\n".as_bytes(),
        b"Subject: notes\n\nSGVsbG8=\n",
    ] {
        let report = scanner.scan(text);
        assert_eq!(report.entries, 0, "{}", String::from_utf8_lossy(text));
    }
}

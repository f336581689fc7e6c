//! ClamAV's database containers, as freshclam, cvdupdate or a private mirror write them: a
//! 512-byte header `ClamAV-VDB:built:version:signatures:level:MD5:dsig:builder:time`, then a
//! tar archive of signature files, gzip-compressed in a `.cvd` and (usually) plain in a `.cld`.
//!
//! Offline, a `.cvd`'s MD5 (of everything after the header) is verified; a mismatch is a
//! damaged download and fails the load. The RSA digital signature (`dsig`) needs Talos' key
//! and its own padding scheme: it is recorded, not verified. A `.cld`'s MD5 describes the
//! `.cvd` it was updated from, so it is not checked.
//!
//! Inside, `.hdb`, `.hsb`, `.ndb` and `.ldb` files load as when given alone; every other
//! signature file (`.mdb`, `.cbc`, `.fp`, `.ign2`, `.pdb`, ...) is skipped and its lines counted
//! under its extension.

use super::{format_of, Format, SignatureError, SignatureSet};
use crate::scan::archive::{padding, TarHeader};
use md5::{Digest, Md5};
use serde::Serialize;
use std::io::{self, BufReader, Read};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Database {
    pub file: String,
    pub version: u64,
    /// The build time as the header writes it (`07 Dec 2026 09-41 +0000`).
    pub built: String,
    /// What the header says the database holds.
    pub signatures: u64,
    pub functionality_level: u64,
    pub builder: String,
    /// What was checked offline: `md5` for a `.cvd`, `none` for a `.cld`.
    pub verified: &'static str,
}

/// Signature files in a database this loader does not read: counted, not loaded.
const SKIPPED_FILES: &[&str] = &[
    "mdb", "msb", "mdu", "msu", "hdu", "hsu", "ndu", "ldu", "cbc", "fp", "sfp", "ign", "ign2",
    "ftm", "cdb", "crb", "idb", "pdb", "gdb", "wdb", "imp", "yar", "yara", "pwdb", "zmd", "rmd",
];

pub fn read_database(
    file: &str,
    reader: &mut dyn Read,
    set: &mut SignatureSet,
) -> Result<Database, SignatureError> {
    let fail = |reason: String| SignatureError {
        file: file.into(),
        line: 0,
        reason,
    };
    let mut header = [0u8; 512];
    reader
        .read_exact(&mut header)
        .map_err(|_| fail("shorter than the 512-byte ClamAV database header".into()))?;
    let (mut database, expected) = parse_header(file, &header).map_err(fail)?;
    let mut hashed = Hashed {
        inner: reader,
        md5: Md5::new(),
    };
    let mut magic = [0u8; 2];
    hashed
        .read_exact(&mut magic)
        .map_err(|_| fail("no archive after the header".into()))?;
    let body = (&magic[..]).chain(&mut hashed);
    if magic == [0x1f, 0x8b] {
        let mut gunzip = flate2::read::GzDecoder::new(body);
        read_tar(file, &mut gunzip, set)?;
        io::copy(&mut gunzip.into_inner(), &mut io::sink()).map_err(|err| fail(damaged(err)))?;
        let digest = worker_common::s3::hex(&hashed.md5.finalize());
        if !digest.eq_ignore_ascii_case(&expected) {
            return Err(fail(format!(
                "MD5 {digest} differs from the header's {expected}: the database is damaged; \
                 download it again"
            )));
        }
        database.verified = "md5";
    } else {
        read_tar(file, body, set)?;
    }
    Ok(database)
}

/// The database's description, and the MD5 its header gives for what follows.
fn parse_header(file: &str, header: &[u8]) -> Result<(Database, String), String> {
    let text = String::from_utf8_lossy(header);
    let fields: Vec<&str> = text.trim_end_matches(['\0', ' ']).split(':').collect();
    let ["ClamAV-VDB", built, version, signatures, level, md5, _dsig, builder, ..] =
        fields.as_slice()
    else {
        return Err("not a ClamAV database: the header does not start ClamAV-VDB:".into());
    };
    let number = |field: &str, what: &str| {
        field
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("the header's {what} {field:?} is not a number"))
    };
    let database = Database {
        file: file.rsplit('/').next().unwrap_or(file).to_owned(),
        version: number(version, "version")?,
        built: built.trim().to_owned(),
        signatures: number(signatures, "signature count")?,
        functionality_level: number(level, "functionality level")?,
        builder: builder.trim().to_owned(),
        verified: "none",
    };
    Ok((database, md5.trim().to_owned()))
}

fn read_tar(
    file: &str,
    mut archive: impl Read,
    set: &mut SignatureSet,
) -> Result<(), SignatureError> {
    let fail = |reason: String| SignatureError {
        file: file.into(),
        line: 0,
        reason,
    };
    loop {
        let mut block = [0u8; 512];
        match archive.read_exact(&mut block) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(err) => return Err(fail(damaged(err))),
        }
        let Some(header) =
            TarHeader::parse(&block).map_err(|reason| fail(format!("archive: {reason}")))?
        else {
            return Ok(());
        };
        let mut entry = (&mut archive).take(header.size);
        let name = header
            .name
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let extension = super::extension(&name);
        if header.is_file() {
            match format_of(&name) {
                Some(Format::Hash | Format::Body | Format::Logical) => {
                    set.add_reader(&format!("{file}!{name}"), &mut BufReader::new(&mut entry))?;
                }
                _ if SKIPPED_FILES.contains(&extension.as_str()) => {
                    let lines = count_signature_lines(&mut entry)
                        .map_err(|err| fail(format!("{name}: {err}")))?;
                    set.skip(format!(".{extension} file"), lines);
                }
                _ => {}
            }
        }
        let rest = io::copy(&mut entry, &mut io::sink()).and_then(|_| {
            io::copy(
                &mut (&mut archive).take(padding(header.size)),
                &mut io::sink(),
            )
        });
        rest.map_err(|err| fail(damaged(err)))?;
    }
}

fn damaged(err: io::Error) -> String {
    format!("the archive is damaged ({err}); download it again")
}

fn count_signature_lines(entry: impl Read) -> io::Result<u64> {
    use std::io::BufRead;
    let mut lines = 0;
    for line in BufReader::new(entry).split(b'\n') {
        let line = line?;
        if !line.is_empty() && !line.starts_with(b"#") {
            lines += 1;
        }
    }
    Ok(lines)
}

/// Hashes what is read through it.
struct Hashed<R> {
    inner: R,
    md5: Md5,
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.md5.update(&buf[..read]);
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::archives::clamav_database as build;

    #[test]
    fn a_database_loads_reports_its_version_and_refuses_damage() {
        let files: &[(&str, &[u8])] = &[
            ("daily.ndb", b"Db.Body:0:*:aabbccdd\n"),
            ("daily.ldb", b"Db.Logic;Target:0;0&1;1122;3344\n"),
            (
                "daily.mdb",
                b"1024:44d88612fea8a8f36de82e1278abb02f:Pe.Section\n",
            ),
            ("daily.info", b"DAILY:27000:...\n"),
        ];
        for compressed in [true, false] {
            let bytes = build(27000, files, compressed);
            let mut set = SignatureSet::default();
            let name = if compressed { "daily.cvd" } else { "daily.cld" };
            set.add_file(name, &bytes).expect("loads");
            assert_eq!(set.len(), 2);
            assert_eq!(set.skipped[".mdb file"], 1);
            let database = &set.databases[0];
            assert_eq!((database.version, database.file.as_str()), (27000, name));
            assert_eq!(database.verified, if compressed { "md5" } else { "none" });
            let scanner = crate::scan::Scanner::new(set).expect("compiles");
            let report = scanner.scan(b"..\xaa\xbb\xcc\xdd..\x11\x22..\x33\x44..");
            assert_eq!(report.signatures, ["Db.Body", "Db.Logic"]);
        }
        let mut damaged = build(27000, files, true);
        let last = damaged.len() - 20;
        damaged[last] ^= 0xff;
        let error = SignatureSet::default()
            .add_file("daily.cvd", &damaged)
            .expect_err("damaged");
        assert!(error.to_string().contains("damaged"), "{error}");
        let error = SignatureSet::default()
            .add_file("main.cvd", b"not a database".repeat(100))
            .expect_err("not a database");
        assert!(error.to_string().contains("ClamAV-VDB"), "{error}");
    }
}

//! Malware signatures in a subset of ClamAV's simple formats, so users can bring their own:
//!
//! | file | line | subset |
//! |---|---|---|
//! | `.hdb` | `MD5:Size:Name` | MD5 of the whole file; `Size` in bytes or `*` (any size) |
//! | `.hsb` | `Hash:Size:Name[:MinFL]` | MD5 (32 hex digits) or SHA-256 (64); `Size` or `*` |
//! | `.ndb` | `Name:TargetType:Offset:HexSignature[:MinFL[:MaxFL]]` | `Offset` `*` (anywhere) or a byte offset; hex bytes only, no wildcards (`??`, `*`, `{n-m}`, `(a|b)`) |
//!
//! Blank lines and lines starting with `#` are skipped. Anything else outside the subset is an
//! error naming the file and line: a signature silently ignored is a detection silently lost.
//! The target type is not used to narrow a signature: every signature applies to every file.

use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashKind {
    Md5,
    Sha256,
}

/// A byte pattern and where it must occur.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodySignature {
    pub name: String,
    /// None: anywhere in the file.
    pub offset: Option<u64>,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashSignature {
    pub name: String,
    /// None: any size (`*`).
    pub size: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureSet {
    pub body: Vec<BodySignature>,
    /// By (kind, digest bytes).
    pub hashes: HashMap<(HashKind, Vec<u8>), Vec<HashSignature>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct SignatureError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

/// Whether `file` is named as one of the supported signature files (`.hdb`, `.hsb`, `.ndb`).
pub fn is_signature_file(file: &str) -> bool {
    format_of(file).is_some()
}

fn format_of(file: &str) -> Option<Format> {
    match file.rsplit_once('.')?.1.to_ascii_lowercase().as_str() {
        "hdb" | "hsb" => Some(Format::Hash),
        "ndb" => Some(Format::Body),
        _ => None,
    }
}

impl SignatureSet {
    /// Adds the signatures of one file, its format taken from its extension.
    pub fn add_file(&mut self, file: &str, text: &str) -> Result<(), SignatureError> {
        let Some(format) = format_of(file) else {
            return Err(SignatureError {
                file: file.into(),
                line: 0,
                reason: "unsupported signature file: expected .hdb, .hsb or .ndb".into(),
            });
        };
        for (index, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let fail = |reason: String| SignatureError {
                file: file.into(),
                line: index + 1,
                reason,
            };
            match format {
                Format::Hash => {
                    let (key, signature) = parse_hash(line).map_err(fail)?;
                    self.hashes.entry(key).or_default().push(signature);
                }
                Format::Body => self.body.push(parse_body(line).map_err(fail)?),
            }
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.body.len() + self.hashes.values().map(Vec::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

enum Format {
    Hash,
    Body,
}

fn parse_hash(line: &str) -> Result<((HashKind, Vec<u8>), HashSignature), String> {
    let fields: Vec<&str> = line.split(':').collect();
    let [hash, size, name, ..] = fields.as_slice() else {
        return Err("expected Hash:Size:Name".into());
    };
    let digest = decode_hex(hash)?;
    let kind = match digest.len() {
        16 => HashKind::Md5,
        32 => HashKind::Sha256,
        20 => return Err("SHA-1 hash signatures are not supported (use MD5 or SHA-256)".into()),
        n => return Err(format!("a {n}-byte hash is neither MD5 nor SHA-256")),
    };
    let size = match *size {
        "*" => None,
        text => Some(
            text.parse()
                .map_err(|_| format!("size {text:?} is neither a byte count nor *"))?,
        ),
    };
    Ok((
        (kind, digest),
        HashSignature {
            name: non_empty_name(name)?,
            size,
        },
    ))
}

fn parse_body(line: &str) -> Result<BodySignature, String> {
    let fields: Vec<&str> = line.split(':').collect();
    let [name, _target_type, offset, hex, ..] = fields.as_slice() else {
        return Err("expected Name:TargetType:Offset:HexSignature".into());
    };
    let offset = match *offset {
        "*" => None,
        text => Some(text.parse().map_err(|_| {
            format!("offset {text:?} is outside the subset: use * or a byte offset")
        })?),
    };
    if hex.contains(['?', '*', '{', '(', '[', '!']) {
        return Err(format!(
            "wildcards are outside the subset: {hex:?} (hex bytes only)"
        ));
    }
    let bytes = decode_hex(hex)?;
    if bytes.len() < 2 {
        return Err("a body signature needs at least 2 bytes".into());
    }
    Ok(BodySignature {
        name: non_empty_name(name)?,
        offset,
        bytes,
    })
}

fn non_empty_name(name: &str) -> Result<String, String> {
    match name.trim() {
        "" => Err("the signature has no name".into()),
        name => Ok(name.to_owned()),
    }
}

fn decode_hex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{text:?} is not an even run of hex digits"));
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).map_err(|err| err.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subset_parses_and_errors_name_the_line() {
        let mut set = SignatureSet::default();
        set.add_file(
            "main.hdb",
            "# comment\n44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n",
        )
        .expect("hdb");
        set.add_file(
            "extra.hsb",
            &format!("{}:*:Any-Size-Sha\n", "ab".repeat(32)),
        )
        .expect("hsb");
        set.add_file("body.ndb", "Test.Body:0:*:deadbeef\nAt.Start:0:0:4d5a\n")
            .expect("ndb");
        assert_eq!(set.len(), 4);
        assert_eq!(set.body[1].offset, Some(0));
        assert_eq!(set.body[0].bytes, [0xde, 0xad, 0xbe, 0xef]);
        let sha = &set.hashes[&(HashKind::Sha256, vec![0xab; 32])];
        assert_eq!(sha[0].size, None);

        let error = |file: &str, text: &str| {
            SignatureSet::default()
                .add_file(file, text)
                .expect_err("outside the subset")
                .to_string()
        };
        assert_eq!(
            error("w.ndb", "ok:0:*:aabb\nWild:0:*:aa??bb\n"),
            "w.ndb:2: wildcards are outside the subset: \"aa??bb\" (hex bytes only)"
        );
        assert!(error("s.hsb", &format!("{}:10:Sha1", "aa".repeat(20))).contains("SHA-1"));
        assert!(error("x.ldb", "anything").contains("unsupported signature file"));
        assert!(error("b.hdb", "zz:1:Name").starts_with("b.hdb:1:"));
    }
}

//! Malware signatures in ClamAV's formats, so a team can bring its own or mirror the official
//! database:
//!
//! | file | line | what is used |
//! |---|---|---|
//! | `.hdb` | `MD5:Size:Name` | MD5 of the whole file; `Size` in bytes or `*` |
//! | `.hsb` | `Hash:Size:Name` | MD5 or SHA-256 of the whole file (SHA-1 skipped) |
//! | `.ndb` | `Name:TargetType:Offset:HexSignature[:MinFL[:MaxFL]]` | every wildcard form ([`pattern`]); offsets `*`, `n`, `EOF-n`, each with `,shift` |
//! | `.ldb` | `Name;TargetDescription;Expression;Subsig0;...` | see [`logical`] |
//! | `.cvd` / `.cld` | ClamAV's signed container | see [`cvd`] |
//!
//! Blank lines and `#` comments are skipped. A malformed line is an error naming the file and
//! line: a signature silently ignored is a detection silently lost. A well-formed signature
//! in a form the scanner does not implement (PCRE, bytecode, PE-relative offsets, normalised
//! HTML/text targets, ...) is skipped and counted by kind, and the count is reported with every
//! load ([`SignatureSet::summary`]) and recorded with every malware verdict.

pub mod cvd;
pub mod hashes;
pub mod logical;
pub mod pattern;

pub use hashes::{HashKind, HashStore};
use logical::LogicalSignature;
use pattern::{Pattern, PatternError};
use std::collections::BTreeMap;
use std::io::BufRead;

/// Where a body pattern must start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offset {
    Any,
    /// At `at` .. `at + shift` from the start.
    Absolute {
        at: u64,
        shift: u64,
    },
    /// At `size - back` .. `size - back + shift`.
    FromEnd {
        back: u64,
        shift: u64,
    },
}

impl Offset {
    pub fn parse(text: &str) -> Result<Self, LineError> {
        if text == "*" {
            return Ok(Offset::Any);
        }
        let (base, shift) = match text.split_once(',') {
            Some((base, shift)) => (base, number(shift, text)?),
            None => (text, 0),
        };
        if let Some(back) = base.strip_prefix("EOF-") {
            return Ok(Offset::FromEnd {
                back: number(back, text)?,
                shift,
            });
        }
        if ["EP", "S", "VI"].iter().any(|p| base.starts_with(p)) {
            return Err(Unsupported::ExecutableOffset.into());
        }
        Ok(Offset::Absolute {
            at: number(base, text)?,
            shift,
        })
    }

    /// Whether a match starting at `start` may count in a file of `size` bytes; None when the
    /// answer needs the size and it is not known yet.
    pub fn admits(self, start: u64, size: Option<u64>) -> Option<bool> {
        match self {
            Offset::Any => Some(true),
            Offset::Absolute { at, shift } => {
                Some((at..=at.saturating_add(shift)).contains(&start))
            }
            Offset::FromEnd { back, shift } => size.map(|size| {
                size.checked_sub(back)
                    .is_some_and(|at| (at..=at.saturating_add(shift)).contains(&start))
            }),
        }
    }
}

fn number(text: &str, whole: &str) -> Result<u64, LineError> {
    text.parse()
        .map_err(|_| LineError::Invalid(format!("offset {whole:?}: {text:?} is not a number")))
}

/// ClamAV's target types this scanner can tell from a file's first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Any,
    Pe,
    Ole2,
    Graphics,
    Elf,
    MachO,
    Pdf,
    Flash,
    Java,
}

impl Target {
    pub fn from_code(code: u8) -> Result<Self, Unsupported> {
        Ok(match code {
            0 => Target::Any,
            1 => Target::Pe,
            2 => Target::Ole2,
            5 => Target::Graphics,
            6 => Target::Elf,
            9 => Target::MachO,
            10 => Target::Pdf,
            11 => Target::Flash,
            12 => Target::Java,
            other => return Err(Unsupported::TargetType(other)),
        })
    }

    /// The type of a file from its first bytes (up to [`Target::HEAD_BYTES`]), as ClamAV's
    /// magic numbers decide it; `Any` when it is none of them.
    pub fn of(head: &[u8]) -> Self {
        const MAGIC: &[(&[u8], Target)] = &[
            (b"MZ", Target::Pe),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", Target::Ole2),
            (b"\x7fELF", Target::Elf),
            (b"\xfe\xed\xfa\xce", Target::MachO),
            (b"\xfe\xed\xfa\xcf", Target::MachO),
            (b"\xce\xfa\xed\xfe", Target::MachO),
            (b"\xcf\xfa\xed\xfe", Target::MachO),
            (b"\xca\xfe\xba\xbe", Target::Java),
            (b"\xff\xd8\xff", Target::Graphics),
            (b"\x89PNG", Target::Graphics),
            (b"GIF8", Target::Graphics),
            (b"II*\x00", Target::Graphics),
            (b"MM\x00*", Target::Graphics),
            (b"FWS", Target::Flash),
            (b"CWS", Target::Flash),
            (b"ZWS", Target::Flash),
        ];
        if let Some((_, target)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
            return *target;
        }
        if head.windows(5).any(|w| w == b"%PDF-") {
            return Target::Pdf;
        }
        Target::Any
    }

    /// How much of a file [`Target::of`] reads (a PDF header may sit anywhere in the first KiB).
    pub const HEAD_BYTES: usize = 1024;

    /// Whether a signature for this target applies to a file of type `file`.
    pub fn applies_to(self, file: Target) -> bool {
        self == Target::Any || self == file
    }
}

/// A signature form the scanner does not implement: skipped at load and counted by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsupported {
    Pcre,
    ByteCompare,
    Macro,
    Modifier,
    TargetKey,
    MixedOperators,
    ExecutableOffset,
    TargetType(u8),
    Sha1,
    Pattern(&'static str),
}

impl Unsupported {
    pub fn label(self) -> String {
        match self {
            Unsupported::Pcre => "PCRE subsignature".into(),
            Unsupported::ByteCompare => "byte-compare subsignature".into(),
            Unsupported::Macro => "macro subsignature".into(),
            Unsupported::Modifier => "subsignature modifier (::i/w/f/a)".into(),
            Unsupported::TargetKey => "target description key beyond Engine/Target/FileSize".into(),
            Unsupported::MixedOperators => "& and | mixed without parentheses".into(),
            Unsupported::ExecutableOffset => "PE/ELF-relative offset (EP, S, SL, SE, VI)".into(),
            Unsupported::TargetType(code) => format!("target type {code}"),
            Unsupported::Sha1 => "SHA-1 hash".into(),
            Unsupported::Pattern(kind) => kind.into(),
        }
    }
}

/// Why a line cannot be used.
pub enum LineError {
    Invalid(String),
    Unsupported(Unsupported),
}

impl From<Unsupported> for LineError {
    fn from(kind: Unsupported) -> Self {
        LineError::Unsupported(kind)
    }
}

impl From<PatternError> for LineError {
    fn from(error: PatternError) -> Self {
        match error {
            PatternError::Invalid(reason) => LineError::Invalid(reason),
            PatternError::Unsupported { kind } => {
                LineError::Unsupported(Unsupported::Pattern(kind))
            }
        }
    }
}

/// Who a body pattern reports to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    /// An `.ndb` signature: a match is a detection.
    Named(String),
    /// Subsignature `subsignature` of `logical[signature]`: a match is counted.
    Logical {
        signature: usize,
        subsignature: usize,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodySignature {
    pub owner: Owner,
    pub target: Target,
    pub offset: Offset,
    pub pattern: Pattern,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureSet {
    pub body: Vec<BodySignature>,
    pub logical: Vec<LogicalSignature>,
    pub hashes: HashStore,
    /// Signatures skipped, by kind.
    pub skipped: BTreeMap<String, u64>,
    /// The `.cvd` / `.cld` databases loaded.
    pub databases: Vec<cvd::Database>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct SignatureError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Hash,
    Body,
    Logical,
    Database,
}

fn format_of(file: &str) -> Option<Format> {
    match extension(file).as_str() {
        "hdb" | "hsb" => Some(Format::Hash),
        "ndb" => Some(Format::Body),
        "ldb" => Some(Format::Logical),
        "cvd" | "cld" => Some(Format::Database),
        _ => None,
    }
}

fn extension(file: &str) -> String {
    file.rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether `file` is named as a signature file this loader reads.
pub fn is_signature_file(file: &str) -> bool {
    format_of(file).is_some()
}

impl SignatureSet {
    /// Adds the signatures of one file held in memory, its format taken from its extension.
    pub fn add_file(&mut self, file: &str, bytes: impl AsRef<[u8]>) -> Result<(), SignatureError> {
        self.add_reader(file, &mut bytes.as_ref())
    }

    /// Adds the signatures of one file read line by line (a database's files are hundreds of
    /// MB of text).
    pub fn add_reader(
        &mut self,
        file: &str,
        reader: &mut dyn BufRead,
    ) -> Result<(), SignatureError> {
        let fail = |line: usize, reason: String| SignatureError {
            file: file.into(),
            line,
            reason,
        };
        let format = format_of(file).ok_or_else(|| {
            fail(
                0,
                "unsupported signature file: expected .hdb, .hsb, .ndb, .ldb, .cvd or .cld".into(),
            )
        })?;
        if format == Format::Database {
            let database = cvd::read_database(file, reader, self)?;
            self.databases.push(database);
            return Ok(());
        }
        // One buffer for every line: a database's hash files hold millions.
        let mut buffer = Vec::new();
        let mut number = 0;
        loop {
            buffer.clear();
            number += 1;
            let read = reader
                .read_until(b'\n', &mut buffer)
                .map_err(|err| fail(number, format!("unreadable: {err}")))?;
            if read == 0 {
                break;
            }
            let line = String::from_utf8_lossy(&buffer);
            let line = line.trim_end_matches(['\r', '\n']);
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let added = match format {
                Format::Hash => self.add_hash(line),
                Format::Body => self.add_body(line),
                Format::Logical => self.add_logical(line),
                Format::Database => unreachable!("handled above"),
            };
            match added {
                Ok(()) => {}
                Err(LineError::Unsupported(kind)) => self.skip(kind.label(), 1),
                Err(LineError::Invalid(reason)) => return Err(fail(number, reason)),
            }
        }
        self.hashes.seal();
        Ok(())
    }

    fn skip(&mut self, kind: String, count: u64) {
        *self.skipped.entry(kind).or_default() += count;
    }

    fn add_hash(&mut self, line: &str) -> Result<(), LineError> {
        let mut fields = line.split(':');
        let (Some(hash), Some(size), Some(name)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(LineError::Invalid("expected Hash:Size:Name".into()));
        };
        let mut digest = [0u8; 32];
        let length = match hash.len() / 2 {
            16 | 32 => pattern::decode_hex_into(hash, &mut digest).map_err(LineError::Invalid)?,
            20 => return Err(Unsupported::Sha1.into()),
            n => {
                return Err(LineError::Invalid(format!(
                    "a {n}-byte hash is neither MD5, SHA-1 nor SHA-256"
                )))
            }
        };
        let size = match size {
            "*" => None,
            text => Some(text.parse().map_err(|_| {
                LineError::Invalid(format!("size {text:?} is neither a byte count nor *"))
            })?),
        };
        let name = non_empty_name(name).map_err(LineError::Invalid)?;
        self.hashes.insert(&digest[..length], size, name);
        Ok(())
    }

    fn add_body(&mut self, line: &str) -> Result<(), LineError> {
        let fields: Vec<&str> = line.split(':').collect();
        let [name, target, offset, hex, ..] = fields.as_slice() else {
            return Err(LineError::Invalid(
                "expected Name:TargetType:Offset:HexSignature".into(),
            ));
        };
        let target = target
            .parse()
            .map_err(|_| LineError::Invalid(format!("target type {target:?} is not a number")))?;
        self.body.push(BodySignature {
            owner: Owner::Named(non_empty_name(name).map_err(LineError::Invalid)?.to_owned()),
            target: Target::from_code(target)?,
            offset: Offset::parse(offset)?,
            pattern: Pattern::parse(hex)?,
        });
        Ok(())
    }

    fn add_logical(&mut self, line: &str) -> Result<(), LineError> {
        let (signature, subsignatures) = logical::parse(line)?;
        let index = self.logical.len();
        let bodies = subsignatures
            .iter()
            .enumerate()
            .map(|(subsignature, part)| {
                Ok(BodySignature {
                    owner: Owner::Logical {
                        signature: index,
                        subsignature,
                    },
                    target: signature.target,
                    offset: part.offset,
                    pattern: Pattern::parse(part.hex)?,
                })
            })
            .collect::<Result<Vec<_>, LineError>>()?;
        self.body.extend(bodies);
        self.logical.push(signature);
        Ok(())
    }

    /// Signatures loaded (body, logical and hash; a logical signature's parts count once).
    pub fn len(&self) -> usize {
        let named = self
            .body
            .iter()
            .filter(|b| matches!(b.owner, Owner::Named(_)))
            .count();
        named + self.logical.len() + self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// "N signatures loaded, M skipped (kind: count, ...)".
    pub fn summary(&self) -> String {
        let skipped: u64 = self.skipped.values().sum();
        let mut summary = format!("{} signatures loaded, {skipped} skipped", self.len());
        if skipped > 0 {
            let kinds: Vec<String> = self
                .skipped
                .iter()
                .map(|(kind, count)| format!("{kind}: {count}"))
                .collect();
            summary.push_str(&format!(" ({})", kinds.join(", ")));
        }
        summary
    }
}

pub(crate) fn non_empty_name(name: &str) -> Result<&str, String> {
    match name.trim() {
        "" => Err("the signature has no name".into()),
        name => Ok(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_parses_and_errors_name_the_line() {
        let mut set = SignatureSet::default();
        set.add_file(
            "main.hdb",
            "# comment\n44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n",
        )
        .expect("hdb");
        set.add_file("extra.hsb", format!("{}:*:Any-Size-Sha\n", "ab".repeat(32)))
            .expect("hsb");
        set.add_file(
            "body.ndb",
            "Test.Body:0:*:deadbeef\nAt.Start:1:0,4:4d5a??00\nNear.End:0:EOF-10:aabb*ccdd\n",
        )
        .expect("ndb");
        set.add_file("logic.ldb", "Logic;Target:0;0&1;aabb;EOF-4:ccdd\n")
            .expect("ldb");
        assert_eq!(set.len(), 6);
        assert_eq!(set.body[1].offset, Offset::Absolute { at: 0, shift: 4 });
        assert_eq!(set.body[1].target, Target::Pe);
        assert_eq!(set.body[2].pattern.segments.len(), 2);
        assert_eq!(
            set.body[4].owner,
            Owner::Logical {
                signature: 0,
                subsignature: 1
            }
        );
        assert_eq!(set.summary(), "6 signatures loaded, 0 skipped");

        let error = |file: &str, text: &str| {
            SignatureSet::default()
                .add_file(file, text)
                .expect_err("malformed")
                .to_string()
        };
        assert!(error("w.ndb", "ok:0:*:aabb\nBad:0:*:aa?\n").starts_with("w.ndb:2: "));
        assert!(error("x.txt", "anything").contains("unsupported signature file"));
        assert!(error("b.hdb", "zz:1:Name").starts_with("b.hdb:1:"));
        assert!(error("o.ndb", "Bad:0:later:aabb").contains("offset"));
    }

    #[test]
    fn unsupported_forms_are_skipped_and_counted_by_kind() {
        let mut set = SignatureSet::default();
        set.add_file(
            "mixed.ndb",
            "Html:3:*:3c736372697074\nEp:1:EP+0:e800000000\nBoundary:0:*:aabb(B)\nOk:0:*:aabbcc\n",
        )
        .expect("ndb");
        set.add_file("mixed.ldb", "Pcre;Target:0;0&1;aabb;0/evil/i\n")
            .expect("ldb");
        set.add_file("sha1.hsb", format!("{}:10:Sha1", "aa".repeat(20)))
            .expect("hsb");
        assert_eq!(
            set.summary(),
            "1 signatures loaded, 5 skipped (PCRE subsignature: 1, PE/ELF-relative offset \
             (EP, S, SL, SE, VI): 1, SHA-1 hash: 1, a word or line boundary (B)/(L): 1, \
             target type 3: 1)"
        );
    }

    #[test]
    fn offsets_admit_their_range() {
        let parse = |text: &str| Offset::parse(text).ok().expect(text);
        assert_eq!(parse("10").admits(10, None), Some(true));
        assert_eq!(parse("10").admits(11, None), Some(false));
        assert_eq!(parse("10,5").admits(15, None), Some(true));
        assert_eq!(parse("10,5").admits(16, None), Some(false));
        assert_eq!(parse("EOF-4").admits(96, None), None);
        assert_eq!(parse("EOF-4").admits(96, Some(100)), Some(true));
        assert_eq!(parse("EOF-4,2").admits(98, Some(100)), Some(true));
        assert_eq!(parse("EOF-4").admits(97, Some(100)), Some(false));
        assert_eq!(parse("EOF-200").admits(0, Some(100)), Some(false));
    }

    #[test]
    fn file_types_come_from_magic_numbers() {
        assert_eq!(Target::of(b"MZ\x90\x00"), Target::Pe);
        assert_eq!(Target::of(b"\x7fELF\x02"), Target::Elf);
        assert_eq!(Target::of(b"junk\n%PDF-1.7"), Target::Pdf);
        assert_eq!(Target::of(b"plain text"), Target::Any);
        assert!(Target::Any.applies_to(Target::Pe));
        assert!(!Target::Elf.applies_to(Target::Pe));
    }
}

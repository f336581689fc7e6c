//! One streaming pass over a file's bytes: every body signature match (overlapping ones
//! included, split across chunks, segments chained across gaps), logical signatures judged
//! from their subsignatures' counts, the whole-file MD5 and SHA-256 looked up in the hash
//! blocklists, the EICAR test file, and the same again inside every zip, gzip and tar entry
//! ([`archive`]) and every part of an e-mail message ([`mail`]), nested, within [`Limits`].
//!
//! Memory is flat in the file's size: per file being scanned, the chunk plus the longest
//! segment, a bounded list of partial matches, and (inside archives) one inflater; matches are
//! counted, not kept, beyond the first [`MAX_FINDINGS_KEPT`].

pub mod archive;
mod mail;
mod matcher;

use crate::signatures::logical::LogicalSignature;
use crate::signatures::{BodySignature, HashKind, HashStore, Offset, Owner, SignatureSet, Target};
use archive::Unpacker;
use mail::MailUnpacker;
use matcher::{Hit, Matcher};
use md5::Md5;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

/// The EICAR anti-virus test file: these 68 bytes at the very start of a file...
pub const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
/// ...optionally followed by whitespace, in a file of at most this many bytes.
const EICAR_MAX_FILE_BYTES: usize = 128;
pub const EICAR_NAME: &str = "Eicar-Test-Signature";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Body,
    Logical,
    Md5,
    Sha256,
    Eicar,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub signature: String,
    pub kind: FindingKind,
    /// Where a body signature's bytes start (in the entry, inside an archive).
    pub offset: Option<u64>,
    /// The archive entry it was found in: `inner.tar!dir/x.exe`; None for the file itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
}

/// Part of a file that was not scanned, and why (a limit, encryption, damage).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotScanned {
    /// The entry (`inner.tar!x.bin`); empty for the file itself.
    pub entry: String,
    pub reason: String,
}

/// Findings kept with their offsets; [`ScanReport::matches`] counts every one. A file that
/// repeats a signature a billion times costs a counter, not a billion findings.
pub const MAX_FINDINGS_KEPT: usize = 100;
/// Not-scanned notes kept; the rest are counted.
pub const MAX_NOTES_KEPT: usize = 20;

/// What one scan found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    /// Every match, counted exactly.
    pub matches: u64,
    /// The first [`MAX_FINDINGS_KEPT`] matches, in the order found.
    pub findings: Vec<Finding>,
    /// The name of every signature that matched, sorted (at most the set's size).
    pub signatures: Vec<String>,
    /// What was not scanned: never reported CLEAN as if it had been.
    pub not_scanned: Vec<NotScanned>,
    /// Notes beyond the kept ones.
    pub not_scanned_more: u64,
    /// Archive entries unpacked and scanned.
    pub entries: u64,
    /// Bytes inflated, every level together.
    pub unpacked_bytes: u64,
}

impl ScanReport {
    pub fn is_clean(&self) -> bool {
        self.matches == 0
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the body signatures cannot be compiled: {0}")]
pub struct CompileError(String);

/// How far a scan unpacks archives; each limit reached is reported, never passed silently.
/// The defaults follow ClamAV's (MaxRecursion 17, MaxFiles 10000, MaxScanSize 400 MB); the
/// ratio limit is ours: deflate cannot exceed ~1032:1, and text compresses ~10:1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Archives inside archives: each level costs one inflater (~80 KiB) and one window.
    pub max_depth: u32,
    pub max_entries: u64,
    /// Bytes inflated over the whole file, every level together (a tar's or a stored zip
    /// entry's bytes are its container's, not counted again).
    pub max_unpacked_bytes: u64,
    /// Unpacked to compressed bytes of one entry, judged once it has unpacked 1 MiB.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 16,
            max_entries: 10_000,
            max_unpacked_bytes: 400 << 20,
            max_ratio: 200,
        }
    }
}

/// A signature set compiled for scanning; build once (per cold start), scan many files.
pub struct Scanner {
    matcher: Matcher,
    body: Vec<BodySignature>,
    logical: Vec<LogicalSignature>,
    hashes: HashStore,
    limits: Limits,
}

impl Scanner {
    pub fn new(set: SignatureSet) -> Result<Self, CompileError> {
        Ok(Self {
            matcher: Matcher::new(&set.body)?,
            body: set.body,
            logical: set.logical,
            hashes: set.hashes,
            limits: Limits::default(),
        })
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// A scan of a file of `size` bytes, when known (offsets from the end and hash
    /// signatures of a given size need it).
    pub fn start(&self, size: Option<u64>) -> Scan<'_> {
        self.start_named("", size)
    }

    /// [`Scanner::start`] of a file called `name`: a gzip without a stored name names its
    /// content after it (`x.tar.gz` holds `x.tar`).
    pub fn start_named(&self, name: &str, size: Option<u64>) -> Scan<'_> {
        Scan {
            file: FileScan::new(self, name, size, 0, Hashing::threads(&self.hashes, size)),
            budget: Budget::default(),
        }
    }

    /// Scans a whole file held in memory.
    pub fn scan(&self, bytes: &[u8]) -> ScanReport {
        let mut scan = self.start(Some(bytes.len() as u64));
        scan.update(bytes);
        scan.finish()
    }
}

/// A scan in progress: feed the bytes in order with [`Scan::update`], then [`Scan::finish`].
pub struct Scan<'a> {
    file: FileScan<'a>,
    budget: Budget,
}

impl Scan<'_> {
    pub fn update(&mut self, chunk: &[u8]) {
        self.file.update(chunk, &mut self.budget);
    }

    pub fn finish(mut self) -> ScanReport {
        let found = self.file.end_scan(&mut self.budget);
        ScanReport {
            matches: found.matches,
            findings: found.kept,
            signatures: found.names.into_iter().map(String::from).collect(),
            not_scanned: found.notes,
            not_scanned_more: found.notes_more,
            entries: self.budget.entries,
            unpacked_bytes: self.budget.unpacked,
        }
    }
}

/// What the archives of one scan have used of the [`Limits`], every level together.
#[derive(Default)]
pub(crate) struct Budget {
    entries: u64,
    unpacked: u64,
    /// A limit over the whole scan was reached: no more unpacking anywhere.
    exhausted: bool,
}

impl Budget {
    /// Counts one more entry, or says the limit is reached (and nothing more is unpacked).
    fn count_entry(&mut self, limits: &Limits) -> Result<(), String> {
        self.entries += 1;
        let max = limits.max_entries;
        if self.entries > max {
            self.entries = max;
            self.exhausted = true;
            return Err(format!("more than {max} archive entries (the limit)"));
        }
        Ok(())
    }
}

/// What unpacks a file into files of its own, as its bytes stream by.
enum Unpacking<'a> {
    Archive(Box<Unpacker<'a>>),
    Mail(Box<MailUnpacker<'a>>),
}

impl<'a> Unpacking<'a> {
    /// For a file whose first bytes are `head`: what it is, and its unpacker at `depth`.
    fn of(
        head: &[u8],
        scanner: &'a Scanner,
        name: &str,
        depth: u32,
    ) -> Option<(&'static str, Self)> {
        if let Some(format) = archive::Format::of(head) {
            let unpacker = Unpacker::new(format, scanner, name, depth);
            Some((format.name(), Unpacking::Archive(Box::new(unpacker))))
        } else if extractor::mail::looks_like(head) {
            let unpacker = MailUnpacker::new(scanner, depth);
            Some(("message", Unpacking::Mail(Box::new(unpacker))))
        } else {
            None
        }
    }

    fn update(&mut self, data: &[u8], budget: &mut Budget, found: &mut Found<'a>) {
        match self {
            Unpacking::Archive(unpacker) => unpacker.update(data, budget, found),
            Unpacking::Mail(unpacker) => unpacker.update(data, budget, found),
        }
    }

    fn end(self, budget: &mut Budget, found: &mut Found<'a>) {
        match self {
            Unpacking::Archive(unpacker) => unpacker.end_archive(budget, found),
            Unpacking::Mail(unpacker) => unpacker.end_archive(budget, found),
        }
    }
}

/// Partial chains kept per segment: a bounded gap keeps those still in reach, up to this many.
const MAX_PARTIALS: usize = 256;
/// Matches waiting for the file's size to judge an end-relative offset.
const MAX_PENDING_FROM_END: usize = 4096;

/// The scan of one file: the object itself, or an entry inside an archive.
pub(crate) struct FileScan<'a> {
    scanner: &'a Scanner,
    name: String,
    size: Option<u64>,
    depth: u32,
    /// The previous chunk's last `overlap` bytes, then the current chunk.
    window: Vec<u8>,
    consumed: u64,
    /// The file's type, known once its first KiB (or all of it) has arrived: until then bytes
    /// are only gathered, since a signature's target type decides whether a match counts.
    target: Option<Target>,
    /// The first bytes, enough to judge the EICAR rule.
    head: Vec<u8>,
    hashing: Hashing,
    hits: Vec<Hit>,
    /// Per (body, segment): (end, start of the chain) of chains matched through it so far.
    partials: HashMap<(u32, u16), VecDeque<(u64, u64)>>,
    pending_from_end: VecDeque<(u32, u64)>,
    /// Per logical signature, each subsignature's match count.
    logical_counts: BTreeMap<usize, Vec<u64>>,
    unpacker: Option<Unpacking<'a>>,
    found: Found<'a>,
}

impl<'a> FileScan<'a> {
    pub(crate) fn new(
        scanner: &'a Scanner,
        name: &str,
        size: Option<u64>,
        depth: u32,
        hashing: Hashing,
    ) -> Self {
        Self {
            scanner,
            name: name.to_owned(),
            size,
            depth,
            window: Vec::new(),
            consumed: 0,
            target: None,
            head: Vec::with_capacity(EICAR_MAX_FILE_BYTES + 1),
            hashing,
            hits: Vec::new(),
            partials: HashMap::new(),
            pending_from_end: VecDeque::new(),
            logical_counts: BTreeMap::new(),
            unpacker: None,
            found: Found::default(),
        }
    }

    /// The scan of a file inside this one (an archive).
    pub(crate) fn for_entry(
        scanner: &'a Scanner,
        name: &str,
        size: Option<u64>,
        depth: u32,
    ) -> Self {
        let hashing = Hashing::inline(&scanner.hashes, size);
        FileScan::new(scanner, name, size, depth, hashing)
    }

    pub(crate) fn update(&mut self, chunk: &[u8], budget: &mut Budget) {
        self.hashing.update(chunk);
        if self.head.len() <= EICAR_MAX_FILE_BYTES {
            let wanted = (EICAR_MAX_FILE_BYTES + 1 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..wanted]);
        }
        let fresh_from = self.window.len();
        self.window.extend_from_slice(chunk);
        self.consumed += chunk.len() as u64;
        if self.target.is_none() {
            if self.window.len() < Target::HEAD_BYTES {
                return;
            }
            self.begin(budget);
        } else {
            if let Some(unpacker) = &mut self.unpacker {
                unpacker.update(chunk, budget, &mut self.found);
            }
            self.scan_window(fresh_from);
        }
        let keep = self.scanner.matcher.overlap.min(self.window.len());
        self.window.drain(..self.window.len() - keep);
    }

    /// Decides the file's type and whether it is an archive to unpack, then scans what has
    /// been gathered.
    fn begin(&mut self, budget: &mut Budget) {
        self.target = Some(Target::of(
            &self.window[..self.window.len().min(Target::HEAD_BYTES)],
        ));
        if let Some((kind, mut unpacker)) =
            Unpacking::of(&self.window, self.scanner, &self.name, self.depth + 1)
        {
            if self.depth >= self.scanner.limits.max_depth {
                self.found.note(
                    "",
                    format!(
                        "a {kind} nested {} archives deep: not unpacked (limit {})",
                        self.depth, self.scanner.limits.max_depth
                    ),
                );
            } else {
                unpacker.update(&self.window, budget, &mut self.found);
                self.unpacker = Some(unpacker);
            }
        }
        self.scan_window(0);
    }

    fn scan_window(&mut self, fresh_from: usize) {
        let scanner = self.scanner;
        let window_start = self.consumed - self.window.len() as u64;
        let mut hits = std::mem::take(&mut self.hits);
        scanner
            .matcher
            .find(&scanner.body, &self.window, fresh_from, &mut hits);
        // Chains complete in the order their segments end.
        hits.sort_unstable_by_key(|hit| (hit.end, hit.segment));
        for hit in hits.drain(..) {
            let start = window_start + hit.start as u64;
            let end = window_start + hit.end as u64;
            let body = &scanner.body[hit.body as usize];
            if body.pattern.segments.len() == 1 {
                self.accept(hit.body, start);
            } else {
                self.chain(hit, start, end);
            }
        }
        self.hits = hits;
    }

    /// Segment `hit.segment` of a pattern with gaps found at `start..end`: it extends the
    /// chains its gap admits, and the last segment completes one.
    fn chain(&mut self, hit: Hit, start: u64, end: u64) {
        let body = &self.scanner.body[hit.body as usize];
        let last = hit.segment as usize + 1 == body.pattern.segments.len();
        let chain_start = if hit.segment == 0 {
            if body.offset.admits(start, self.size) == Some(false) {
                return;
            }
            start
        } else {
            let gap = body.pattern.gaps[hit.segment as usize - 1];
            let Some(before) = self.partials.get_mut(&(hit.body, hit.segment - 1)) else {
                return;
            };
            if let Some(max) = gap.max {
                while before.front().is_some_and(|(e, _)| e + max < start) {
                    before.pop_front();
                }
            }
            match before.front() {
                Some(&(e, chain_start)) if e + gap.min <= start => chain_start,
                _ => return,
            }
        };
        if last {
            self.accept(hit.body, chain_start);
            return;
        }
        let next = body.pattern.gaps[hit.segment as usize];
        // With no bound on the next gap, the earliest chain serves every later segment.
        let earliest_serves = next.max.is_none() && !matches!(body.offset, Offset::FromEnd { .. });
        let after = self.partials.entry((hit.body, hit.segment)).or_default();
        if earliest_serves && !after.is_empty() {
            return;
        }
        if after.len() == MAX_PARTIALS {
            after.pop_front();
        }
        after.push_back((end, chain_start));
    }

    /// A whole pattern matched from `start`: it counts if its target and offset allow.
    fn accept(&mut self, body_id: u32, start: u64) {
        let body = &self.scanner.body[body_id as usize];
        if !body.target.applies_to(self.target.unwrap_or(Target::Any)) {
            return;
        }
        match body.offset.admits(start, self.size) {
            Some(true) => self.count_match(body_id, start),
            Some(false) => {}
            None => {
                if self.pending_from_end.len() == MAX_PENDING_FROM_END {
                    self.pending_from_end.pop_front();
                }
                self.pending_from_end.push_back((body_id, start));
            }
        }
    }

    fn count_match(&mut self, body_id: u32, start: u64) {
        let scanner = self.scanner;
        match &scanner.body[body_id as usize].owner {
            Owner::Named(name) => self.found.add(name, FindingKind::Body, Some(start)),
            Owner::Logical {
                signature,
                subsignature,
            } => {
                let parts = scanner.logical[*signature].subsignatures;
                self.logical_counts
                    .entry(*signature)
                    .or_insert_with(|| vec![0; parts])[*subsignature] += 1;
            }
        }
    }

    pub(crate) fn end_scan(mut self, budget: &mut Budget) -> Found<'a> {
        if self.target.is_none() {
            self.begin(budget);
        }
        if let Some(unpacker) = self.unpacker.take() {
            unpacker.end(budget, &mut self.found);
        }
        let size = self.consumed;
        for (body_id, start) in std::mem::take(&mut self.pending_from_end) {
            let offset = self.scanner.body[body_id as usize].offset;
            if offset.admits(start, Some(size)) == Some(true) {
                self.count_match(body_id, start);
            }
        }
        let scanner = self.scanner;
        for (index, counts) in &self.logical_counts {
            let signature = &scanner.logical[*index];
            let sized = signature
                .file_size
                .is_none_or(|(low, high)| (low..=high).contains(&size));
            if sized && signature.expression.holds(counts) {
                self.found.add(&signature.name, FindingKind::Logical, None);
            }
        }
        for (kind, digest) in self.hashing.digests() {
            let finding = match kind {
                HashKind::Md5 => FindingKind::Md5,
                HashKind::Sha256 => FindingKind::Sha256,
            };
            for name in scanner.hashes.lookup(kind, &digest, size) {
                self.found.add(name, finding, None);
            }
        }
        if is_eicar(&self.head) {
            self.found.add(EICAR_NAME, FindingKind::Eicar, Some(0));
        }
        self.found
    }
}

/// Matches and notes of one file, its entries' merged in with their paths.
#[derive(Default)]
pub(crate) struct Found<'a> {
    matches: u64,
    kept: Vec<Finding>,
    names: BTreeSet<&'a str>,
    notes: Vec<NotScanned>,
    notes_more: u64,
}

impl<'a> Found<'a> {
    fn add(&mut self, name: &'a str, kind: FindingKind, offset: Option<u64>) {
        self.matches += 1;
        self.names.insert(name);
        if self.kept.len() < MAX_FINDINGS_KEPT {
            self.kept.push(Finding {
                signature: name.to_owned(),
                kind,
                offset,
                entry: None,
            });
        }
    }

    /// Notes that `entry` (empty: this file) was not scanned, or not wholly.
    pub(crate) fn note(&mut self, entry: &str, reason: String) {
        if self.notes.len() < MAX_NOTES_KEPT {
            self.notes.push(NotScanned {
                entry: entry.to_owned(),
                reason,
            });
        } else {
            self.notes_more += 1;
        }
    }

    /// Takes in what was found in the archive entry `entry`.
    pub(crate) fn absorb(&mut self, entry: &str, inner: Found<'a>) {
        let path = |inner: Option<&str>| match inner {
            Some(inner) if !inner.is_empty() => format!("{entry}!{inner}"),
            _ => entry.to_owned(),
        };
        self.matches += inner.matches;
        self.names.extend(inner.names);
        for mut finding in inner.kept {
            if self.kept.len() == MAX_FINDINGS_KEPT {
                break;
            }
            finding.entry = Some(path(finding.entry.as_deref()));
            self.kept.push(finding);
        }
        for note in inner.notes {
            self.note(&path(Some(&note.entry)), note.reason);
        }
        self.notes_more += inner.notes_more;
    }
}

/// The whole-file digests hash signatures need, if any.
pub(crate) enum Hashing {
    None,
    /// MD5 and SHA-256 each on a thread of its own, so hashing overlaps matching (measured:
    /// matching and both hashes on one thread held a 1 GiB scan to 238 MB/s; both hashes on
    /// one thread, to 460-470 MB/s). The threads share each chunk.
    Threads {
        feeds: Vec<std::sync::mpsc::SyncSender<Arc<[u8]>>>,
        done: Vec<std::thread::JoinHandle<(HashKind, Vec<u8>)>>,
    },
    /// Inside archives: entries are many and mostly small, a thread each would cost more.
    Inline {
        md5: Option<Md5>,
        sha256: Option<Sha256>,
    },
}

impl Hashing {
    fn threads(hashes: &HashStore, size: Option<u64>) -> Self {
        let mut feeds = Vec::new();
        let mut done = Vec::new();
        let mut spawn = |kind: HashKind| {
            let (feed, received) = std::sync::mpsc::sync_channel::<Arc<[u8]>>(4);
            feeds.push(feed);
            done.push(std::thread::spawn(move || {
                let digest = match kind {
                    HashKind::Md5 => digest_all::<Md5>(received),
                    HashKind::Sha256 => digest_all::<Sha256>(received),
                };
                (kind, digest)
            }));
        };
        for kind in [HashKind::Md5, HashKind::Sha256] {
            if hashes.wants(kind, size) {
                spawn(kind);
            }
        }
        if feeds.is_empty() {
            Hashing::None
        } else {
            Hashing::Threads { feeds, done }
        }
    }

    fn inline(hashes: &HashStore, size: Option<u64>) -> Self {
        let md5 = hashes.wants(HashKind::Md5, size).then(Md5::new);
        let sha256 = hashes.wants(HashKind::Sha256, size).then(Sha256::new);
        if md5.is_none() && sha256.is_none() {
            Hashing::None
        } else {
            Hashing::Inline { md5, sha256 }
        }
    }

    fn update(&mut self, chunk: &[u8]) {
        match self {
            Hashing::None => {}
            Hashing::Threads { feeds, .. } => {
                let shared: Arc<[u8]> = Arc::from(chunk);
                for feed in feeds {
                    // A thread only stops when its channel closes, so the send cannot fail.
                    let _ = feed.send(Arc::clone(&shared));
                }
            }
            Hashing::Inline { md5, sha256 } => {
                if let Some(md5) = md5 {
                    md5.update(chunk);
                }
                if let Some(sha256) = sha256 {
                    sha256.update(chunk);
                }
            }
        }
    }

    fn digests(self) -> Vec<(HashKind, Vec<u8>)> {
        match self {
            Hashing::None => Vec::new(),
            Hashing::Threads { feeds, done } => {
                drop(feeds);
                done.into_iter()
                    .filter_map(|thread| thread.join().ok())
                    .collect()
            }
            Hashing::Inline { md5, sha256 } => md5
                .map(|d| (HashKind::Md5, d.finalize().to_vec()))
                .into_iter()
                .chain(sha256.map(|d| (HashKind::Sha256, d.finalize().to_vec())))
                .collect(),
        }
    }
}

fn digest_all<D: Digest>(chunks: std::sync::mpsc::Receiver<Arc<[u8]>>) -> Vec<u8> {
    let mut digest = D::new();
    for chunk in chunks {
        digest.update(&chunk);
    }
    digest.finalize().to_vec()
}

/// The EICAR rule: the file starts with the 68 bytes, anything after them is whitespace
/// (space, tab, CR, LF, Ctrl-Z), and the file has at most 128 bytes.
fn is_eicar(head: &[u8]) -> bool {
    head.len() <= EICAR_MAX_FILE_BYTES
        && head.starts_with(EICAR)
        && head[EICAR.len()..]
            .iter()
            .all(|byte| matches!(byte, b' ' | b'\t' | b'\r' | b'\n' | 0x1a))
}

#[cfg(test)]
mod tests;

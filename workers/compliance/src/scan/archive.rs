//! Archives unpacked as their bytes stream by, inside the one scanning pass: zip (stored and
//! deflate, zip64 sizes, data descriptors), gzip (every member) and tar (ustar, GNU long
//! names), nested to [`Limits::max_depth`](super::Limits). Each entry is scanned as a file of
//! its own ([`FileScan`]), its findings named by path (`inner.tar!dir/x.exe`).
//!
//! A zip is read through its local headers, front to back, as ClamAV's streaming zip reader
//! does: the central directory at the end would need the whole file. What the local headers
//! cannot say is reported, never skipped silently: an encrypted entry, a compression method
//! other than stored/deflate, a stored entry whose length only a data descriptor gives, damage,
//! and every limit reached.

use super::{Budget, FileScan, Found, Scanner};
use flate2::{Decompress, FlushDecompress, Status};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Zip,
    Gzip,
    Tar,
}

impl Format {
    /// The archive format a file's first bytes (at least 262 of them when there are) show.
    pub(crate) fn of(head: &[u8]) -> Option<Self> {
        if head.starts_with(b"PK\x03\x04") {
            Some(Format::Zip)
        } else if head.starts_with(&[0x1f, 0x8b, 0x08]) {
            Some(Format::Gzip)
        } else if head.get(257..262) == Some(b"ustar") {
            Some(Format::Tar)
        } else {
            None
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Zip => "zip",
            Format::Gzip => "gzip",
            Format::Tar => "tar",
        }
    }
}

/// What the bytes being gathered are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    ZipLocal,
    ZipDescriptor { zip64: bool },
    TarHeader,
    TarLongName { size: u64 },
    GzipHeader,
    GzipTrailer,
}

impl Expect {
    fn first_bytes(self) -> usize {
        match self {
            Expect::ZipLocal => 30,
            Expect::ZipDescriptor { .. } => 4,
            Expect::TarHeader => 512,
            Expect::TarLongName { size } => (size + padding(size)) as usize,
            Expect::GzipHeader => 10,
            Expect::GzipTrailer => 8,
        }
    }
}

enum State {
    /// Gathering a header into `pending` until it holds `need` bytes.
    Gather {
        need: usize,
        expect: Expect,
    },
    /// The current entry's bytes.
    Data,
    Skip {
        left: u64,
        then: Expect,
    },
    Done,
}

/// What follows an entry's data: `skip` bytes of padding, then a header.
#[derive(Clone, Copy)]
struct After {
    skip: u64,
    then: Expect,
}

struct Entry<'a> {
    name: String,
    inner_scan: FileScan<'a>,
    inflate: Option<Inflate>,
    /// Compressed bytes still to come, when the header says.
    remaining: Option<u64>,
    unpacked: u64,
    after: After,
}

/// A GNU long name or a gzip header longer than this is damage, not a name.
const MAX_HEADER_BYTES: usize = 64 << 10;
/// A gzip's stored name or comment longer than this is damage (and each byte gathered re-reads
/// the header).
const MAX_GZIP_TEXT_BYTES: usize = 4 << 10;
/// Entry names are shown up to this many characters.
const MAX_NAME_CHARS: usize = 255;
/// The ratio limit is judged once an entry has unpacked this much.
const RATIO_AFTER_BYTES: u64 = 1 << 20;

pub(crate) struct Unpacker<'a> {
    scanner: &'a Scanner,
    /// The archive's own name: a gzip without a stored name names its content after it.
    name: String,
    /// The nesting level of the entries.
    depth: u32,
    state: State,
    pending: Vec<u8>,
    entry: Option<Entry<'a>>,
    long_name: Option<String>,
    gzip_member_read: bool,
    /// Bytes of the archive read so far.
    offset: u64,
}

impl<'a> Unpacker<'a> {
    pub(crate) fn new(format: Format, scanner: &'a Scanner, name: &str, depth: u32) -> Self {
        let expect = match format {
            Format::Zip => Expect::ZipLocal,
            Format::Gzip => Expect::GzipHeader,
            Format::Tar => Expect::TarHeader,
        };
        Self {
            scanner,
            name: name.to_owned(),
            depth,
            state: State::Gather {
                need: expect.first_bytes(),
                expect,
            },
            pending: Vec::new(),
            entry: None,
            long_name: None,
            gzip_member_read: false,
            offset: 0,
        }
    }

    pub(crate) fn update(&mut self, mut data: &[u8], budget: &mut Budget, found: &mut Found<'a>) {
        while !data.is_empty() {
            if budget.exhausted && !matches!(self.state, State::Done) {
                self.abandon_rest(budget, found);
            }
            let used = match &mut self.state {
                State::Done => return,
                State::Gather { need, expect } => {
                    let (need, expect) = (*need, *expect);
                    let take = (need - self.pending.len()).min(data.len());
                    self.pending.extend_from_slice(&data[..take]);
                    if self.pending.len() == need {
                        self.parse(expect, budget, found);
                    }
                    take
                }
                State::Skip { left, then } => {
                    let take = (*left).min(data.len() as u64);
                    *left -= take;
                    if *left == 0 {
                        let then = *then;
                        self.gather(then);
                    }
                    take as usize
                }
                State::Data => self.data(data, budget, found),
            };
            self.offset += used as u64;
            data = &data[used..];
        }
    }

    pub(crate) fn end_archive(mut self, budget: &mut Budget, found: &mut Found<'a>) {
        if let Some(entry) = &self.entry {
            let name = entry.name.clone();
            found.note(
                &name,
                "the archive ends inside this entry: truncated".into(),
            );
            self.abandon_rest(budget, found);
        }
        // Bytes after a complete gzip member that are too few for another are padding.
        let cut_short = match self.state {
            State::Gather { expect, .. } => {
                let padding = expect == Expect::GzipHeader && self.gzip_member_read;
                let partial = !self.pending.is_empty();
                partial && !padding
            }
            _ => false,
        };
        if cut_short {
            found.note("", "the archive ends inside a header: truncated".into());
        }
    }

    fn gather(&mut self, expect: Expect) {
        self.pending.clear();
        self.state = State::Gather {
            need: expect.first_bytes(),
            expect,
        };
    }

    fn skip(&mut self, left: u64, then: Expect) {
        if left == 0 {
            self.gather(then);
        } else {
            self.state = State::Skip { left, then };
        }
    }

    /// Gathers more of the same header.
    fn need(&mut self, need: usize, expect: Expect, found: &mut Found<'a>) {
        if need > MAX_HEADER_BYTES {
            self.give_up(found, format!("a header over {MAX_HEADER_BYTES} bytes"));
        } else {
            self.state = State::Gather { need, expect };
        }
    }

    /// Stops reading the archive at damage or an unreadable part, saying so.
    fn give_up(&mut self, found: &mut Found<'a>, why: String) {
        found.note(
            "",
            format!(
                "{why} at byte {}: the rest of the archive is not scanned",
                self.offset
            ),
        );
        self.state = State::Done;
    }

    fn parse(&mut self, expect: Expect, budget: &mut Budget, found: &mut Found<'a>) {
        match expect {
            Expect::ZipLocal => self.zip_local(budget, found),
            Expect::ZipDescriptor { zip64 } => {
                let sizes = if zip64 { 16 } else { 8 };
                // The signature is optional: without it, the 4 bytes read were the CRC.
                let rest = if self.pending == b"PK\x07\x08" {
                    4 + sizes
                } else {
                    sizes
                };
                self.skip(rest, Expect::ZipLocal);
            }
            Expect::TarHeader => self.tar_header(budget, found),
            Expect::TarLongName { size } => {
                let name = &self.pending[..size as usize];
                let name = name.split(|&b| b == 0).next().unwrap_or_default();
                self.long_name = Some(String::from_utf8_lossy(name).into_owned());
                self.gather(Expect::TarHeader);
            }
            Expect::GzipHeader => self.gzip_header(budget, found),
            // The next member, if the stream holds several (pigz, concatenated files).
            Expect::GzipTrailer => {
                self.gzip_member_read = true;
                self.gather(Expect::GzipHeader);
            }
        }
    }

    fn zip_local(&mut self, budget: &mut Budget, found: &mut Found<'a>) {
        let header = &self.pending;
        if !header.starts_with(b"PK\x03\x04") {
            // The central directory (or, in an archive without entries, its end record): every
            // entry has been read. Anything else leaves the rest unread, and is said.
            if header.starts_with(b"PK\x01\x02") || header.starts_with(b"PK\x05\x06") {
                self.state = State::Done;
            } else {
                self.give_up(found, "bytes that are not a zip entry header".into());
            }
            return;
        }
        let u16_at = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]) as usize;
        let u32_at = |at: usize| {
            u64::from(u32::from_le_bytes([
                header[at],
                header[at + 1],
                header[at + 2],
                header[at + 3],
            ]))
        };
        let (flags, method) = (u16_at(6), u16_at(8));
        let (name_len, extra_len) = (u16_at(26), u16_at(28));
        if header.len() < 30 + name_len + extra_len {
            self.need(30 + name_len + extra_len, Expect::ZipLocal, found);
            return;
        }
        let name = entry_name(&header[30..30 + name_len]);
        let (compressed, size) = (u32_at(18), u32_at(22));
        // A zip64 record in the local header makes its data descriptor's sizes 8 bytes, also
        // when a streaming writer left the header's sizes zero.
        let zip64 = zip64_record(&header[30 + name_len..]);
        let (compressed, size) = zip64.map_or((compressed, size), |record| {
            zip64_sizes(record, compressed, size)
        });
        let zip64 = zip64.is_some();
        let descriptor = flags & 8 != 0;
        // With a data descriptor the local header's sizes are usually zero: unknown.
        let known = !descriptor || compressed > 0;
        let after = After {
            skip: 0,
            then: if descriptor {
                Expect::ZipDescriptor { zip64 }
            } else {
                Expect::ZipLocal
            },
        };
        if name.ends_with('/') && known && compressed == 0 {
            self.skip(0, after.then);
            return;
        }
        if !self.count_entry(budget, found) {
            return;
        }
        if flags & 1 != 0 {
            found.note(&name, "encrypted: not scanned".into());
            if known {
                self.skip(compressed, after.then);
            } else {
                self.give_up(
                    found,
                    format!("{name}: an encrypted entry of unknown length"),
                );
            }
            return;
        }
        match method {
            0 if known => self.start(name, Some(compressed), None, Some(compressed), after),
            0 => self.give_up(
                found,
                format!("{name}: a stored entry whose length only its data descriptor gives"),
            ),
            8 => self.start(
                name,
                known.then_some(size),
                Some(Inflate::new()),
                known.then_some(compressed),
                after,
            ),
            other if known => {
                found.note(&name, format!("compression method {other}: not scanned"));
                self.skip(compressed, after.then);
            }
            other => self.give_up(
                found,
                format!("{name}: compression method {other} with a data descriptor"),
            ),
        }
    }

    fn tar_header(&mut self, budget: &mut Budget, found: &mut Found<'a>) {
        let block: &[u8; 512] = self.pending[..512].try_into().expect("gathered 512 bytes");
        let header = match TarHeader::parse(block) {
            Ok(Some(header)) => header,
            Ok(None) => {
                self.state = State::Done;
                return;
            }
            Err(reason) => return self.give_up(found, format!("a damaged tar header ({reason})")),
        };
        let name = self.long_name.take().unwrap_or_else(|| header.name.clone());
        let pad = padding(header.size);
        if header.kind == b'L' {
            if header.size as usize > MAX_HEADER_BYTES {
                return self.give_up(found, "a GNU long name over 64 KiB".into());
            }
            return self.gather(Expect::TarLongName { size: header.size });
        }
        if !header.is_file() {
            return self.skip(header.size + pad, Expect::TarHeader);
        }
        if !self.count_entry(budget, found) {
            return;
        }
        let after = After {
            skip: pad,
            then: Expect::TarHeader,
        };
        self.start(
            entry_name(name.as_bytes()),
            Some(header.size),
            None,
            Some(header.size),
            after,
        );
    }

    fn gzip_header(&mut self, budget: &mut Budget, found: &mut Found<'a>) {
        let header = &self.pending;
        if !header.starts_with(&[0x1f, 0x8b, 0x08]) {
            // Padding or other bytes after the last member.
            self.state = State::Done;
            return;
        }
        let flags = header[3];
        let mut at = 10;
        let mut stored_name = None;
        if flags & 4 != 0 {
            let Some(len) = header.get(at..at + 2) else {
                return self.need(at + 2, Expect::GzipHeader, found);
            };
            at += 2 + u16::from_le_bytes([len[0], len[1]]) as usize;
        }
        for (flag, is_name) in [(8, true), (16, false)] {
            if flags & flag == 0 {
                continue;
            }
            let Some(end) = header
                .get(at..)
                .and_then(|rest| rest.iter().position(|&b| b == 0))
            else {
                if header.len() > at + MAX_GZIP_TEXT_BYTES {
                    return self.give_up(found, "a gzip name or comment over 4 KiB".into());
                }
                // One byte at a time: the header's end is not known, and the stream may end.
                let more = header.len().max(at) + 1;
                return self.need(more, Expect::GzipHeader, found);
            };
            if is_name {
                stored_name = Some(entry_name(&header[at..at + end]));
            }
            at += end + 1;
        }
        if flags & 2 != 0 {
            at += 2;
        }
        if header.len() < at {
            return self.need(at, Expect::GzipHeader, found);
        }
        if !self.count_entry(budget, found) {
            return;
        }
        let name = stored_name.unwrap_or_else(|| gunzipped_name(&self.name));
        let after = After {
            skip: 0,
            then: Expect::GzipTrailer,
        };
        self.start(name, None, Some(Inflate::new()), None, after);
    }

    fn count_entry(&mut self, budget: &mut Budget, found: &mut Found<'a>) -> bool {
        match budget.count_entry(&self.scanner.limits) {
            Ok(()) => true,
            Err(limit) => {
                self.give_up(found, limit);
                false
            }
        }
    }

    fn start(
        &mut self,
        name: String,
        size: Option<u64>,
        inflate: Option<Inflate>,
        remaining: Option<u64>,
        after: After,
    ) {
        self.entry = Some(Entry {
            inner_scan: FileScan::for_entry(self.scanner, &name, size, self.depth),
            name,
            inflate,
            remaining,
            unpacked: 0,
            after,
        });
        self.state = State::Data;
    }

    /// Feeds the entry what of `data` is its own; returns how much that was.
    fn data(&mut self, data: &[u8], budget: &mut Budget, found: &mut Found<'a>) -> usize {
        let limits = self.scanner.limits;
        let Some(entry) = self.entry.as_mut() else {
            self.state = State::Done;
            return 0;
        };
        let input = match entry.remaining {
            Some(left) => &data[..left.min(data.len() as u64) as usize],
            None => data,
        };
        let Entry {
            inner_scan,
            inflate,
            unpacked,
            ..
        } = entry;
        let mut deliver = |out: &[u8], compressed: Option<u64>| -> Result<(), String> {
            *unpacked += out.len() as u64;
            // Only inflated bytes are new: a stored entry's are its container's, scanned once
            // more at most once per level.
            if compressed.is_some() {
                budget.unpacked += out.len() as u64;
            }
            if budget.unpacked > limits.max_unpacked_bytes {
                budget.exhausted = true;
                return Err(format!(
                    "the unpacked-size limit ({} MiB for the whole file) was reached: the rest \
                     is not scanned",
                    limits.max_unpacked_bytes >> 20
                ));
            }
            inner_scan.update(out, budget);
            match compressed {
                Some(read)
                    if *unpacked > RATIO_AFTER_BYTES
                        && *unpacked > read.saturating_mul(limits.max_ratio) =>
                {
                    Err(format!(
                        "unpacks over {}:1 (a decompression bomb?): the rest is not scanned",
                        limits.max_ratio
                    ))
                }
                _ => Ok(()),
            }
        };
        let fed = match inflate {
            None => deliver(input, None).map(|()| (input.len(), false)),
            Some(inflate) => inflate.feed(input, &mut deliver),
        };
        let name = entry.name.clone();
        let inflating = entry.inflate.is_some();
        match fed {
            Ok((used, ended)) => {
                let left = entry.remaining.map(|left| left - used as u64);
                entry.remaining = left;
                if ended || left == Some(0) {
                    if !ended && inflating {
                        found.note(&name, "its deflate data ends early: truncated".into());
                    }
                    self.end_entry(left.unwrap_or(0), budget, found);
                } else if used == 0 {
                    // The inflater took nothing and gave nothing: the data cannot go on.
                    found.note(&name, "damaged deflate data".into());
                    self.abandon_rest(budget, found);
                }
                used
            }
            Err(reason) => {
                found.note(&name, reason);
                self.abandon_rest(budget, found);
                input.len()
            }
        }
    }

    /// Ends the current entry, then passes its unread bytes (`left`) and padding.
    fn end_entry(&mut self, left: u64, budget: &mut Budget, found: &mut Found<'a>) {
        if let Some(entry) = self.entry.take() {
            let after = entry.after;
            found.absorb(&entry.name, entry.inner_scan.end_scan(budget));
            self.skip(left + after.skip, after.then);
        }
    }

    /// Ends the current entry (its findings kept) and reads nothing more of the archive.
    fn abandon_rest(&mut self, budget: &mut Budget, found: &mut Found<'a>) {
        if let Some(entry) = self.entry.take() {
            found.absorb(&entry.name, entry.inner_scan.end_scan(budget));
        }
        self.state = State::Done;
    }
}

/// An entry's name as shown in findings.
fn entry_name(raw: &[u8]) -> String {
    let name = String::from_utf8_lossy(raw);
    match name.char_indices().nth(MAX_NAME_CHARS) {
        Some((cut, _)) => format!("{}...", &name[..cut]),
        None => name.into_owned(),
    }
}

/// What a gzip without a stored name holds: `x.tar.gz` and `x.tgz` hold `x.tar`.
fn gunzipped_name(archive: &str) -> String {
    let base = archive.rsplit('/').next().unwrap_or_default();
    if let Some(stem) = base.strip_suffix(".tgz") {
        format!("{stem}.tar")
    } else if let Some(stem) = base.strip_suffix(".gz").filter(|s| !s.is_empty()) {
        stem.to_owned()
    } else {
        "(gzip content)".to_owned()
    }
}

/// The zip64 extended information record among a local header's extra fields.
fn zip64_record(mut extra: &[u8]) -> Option<&[u8]> {
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = u16::from_le_bytes([extra[2], extra[3]]) as usize;
        let data = extra.get(4..4 + len)?;
        if id == 1 {
            return Some(data);
        }
        extra = &extra[4 + len..];
    }
    None
}

/// The sizes a zip64 record gives for those the header marks 0xFFFFFFFF (it lists the
/// uncompressed size first, each only when marked).
fn zip64_sizes(record: &[u8], compressed: u64, size: u64) -> (u64, u64) {
    let marked = u64::from(u32::MAX);
    let mut values = record
        .chunks_exact(8)
        .map(|v| u64::from_le_bytes(v.try_into().expect("8 bytes")));
    let size = if size == marked {
        values.next().unwrap_or(size)
    } else {
        size
    };
    let compressed = if compressed == marked {
        values.next().unwrap_or(compressed)
    } else {
        compressed
    };
    (compressed, size)
}

/// A raw deflate stream inflated piece by piece into a fixed buffer.
struct Inflate {
    state: Decompress,
    out: Box<[u8]>,
}

impl Inflate {
    fn new() -> Self {
        Self {
            state: Decompress::new(false),
            out: vec![0; 32 << 10].into_boxed_slice(),
        }
    }

    /// Inflates what it can of `input`, each piece of output to `sink` with the compressed
    /// bytes read so far; returns the input used and whether the stream ended.
    fn feed(
        &mut self,
        input: &[u8],
        sink: &mut impl FnMut(&[u8], Option<u64>) -> Result<(), String>,
    ) -> Result<(usize, bool), String> {
        let mut used = 0;
        loop {
            let (read_before, wrote_before) = (self.state.total_in(), self.state.total_out());
            let status = self
                .state
                .decompress(&input[used..], &mut self.out, FlushDecompress::None)
                .map_err(|err| format!("damaged deflate data ({err})"))?;
            let read = (self.state.total_in() - read_before) as usize;
            let wrote = (self.state.total_out() - wrote_before) as usize;
            used += read;
            if wrote > 0 {
                sink(&self.out[..wrote], Some(self.state.total_in()))?;
            }
            if status == Status::StreamEnd {
                return Ok((used, true));
            }
            if read == 0 && wrote == 0 {
                return Ok((used, false));
            }
        }
    }
}

/// A tar header block, as far as unpacking needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TarHeader {
    pub name: String,
    pub size: u64,
    pub kind: u8,
}

impl TarHeader {
    /// None for an all-zero block (the end of the archive).
    pub fn parse(block: &[u8; 512]) -> Result<Option<Self>, String> {
        if block.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        let recorded = octal(&block[148..156]).ok_or("an unreadable checksum")?;
        let sum: u64 = block
            .iter()
            .enumerate()
            .map(|(at, &b)| {
                if (148..156).contains(&at) {
                    32
                } else {
                    u64::from(b)
                }
            })
            .sum();
        if sum != recorded {
            return Err("its checksum does not match".into());
        }
        let size = if block[124] & 0x80 != 0 {
            // GNU base-256 for sizes past 8 GiB.
            block[125..136].iter().fold(0u64, |size, &b| {
                size.saturating_mul(256).saturating_add(u64::from(b))
            })
        } else {
            octal(&block[124..136]).ok_or("an unreadable size")?
        };
        let text = |field: &[u8]| {
            let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
            String::from_utf8_lossy(&field[..end]).into_owned()
        };
        let mut name = text(&block[..100]);
        let prefix = text(&block[345..500]);
        if &block[257..262] == b"ustar" && !prefix.is_empty() {
            name = format!("{prefix}/{name}");
        }
        Ok(Some(Self {
            name,
            size,
            kind: block[156],
        }))
    }

    pub fn is_file(&self) -> bool {
        matches!(self.kind, b'0' | 0 | b'7')
    }
}

/// The zeros after a tar entry's data, up to the next 512-byte block.
pub(crate) fn padding(size: u64) -> u64 {
    size.next_multiple_of(512) - size
}

fn octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

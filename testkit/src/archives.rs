//! Archives built in memory, byte by byte per their specifications, for the malware scanner's
//! tests: zip (stored or deflate, optionally streamed with data descriptors or marked
//! encrypted), ustar tar, gzip, and ClamAV's database container.

use flate2::write::{DeflateEncoder, GzEncoder};
use flate2::{Compression, Crc};
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Stored,
    Deflate,
}

/// How a zip's entries are written.
#[derive(Clone, Copy, Debug)]
pub struct ZipStyle {
    pub method: Method,
    /// Sizes and CRC after the data, as a streaming writer (or `zip -` from a pipe) leaves them.
    pub data_descriptor: bool,
    /// The encryption flag set (the bytes are left as they are: only the flag matters here).
    pub encrypted: bool,
}

impl ZipStyle {
    pub const DEFLATE: Self = Self {
        method: Method::Deflate,
        data_descriptor: false,
        encrypted: false,
    };
    pub const STORED: Self = Self {
        method: Method::Stored,
        ..Self::DEFLATE
    };
}

/// A zip of `entries` (name, content), with a central directory.
pub fn zip(entries: &[(&str, &[u8])], style: ZipStyle) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, content) in entries {
        let mut crc = Crc::new();
        crc.update(content);
        let data = match style.method {
            Method::Stored => content.to_vec(),
            Method::Deflate => {
                let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
                encoder.write_all(content).expect("in memory");
                encoder.finish().expect("in memory")
            }
        };
        let flags: u16 = u16::from(style.encrypted) | if style.data_descriptor { 8 } else { 0 };
        let method: u16 = if style.method == Method::Stored { 0 } else { 8 };
        let (header_crc, header_sizes) = if style.data_descriptor {
            (0, (0, 0))
        } else {
            (crc.sum(), (data.len() as u32, content.len() as u32))
        };
        let offset = out.len() as u32;
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&header_crc.to_le_bytes());
        out.extend_from_slice(&header_sizes.0.to_le_bytes());
        out.extend_from_slice(&header_sizes.1.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&data);
        if style.data_descriptor {
            out.extend_from_slice(b"PK\x07\x08");
            out.extend_from_slice(&crc.sum().to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(content.len() as u32).to_le_bytes());
        }
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&flags.to_le_bytes());
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&[0; 4]);
        central.extend_from_slice(&crc.sum().to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(content.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let directory_at = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&directory_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A ustar tar of `entries` (name up to 100 bytes, content), ended by two zero blocks.
pub fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, content) in entries {
        let mut block = [0u8; 512];
        block[..name.len()].copy_from_slice(name.as_bytes());
        let fields: [(usize, String); 9] = [
            (100, "0000644\0".into()),
            (108, "0000000\0".into()),
            (116, "0000000\0".into()),
            (124, format!("{:011o}\0", content.len())),
            (136, "00000000000\0".into()),
            (148, "        ".into()),
            (156, "0".into()),
            (257, "ustar\0".into()),
            (263, "00".into()),
        ];
        for (at, text) in fields {
            block[at..at + text.len()].copy_from_slice(text.as_bytes());
        }
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&block);
        out.extend_from_slice(content);
        out.resize(out.len().next_multiple_of(512), 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// `content` gzipped, with `name` as the stored file name when given.
pub fn gzip(content: &[u8], name: Option<&str>) -> Vec<u8> {
    let mut builder = flate2::GzBuilder::new();
    if let Some(name) = name {
        builder = builder.filename(name);
    }
    let mut encoder: GzEncoder<Vec<u8>> = builder.write(Vec::new(), Compression::default());
    encoder.write_all(content).expect("in memory");
    encoder.finish().expect("in memory")
}

/// A database in ClamAV's container format: the 512-byte header (with the MD5 of what follows;
/// the dsig a placeholder, as in any unofficial database), then the files as a tar, gzipped
/// for a `.cvd` (`compressed`), plain for a `.cld`.
pub fn clamav_database(version: u64, files: &[(&str, &[u8])], compressed: bool) -> Vec<u8> {
    use md5::Digest;
    let archive = tar(files);
    let body = if compressed {
        gzip(&archive, None)
    } else {
        archive
    };
    let signatures: usize = files
        .iter()
        .map(|(_, bytes)| {
            bytes
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count()
        })
        .sum();
    let md5: String = md5::Md5::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut database = format!(
        "ClamAV-VDB:06 Dec 2026 09-00 +0000:{version}:{signatures}:90:{md5}:unsigned:s3-triage:1796547600"
    )
    .into_bytes();
    database.resize(512, b' ');
    database.extend_from_slice(&body);
    database
}

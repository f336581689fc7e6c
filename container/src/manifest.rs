//! The manifest a finished stream leaves under the reserved prefix: what the object is, the
//! checksums to verify a later copy against, how the read went, and what the checks found.

use crate::digest::{Digests, Verification};
use compliance::checker::Judgement;
use object_events::ObjectRef;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct Manifest<'a> {
    pub source: &'a ObjectRef,
    pub correlation_id: &'a str,
    pub size: u64,
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub verification: &'a Verification,
    pub part_size: u64,
    pub parts: Vec<Part<'a>>,
    pub retries: u32,
    pub timings_ms: Timings,
    pub throughput_mib_per_s: f64,
    /// Each compliance check's full judgement (counts and offsets, never personal data).
    pub checks: &'a BTreeMap<&'static str, Judgement>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Part<'a> {
    pub number: usize,
    pub offset: u64,
    pub length: u64,
    pub crc32c: &'a str,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Timings {
    pub describe: u64,
    pub stream: u64,
    pub total: u64,
}

impl<'a> Manifest<'a> {
    pub fn parts(digests: &'a Digests, size: u64, part_size: u64) -> Vec<Part<'a>> {
        digests
            .part_crc32c
            .iter()
            .enumerate()
            .map(|(index, crc32c)| {
                let offset = index as u64 * part_size;
                Part {
                    number: index + 1,
                    offset,
                    length: part_size.min(size.saturating_sub(offset)),
                    crc32c,
                }
            })
            .collect()
    }
}

//! The digests the stream feeds, each on its own thread so hashing overlaps the download:
//! SHA-256 of the whole object on one; per-part CRC32C and the check against what S3 stored
//! on the other; the compliance checks (malware signatures, content, PII), when configured,
//! on a third, so the object is still read once.
//!
//! The check uses the strongest thing S3 holds that the bytes can reproduce: a whole-object
//! checksum from the upload (CRC64NVME, CRC32C, CRC32, SHA-256), else the eTag, which is the
//! MD5 of a single-part upload or the MD5 of the part MD5s of a multipart one, except under
//! KMS encryption, where it is neither.

use bytes::Bytes;
use compliance::checker::{judge_all, Checker, Judgement, Subject};
use md5::{Digest as _, Md5};
use serde::Serialize;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use worker_common::s3::{hex, multipart_parts, StoredObject};

/// Buffers queued to each hashing thread: what lets the download run ahead of hashing.
const QUEUED_BUFFERS: usize = 4;

/// What the streamed bytes must reproduce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// A whole-object checksum stored at upload, base64 as S3 reports it.
    Checksum { algorithm: Algorithm, value: String },
    /// A single-part upload's eTag: the MD5 of the bytes, hex.
    Md5 { etag: String },
    /// A multipart upload's eTag: MD5 of the MD5s of parts of `part_size` bytes, then `-<parts>`.
    MultipartMd5 { etag: String, part_size: u64 },
    /// Nothing S3 holds can be recomputed from the bytes, and why.
    Nothing(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Algorithm {
    Crc64Nvme,
    Crc32C,
    Crc32,
    Sha256,
}

impl Algorithm {
    /// As S3 names it (`x-amz-checksum-crc64nvme`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Crc32C => "CRC32C",
            Algorithm::Crc32 => "CRC32",
            Algorithm::Sha256 => "SHA256",
        }
    }
}

impl Expected {
    pub fn from_stored(stored: &StoredObject) -> Self {
        let stored_checksums = [
            (Algorithm::Crc64Nvme, &stored.crc64nvme),
            (Algorithm::Crc32C, &stored.crc32c),
            (Algorithm::Crc32, &stored.crc32),
            (Algorithm::Sha256, &stored.sha256),
        ];
        if let Some((algorithm, Some(value))) = stored_checksums
            .into_iter()
            .find(|(_, value)| value.is_some())
        {
            return Expected::Checksum {
                algorithm,
                value: value.clone(),
            };
        }
        let Some(etag) = stored.etag.clone() else {
            return Expected::Nothing("S3 reported neither a checksum nor an eTag");
        };
        if stored
            .encryption
            .as_deref()
            .is_some_and(|sse| sse.starts_with("aws:kms"))
        {
            return Expected::Nothing(
                "the object is KMS-encrypted and has no stored checksum, so its eTag is not an MD5",
            );
        }
        match (multipart_parts(&etag), stored.upload_part_size) {
            (None, _) => Expected::Md5 { etag },
            (Some(_), Some(part_size)) if part_size > 0 => {
                Expected::MultipartMd5 { etag, part_size }
            }
            (Some(_), _) => Expected::Nothing("the multipart upload's part size is unknown"),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Expected::Checksum { algorithm, .. } => format!("stored {} checksum", algorithm.name()),
            Expected::Md5 { .. } => "eTag (MD5)".into(),
            Expected::MultipartMd5 { part_size, .. } => {
                format!("multipart eTag (MD5 of {part_size}-byte parts)")
            }
            Expected::Nothing(reason) => format!("nothing: {reason}"),
        }
    }
}

/// How the check against S3 came out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Verification {
    Matched {
        against: String,
    },
    Mismatched {
        against: String,
        stored: String,
        computed: String,
    },
    Unverified {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Digests {
    /// Lowercase hex, as the audit trail records it.
    pub sha256: String,
    /// CRC32C of each stream part, base64 as S3 writes checksums.
    pub part_crc32c: Vec<String>,
    pub verification: Verification,
    /// Each compliance check's judgement, by checker.
    pub checks: BTreeMap<&'static str, Judgement>,
}

#[derive(Debug, thiserror::Error)]
#[error("a hashing thread stopped unexpectedly")]
pub struct HasherGone;

/// The running digests: feed every byte in order, then [`Hashers::finish`].
pub struct Hashers {
    feeds: Vec<mpsc::Sender<Bytes>>,
    sha256: oneshot::Receiver<[u8; 32]>,
    checks: oneshot::Receiver<(Vec<String>, Option<String>)>,
    judgements: Option<oneshot::Receiver<Vec<(&'static str, Judgement)>>>,
    expected: Expected,
}

/// The compliance checks the pass runs besides hashing, on a thread of their own, and what
/// they may know of the object.
pub struct PassChecks {
    pub checkers: Arc<Vec<Box<dyn Checker>>>,
    pub key: String,
    pub size: u64,
}

impl Hashers {
    /// Starts the threads. `part_size` is the stream's part size, for the per-part CRC32C.
    pub fn start(expected: Expected, part_size: u64, pass_checks: Option<PassChecks>) -> Self {
        let (sha_feed, mut sha_input) = mpsc::channel::<Bytes>(QUEUED_BUFFERS);
        let (check_feed, mut check_input) = mpsc::channel::<Bytes>(QUEUED_BUFFERS);
        let (sha_done, sha256) = oneshot::channel();
        let (checks_done, checks) = oneshot::channel();
        std::thread::spawn(move || {
            let mut hasher = Sha256::new();
            while let Some(bytes) = sha_input.blocking_recv() {
                hasher.update(&bytes);
            }
            let _ = sha_done.send(hasher.finalize().into());
        });
        let mut running = Running::for_expected(&expected);
        std::thread::spawn(move || {
            let mut parts = Segmented::new(part_size, || {
                crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi)
            });
            while let Some(bytes) = check_input.blocking_recv() {
                parts.update(&bytes);
                running.update(&bytes);
            }
            let parts = parts
                .finish()
                .into_iter()
                .map(|crc| base64_crc(crc.finalize(), 4))
                .collect();
            let _ = checks_done.send((parts, running.finish()));
        });
        let mut feeds = vec![sha_feed, check_feed];
        let judgements = pass_checks
            .filter(|c| !c.checkers.is_empty())
            .map(|checks| {
                let (feed, mut input) = mpsc::channel::<Bytes>(QUEUED_BUFFERS);
                feeds.push(feed);
                let (judged, judgements) = oneshot::channel();
                std::thread::spawn(move || {
                    let subject = Subject {
                        key: &checks.key,
                        declared_type: None,
                        size: checks.size,
                    };
                    let chunks = std::iter::from_fn(|| input.blocking_recv());
                    let _ = judged.send(judge_all(&checks.checkers, subject, chunks));
                });
                judgements
            });
        Self {
            feeds,
            sha256,
            checks,
            judgements,
            expected,
        }
    }

    pub async fn feed(&self, bytes: Bytes) -> Result<(), HasherGone> {
        for feed in &self.feeds {
            feed.send(bytes.clone()).await.map_err(|_| HasherGone)?;
        }
        Ok(())
    }

    pub async fn finish(self) -> Result<Digests, HasherGone> {
        drop(self.feeds);
        let sha256 = self.sha256.await.map_err(|_| HasherGone)?;
        let (part_crc32c, computed) = self.checks.await.map_err(|_| HasherGone)?;
        let checks = match self.judgements {
            Some(judgements) => judgements.await.map_err(|_| HasherGone)?,
            None => Vec::new(),
        };
        let compare = |stored: &str, computed: String| {
            let against = self.expected.describe();
            if stored == computed {
                Verification::Matched { against }
            } else {
                Verification::Mismatched {
                    against,
                    stored: stored.to_owned(),
                    computed,
                }
            }
        };
        let verification = match &self.expected {
            Expected::Checksum {
                algorithm: Algorithm::Sha256,
                value,
            } => compare(value, aws_smithy_types::base64::encode(sha256)),
            Expected::Checksum { value, .. } => compare(value, computed.unwrap_or_default()),
            Expected::Md5 { etag } | Expected::MultipartMd5 { etag, .. } => {
                compare(etag, computed.unwrap_or_default())
            }
            Expected::Nothing(reason) => Verification::Unverified {
                reason: (*reason).to_owned(),
            },
        };
        Ok(Digests {
            sha256: hex(&sha256),
            part_crc32c,
            verification,
            checks: checks.into_iter().collect(),
        })
    }
}

/// The check thread's running digest for [`Expected`] (SHA-256 is the other thread's).
enum Running {
    Crc {
        digest: crc_fast::Digest,
        bytes: usize,
    },
    Md5(Md5),
    MultipartMd5(Segmented<Md5>),
    Nothing,
}

impl Running {
    fn for_expected(expected: &Expected) -> Self {
        let crc = |algorithm, bytes| Running::Crc {
            digest: crc_fast::Digest::new(algorithm),
            bytes,
        };
        match expected {
            Expected::Checksum { algorithm, .. } => match algorithm {
                Algorithm::Crc64Nvme => crc(crc_fast::CrcAlgorithm::Crc64Nvme, 8),
                Algorithm::Crc32C => crc(crc_fast::CrcAlgorithm::Crc32Iscsi, 4),
                Algorithm::Crc32 => crc(crc_fast::CrcAlgorithm::Crc32IsoHdlc, 4),
                Algorithm::Sha256 => Running::Nothing,
            },
            Expected::Md5 { .. } => Running::Md5(Md5::new()),
            Expected::MultipartMd5 { part_size, .. } => {
                Running::MultipartMd5(Segmented::new(*part_size, Md5::new))
            }
            Expected::Nothing(_) => Running::Nothing,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Running::Crc { digest, .. } => digest.update(bytes),
            Running::Md5(md5) => md5.update(bytes),
            Running::MultipartMd5(parts) => parts.update(bytes),
            Running::Nothing => {}
        }
    }

    /// The value in the form S3 reports it (base64 checksum, hex eTag).
    fn finish(self) -> Option<String> {
        match self {
            Running::Crc { digest, bytes } => Some(base64_crc(digest.finalize(), bytes)),
            Running::Md5(md5) => Some(hex(&md5.finalize())),
            Running::MultipartMd5(parts) => {
                let parts = parts.finish();
                let count = parts.len();
                let mut outer = Md5::new();
                for part in parts {
                    outer.update(part.finalize());
                }
                Some(format!("{}-{count}", hex(&outer.finalize())))
            }
            Running::Nothing => None,
        }
    }
}

/// The last `bytes` bytes of `crc`, big-endian, base64: how S3 writes CRC checksums.
fn base64_crc(crc: u64, bytes: usize) -> String {
    let be = crc.to_be_bytes();
    aws_smithy_types::base64::encode(&be[be.len() - bytes..])
}

/// A digest restarted every `size` bytes: the digests of consecutive fixed-size parts.
struct Segmented<H> {
    size: u64,
    filled: u64,
    current: H,
    done: Vec<H>,
    new: fn() -> H,
}

/// The one thing [`Segmented`] needs of a digest (the CRC and MD5 crates share no trait).
trait Absorb {
    fn absorb(&mut self, bytes: &[u8]);
}

impl Absorb for crc_fast::Digest {
    fn absorb(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Absorb for Md5 {
    fn absorb(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl<H: Absorb> Segmented<H> {
    fn new(size: u64, new: fn() -> H) -> Self {
        Self {
            size: size.max(1),
            filled: 0,
            current: new(),
            done: Vec::new(),
            new,
        }
    }

    fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.filled == self.size {
                let finished = std::mem::replace(&mut self.current, (self.new)());
                self.done.push(finished);
                self.filled = 0;
            }
            let room = usize::try_from(self.size - self.filled).unwrap_or(usize::MAX);
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.current.absorb(now);
            self.filled += now.len() as u64;
            bytes = later;
        }
    }

    /// Every part's digest; an empty input has none.
    fn finish(mut self) -> Vec<H> {
        if self.filled > 0 {
            self.done.push(self.current);
        }
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(etag: &str) -> StoredObject {
        StoredObject {
            size: 10,
            etag: Some(etag.into()),
            ..StoredObject::default()
        }
    }

    #[test]
    fn the_strongest_stored_value_is_chosen() {
        let with_checksums = StoredObject {
            crc32: Some("crc32".into()),
            sha256: Some("sha".into()),
            ..stored("abc")
        };
        assert_eq!(
            Expected::from_stored(&with_checksums),
            Expected::Checksum {
                algorithm: Algorithm::Crc32,
                value: "crc32".into()
            }
        );
        assert_eq!(
            Expected::from_stored(&stored("abc")),
            Expected::Md5 { etag: "abc".into() }
        );
        let multipart = StoredObject {
            upload_part_size: Some(8 << 20),
            ..stored("abc-3")
        };
        assert_eq!(
            Expected::from_stored(&multipart),
            Expected::MultipartMd5 {
                etag: "abc-3".into(),
                part_size: 8 << 20
            }
        );
    }

    #[test]
    fn an_etag_that_is_no_md5_is_not_checked() {
        let kms = StoredObject {
            encryption: Some("aws:kms".into()),
            ..stored("abc")
        };
        assert!(matches!(Expected::from_stored(&kms), Expected::Nothing(_)));
        assert!(matches!(
            Expected::from_stored(&stored("abc-2")),
            Expected::Nothing(_)
        ));
        assert!(matches!(
            Expected::from_stored(&StoredObject::default()),
            Expected::Nothing(_)
        ));
    }
}

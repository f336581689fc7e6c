//! The stream against an in-memory source with scripted faults: digests equal reference
//! digests at every size around part boundaries, a part that fails is resumed, a checksum
//! that does not match is reported, and cancelling stops the pass.

use bytes::Bytes;
use futures::stream::{self, StreamExt};
use large_file::digest::{Algorithm, Expected, Hashers, Verification};
use large_file::source::{Chunks, RangeSource};
use large_file::stream::{stream_object, StreamError, StreamSettings};
use md5::{Digest as _, Md5};
use sha2::Sha256;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use worker_common::s3::hex;
use worker_common::Failure;

const PART: u64 = 64 * 1024;

#[derive(Clone)]
struct MemorySource {
    data: Arc<Vec<u8>>,
    chunk: usize,
    /// Reads of the part starting at this offset that fail midway, still to come.
    failures: Arc<Mutex<HashMap<u64, u32>>>,
    /// After this many bytes of a read, the body stops sending without ending.
    stall_after: Option<usize>,
}

impl MemorySource {
    fn new(size: usize) -> Self {
        let data = (0..size).map(|i| (i * 7 + i / 251) as u8).collect();
        Self {
            data: Arc::new(data),
            chunk: 10_000,
            failures: Arc::default(),
            stall_after: None,
        }
    }
}

impl RangeSource for MemorySource {
    async fn open(&self, range: Range<u64>) -> Result<Chunks, Failure> {
        let bytes = Bytes::copy_from_slice(&self.data[range.start as usize..range.end as usize]);
        let part_start = range.start - range.start % PART;
        let fail = {
            let mut failures = self.failures.lock().expect("lock");
            match failures.get_mut(&part_start) {
                Some(left) if *left > 0 => {
                    *left -= 1;
                    true
                }
                _ => false,
            }
        };
        let mut chunks: Vec<Result<Bytes, Failure>> = bytes
            .chunks(self.chunk)
            .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
            .collect();
        if fail {
            // Half the range arrives, then the connection drops.
            chunks.truncate(chunks.len() / 2);
            chunks.push(Err(Failure::Transient("connection reset".into())));
        }
        if let Some(after) = self.stall_after {
            let sent = stream::iter(chunks.into_iter().take(after.div_ceil(self.chunk)));
            return Ok(sent.chain(stream::pending()).boxed());
        }
        Ok(stream::iter(chunks).boxed())
    }
}

fn settings(parallelism: usize) -> StreamSettings {
    StreamSettings {
        part_size: PART,
        parallelism,
        attempts: 4,
        retry_delay: Duration::from_millis(1),
    }
}

async fn run(
    source: &MemorySource,
    settings: &StreamSettings,
    expected: Expected,
) -> Result<(large_file::digest::Digests, u32), StreamError> {
    let hashers = Hashers::start(expected, settings.part_size, None);
    let progress = AtomicU64::new(0);
    let streamed = stream_object(
        source,
        source.data.len() as u64,
        settings,
        &hashers,
        &progress,
        &CancellationToken::new(),
    )
    .await?;
    Ok((hashers.finish().await?, streamed.retries))
}

fn md5_etag(data: &[u8]) -> String {
    hex(&Md5::digest(data))
}

#[tokio::test]
async fn digests_match_reference_digests_around_part_boundaries() {
    let part = PART as usize;
    for size in [0, 1, part - 1, part, part + 1, 3 * part + 1] {
        for parallelism in [1, 3] {
            let source = MemorySource::new(size);
            let expected = Expected::Md5 {
                etag: md5_etag(&source.data),
            };
            let (digests, retries) = run(&source, &settings(parallelism), expected)
                .await
                .expect("streamed");
            assert_eq!(
                digests.sha256,
                hex(&Sha256::digest(source.data.as_slice())),
                "size {size}"
            );
            assert_eq!(retries, 0);
            assert!(
                matches!(digests.verification, Verification::Matched { .. }),
                "size {size}: {:?}",
                digests.verification
            );
            let reference_parts: Vec<String> = source
                .data
                .chunks(part)
                .map(|chunk| {
                    let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, chunk) as u32;
                    aws_smithy_types::base64::encode(crc.to_be_bytes())
                })
                .collect();
            assert_eq!(digests.part_crc32c, reference_parts, "size {size}");
        }
    }
}

#[tokio::test]
async fn stored_checksums_and_multipart_etags_are_recomputed() {
    let source = MemorySource::new(5 * PART as usize + 123);
    let data = source.data.as_slice();
    let crc32 = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data) as u32;
    let crc64 = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, data);
    let sha = aws_smithy_types::base64::encode(Sha256::digest(data));
    let upload_part = 100_000usize;
    let mut outer = Md5::new();
    for part in data.chunks(upload_part) {
        outer.update(Md5::digest(part));
    }
    let multipart = format!(
        "{}-{}",
        hex(&outer.finalize()),
        data.len().div_ceil(upload_part)
    );
    let cases = [
        Expected::Checksum {
            algorithm: Algorithm::Crc32,
            value: aws_smithy_types::base64::encode(crc32.to_be_bytes()),
        },
        Expected::Checksum {
            algorithm: Algorithm::Crc64Nvme,
            value: aws_smithy_types::base64::encode(crc64.to_be_bytes()),
        },
        Expected::Checksum {
            algorithm: Algorithm::Sha256,
            value: sha,
        },
        Expected::MultipartMd5 {
            etag: multipart,
            part_size: upload_part as u64,
        },
    ];
    for expected in cases {
        let (digests, _) = run(&source, &settings(2), expected.clone())
            .await
            .expect("streamed");
        assert!(
            matches!(digests.verification, Verification::Matched { .. }),
            "{expected:?}: {:?}",
            digests.verification
        );
    }
}

#[tokio::test]
async fn a_checksum_that_does_not_match_is_a_mismatch() {
    let source = MemorySource::new(2 * PART as usize);
    let expected = Expected::Checksum {
        algorithm: Algorithm::Crc32,
        value: "AAAAAA==".into(),
    };
    let (digests, _) = run(&source, &settings(2), expected)
        .await
        .expect("streamed");
    match digests.verification {
        Verification::Mismatched {
            against,
            stored,
            computed,
        } => {
            assert_eq!(against, "stored CRC32 checksum");
            assert_eq!(stored, "AAAAAA==");
            assert_ne!(computed, stored);
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn a_part_that_fails_twice_is_resumed_and_the_digest_is_unchanged() {
    let source = MemorySource::new(4 * PART as usize);
    source.failures.lock().expect("lock").insert(PART, 2);
    let (digests, retries) = run(&source, &settings(3), Expected::Nothing("test"))
        .await
        .expect("streamed after retries");
    assert_eq!(retries, 2);
    assert_eq!(digests.sha256, hex(&Sha256::digest(source.data.as_slice())));
    assert_eq!(digests.part_crc32c.len(), 4);
}

#[tokio::test]
async fn a_part_that_keeps_failing_gives_up_after_its_attempts() {
    let source = MemorySource::new(4 * PART as usize);
    source.failures.lock().expect("lock").insert(2 * PART, 10);
    let failure = run(&source, &settings(2), Expected::Nothing("test"))
        .await
        .expect_err("gave up");
    match failure {
        StreamError::Source(Failure::Transient(reason)) => {
            assert!(reason.contains("gave up after 4 attempts"), "{reason}")
        }
        other => panic!("expected a transient failure, got {other:?}"),
    }
}

#[tokio::test]
async fn cancelling_stops_a_stalled_pass_with_the_bytes_done() {
    let mut source = MemorySource::new(4 * PART as usize);
    source.stall_after = Some(30_000);
    let hashers = Hashers::start(Expected::Nothing("test"), PART, None);
    let progress = AtomicU64::new(0);
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stopper.cancel();
    });
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        stream_object(
            &source,
            4 * PART,
            &settings(1),
            &hashers,
            &progress,
            &cancel,
        ),
    )
    .await
    .expect("cancel ends the pass");
    match result {
        Err(StreamError::Interrupted { bytes_done }) => assert_eq!(bytes_done, 30_000),
        other => panic!("expected an interruption, got {other:?}"),
    }
}

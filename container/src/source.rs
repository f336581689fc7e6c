//! Where the stream's bytes come from: an object version in S3, read by ranged GETs, or a
//! local file (benchmarks, and what a disk-backed test needs).

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};
use object_events::ObjectRef;
use std::future::Future;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use worker_common::s3::S3Store;
use worker_common::Failure;

/// The bytes of one range, in the chunks they arrive in.
pub type Chunks = BoxStream<'static, Result<Bytes, Failure>>;

/// A source of byte ranges of one fixed object. Cloned into each concurrent part reader.
pub trait RangeSource: Clone + Send + Sync + 'static {
    fn open(&self, range: Range<u64>) -> impl Future<Output = Result<Chunks, Failure>> + Send;
}

/// The event's object version in S3 (pinned by versionId or eTag, so a concurrent overwrite
/// fails the read instead of mixing two uploads).
#[derive(Clone)]
pub struct S3Source {
    pub store: S3Store,
    pub object: ObjectRef,
}

impl RangeSource for S3Source {
    async fn open(&self, range: Range<u64>) -> Result<Chunks, Failure> {
        let body = self.store.read_range(&self.object, range).await?;
        Ok(stream::unfold(body, |mut body| async move {
            let chunk = body
                .try_next()
                .await
                .map_err(|err| Failure::Transient(format!("reading the object failed: {err}")))
                .transpose()?;
            Some((chunk, body))
        })
        .boxed())
    }
}

/// A local file, read in chunks of `chunk_bytes`.
#[derive(Clone)]
pub struct FileSource {
    path: Arc<PathBuf>,
    chunk_bytes: usize,
}

impl FileSource {
    pub fn new(path: impl Into<PathBuf>, chunk_bytes: usize) -> Self {
        Self {
            path: Arc::new(path.into()),
            chunk_bytes: chunk_bytes.max(1),
        }
    }
}

impl RangeSource for FileSource {
    async fn open(&self, range: Range<u64>) -> Result<Chunks, Failure> {
        let failed =
            |err: std::io::Error| Failure::Transient(format!("reading the file failed: {err}"));
        let mut file = tokio::fs::File::open(self.path.as_ref())
            .await
            .map_err(failed)?;
        file.seek(std::io::SeekFrom::Start(range.start))
            .await
            .map_err(failed)?;
        let reader = file.take(range.end - range.start);
        Ok(
            tokio_util::io::ReaderStream::with_capacity(reader, self.chunk_bytes)
                .map(move |chunk| chunk.map_err(failed))
                .boxed(),
        )
    }
}

//! One invocation: the router's dispatch in, thumbnails and one audit record out.
//!
//! Bad images are the user's problem, not a retry's: they are recorded FAILED with a reason
//! and the invocation succeeds. Only faults that may pass (throttling, timeouts, a concurrent
//! delivery of the same object) fail the invocation, so Lambda retries it and, after its
//! retries, sends it to the on-failure destination. An image gets what is left of the
//! invocation, less the time to record it, so even one that never finishes decoding is
//! recorded FAILED "deadline" rather than timing out unrecorded.

use crate::config::ThumbnailConfig;
use crate::decode::DecodeError;
use crate::render::{render, RenderError, RenderSettings, Rendered};
use audit::{AuditRecord, Recorder, Status};
use chrono::{DateTime, Utc};
use image::ImageFormat;
use object_events::{Dispatch, ObjectKey};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use worker_common::deadline::Invocation;
use worker_common::s3::{sha256_hex, source_metadata, S3Store};
use worker_common::step::{self, StepError, Stepped};
use worker_common::Failure;

pub const STAGE: &str = "thumbnail";
/// Reading an image (at most the 50 MiB it may have) and writing its thumbnails: what an
/// invocation needs besides rendering and recording.
pub const TRANSFER: Duration = Duration::from_secs(8);
/// How long past its deadline a render may run before it is given up on.
const GRACE: Duration = Duration::from_secs(1);

pub struct ThumbnailWorker {
    pub store: S3Store,
    pub recorder: Recorder,
    pub config: ThumbnailConfig,
}

/// What one attempt produced, before it is recorded.
struct Done {
    rendered: Rendered,
    sha256: String,
    outputs: Vec<(String, u32, u32, usize)>,
    download: Duration,
    upload: Duration,
}

impl ThumbnailWorker {
    pub async fn handle(&self, payload: Value, invocation: Invocation) -> Result<Value, StepError> {
        let dispatch: Dispatch = serde_json::from_value(payload)
            .map_err(|err| StepError::NotADispatch(err.to_string()))?;
        let dispatch = &dispatch;
        let stepped = step::run(&self.recorder, STAGE, dispatch, |started_at| async move {
            let done = self.process(dispatch, invocation).await?;
            Ok(self.succeeded(dispatch, started_at, done))
        })
        .await?;
        Ok(match stepped {
            Stepped::AlreadyRecorded => json!({ "status": "DUPLICATE" }),
            Stepped::Recorded(record) => {
                json!({ "status": record.status.as_str(), "outputs": record.outputs })
            }
        })
    }

    async fn process(&self, dispatch: &Dispatch, invocation: Invocation) -> Result<Done, Failure> {
        let object = dispatch.object.object_ref();
        let download_started = Instant::now();
        let bytes = self.store.read(&object, self.config.max_bytes).await?;
        let download = download_started.elapsed();
        let sha256 = sha256_hex(&bytes);
        // The render's own limit, or less when the invocation has less left after the
        // transfers and the record.
        let timeout = invocation
            .item_time(self.config.render.timeout + TRANSFER)
            .saturating_sub(TRANSFER);
        if timeout.is_zero() {
            return Err(Failure::Transient(
                "too little of the invocation left to render the image".into(),
            ));
        }
        let settings = RenderSettings {
            timeout,
            ..self.config.render.clone()
        };
        // The decoders stop themselves at the deadline (libjpeg at each scan, the others are
        // bounded by the pixel budget); this is what holds if one does not. Its thread is left
        // to finish: a thread cannot be killed.
        let rendering = tokio::task::spawn_blocking(move || render(&bytes, &settings));
        let rendered = tokio::time::timeout(timeout + GRACE, rendering)
            .await
            .map_err(|_| Failure::Permanent(DecodeError::Deadline.to_string()))?
            .map_err(|_| Failure::Permanent("the image decoder crashed on this file".into()))?
            .map_err(|err: RenderError| Failure::Permanent(err.to_string()))?;
        let upload_started = Instant::now();
        let format = self.config.render.format;
        let mut outputs = Vec::with_capacity(rendered.thumbnails.len());
        for thumbnail in &rendered.thumbnails {
            let output = self.config.outputs.place(
                &object,
                "thumbnails",
                &format!("{}.{}", thumbnail.size, format.extension()),
            );
            self.store
                .write(
                    &output,
                    thumbnail.bytes.clone(),
                    format.content_type(),
                    source_metadata(dispatch),
                )
                .await?;
            outputs.push((
                output.listed(&object),
                thumbnail.width,
                thumbnail.height,
                thumbnail.bytes.len(),
            ));
        }
        Ok(Done {
            rendered,
            sha256,
            outputs,
            download,
            upload: upload_started.elapsed(),
        })
    }

    fn succeeded(&self, dispatch: &Dispatch, started_at: DateTime<Utc>, done: Done) -> AuditRecord {
        let rendered = &done.rendered;
        let ms = |duration: Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        let mut details = json!({
            "detected_format": rendered.detected_format,
            "source_width": rendered.source_width,
            "source_height": rendered.source_height,
            "thumbnails": done.outputs.iter().map(|(key, width, height, bytes)| json!({
                "key": key, "width": width, "height": height, "bytes": bytes,
            })).collect::<Vec<_>>(),
            "timings_ms": {
                "download": ms(done.download),
                "decode": ms(rendered.timings.decode),
                "resize": ms(rendered.timings.resize),
                "encode": ms(rendered.timings.encode),
                "upload": ms(done.upload),
            },
        });
        if let Some(damage) = &rendered.damage {
            details["damaged"] = true.into();
            details["damage"] = damage.message.as_str().into();
        }
        if let Some(mismatch) = extension_mismatch(&dispatch.object.key, &rendered.detected_format)
        {
            details["extension_mismatch"] = mismatch.into();
        }
        if !rendered.notes.is_empty() {
            details["notes"] = rendered.notes.clone().into();
        }
        let content_type = rendered.content_type;
        AuditRecord::for_dispatch(dispatch, STAGE, Status::Succeeded, started_at)
            .with_outputs(done.outputs.into_iter().map(|(key, ..)| key).collect())
            .with_sha256(done.sha256)
            .with_content_type(content_type)
            .with_details(details)
    }
}

/// "key says .png, content is JPEG" when the key's extension names another image format.
fn extension_mismatch(key: &ObjectKey, detected: &str) -> Option<String> {
    let extension = key.as_str().rsplit_once('.')?.1;
    let claimed = ImageFormat::from_extension(extension)?;
    let detected_format = ImageFormat::from_extension(detected.to_lowercase())?;
    (claimed != detected_format).then(|| format!("key says .{extension}, content is {detected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> ObjectKey {
        ObjectKey::new(text).expect("valid key")
    }

    #[test]
    fn a_key_naming_another_image_format_is_noted() {
        assert_eq!(
            extension_mismatch(&key("uploads/images/a.png"), "JPEG").as_deref(),
            Some("key says .png, content is JPEG")
        );
        assert_eq!(
            extension_mismatch(&key("uploads/images/a.JPG"), "JPEG"),
            None
        );
        assert_eq!(extension_mismatch(&key("uploads/images/a"), "JPEG"), None);
    }
}

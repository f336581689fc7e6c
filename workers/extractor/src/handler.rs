//! One document of an SQS batch (see [`worker_common::batch`]): read it, extract text and metadata,
//! write both, record the outcome once. A document that cannot be extracted (corrupt,
//! encrypted, unsupported) is recorded FAILED; S3 or DynamoDB throttling, a concurrent delivery
//! or a parser that could not be started leave the message for redelivery. An e-mail's
//! attachments are written under the reserved prefix's `attachments/`, where their events bring
//! them back to the router as uploads of their own.

use crate::config::ExtractorConfig;
use crate::document;
use crate::isolate::{parse_isolated, IsolationError};
use crate::mail::Attachment;
use crate::text::read_text;
use audit::{AuditRecord, Recorder, Status};
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use object_events::{ContentKind, Dispatch};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use worker_common::batch::{handle_batch, Pace};
use worker_common::deadline::Invocation;
use worker_common::s3::{sha256_hex, source_metadata, S3Store};
use worker_common::step::{self, parse_dispatch, StepError};
use worker_common::Failure;

pub const STAGE: &str = "extractor";

pub struct Extractor {
    pub store: S3Store,
    pub recorder: Recorder,
    pub config: ExtractorConfig,
    /// This executable: it parses each PDF as a child process of itself.
    pub parser: PathBuf,
}

/// What one document gave.
struct Extracted {
    text: String,
    details: Value,
    attachments: Vec<Attachment>,
}

impl Extractor {
    pub async fn handle_batch(&self, batch: SqsEvent, invocation: Invocation) -> SqsBatchResponse {
        let pace = Pace {
            concurrency: self.config.concurrency,
            invocation,
            item: self.config.item_time(),
        };
        handle_batch(batch, pace, |body| self.handle_message(body)).await
    }

    pub async fn handle_message(&self, body: String) -> Result<(), StepError> {
        let dispatch = parse_dispatch(&body)?;
        step::run(&self.recorder, STAGE, &dispatch, |started_at| {
            self.process(&dispatch, started_at)
        })
        .await?;
        Ok(())
    }

    async fn process(
        &self,
        dispatch: &Dispatch,
        started_at: DateTime<Utc>,
    ) -> Result<AuditRecord, Failure> {
        let object = dispatch.object.object_ref();
        let download_started = Instant::now();
        let bytes = self.store.read(&object, self.config.max_bytes).await?;
        let download = download_started.elapsed();
        let sha256 = sha256_hex(&bytes);
        let parse_started = Instant::now();
        let extension = dispatch.object.key.extension();
        let (content_type, extracted) = if let Some(kind) =
            document::Kind::of(&bytes, extension.as_deref())
        {
            self.parse(bytes, kind).await?
        } else if ContentKind::from_key(&dispatch.object.key) == ContentKind::Text {
            ("text/plain", text_document(&bytes))
        } else {
            return Err(Failure::Permanent(
                "unsupported document: not a PDF, Office (DOCX, XLSX, PPTX), OpenDocument (ODT, ODS, ODP), EPUB, RTF, HTML or e-mail file by its bytes or name, nor a text file (.txt, .md, .csv, .json)".into(),
            ));
        };
        let parse = parse_started.elapsed();
        let upload_started = Instant::now();
        let text_output = self.config.outputs.place(&object, "text", "text.txt");
        let metadata_output = self.config.outputs.place(&object, "text", "metadata.json");
        let mut details = extracted.details;
        details["characters"] = extracted.text.chars().count().into();
        let metadata = source_metadata(dispatch);
        self.store
            .write(
                &text_output,
                extracted.text.into_bytes(),
                "text/plain; charset=utf-8",
                metadata.clone(),
            )
            .await?;
        self.store
            .write(
                &metadata_output,
                details.to_string().into_bytes(),
                "application/json",
                metadata,
            )
            .await?;
        let mut outputs = vec![text_output.listed(&object), metadata_output.listed(&object)];
        for (index, attachment) in extracted.attachments.into_iter().enumerate() {
            let reentered = self.reenter(dispatch, attachment, index + 1).await?;
            if let Some(Value::Object(described)) =
                details.pointer_mut(&format!("/mail/attachments/{index}"))
            {
                match &reentered {
                    Ok(key) => described.insert("key".into(), key.as_str().into()),
                    Err(reason) => described.insert("not_reentered".into(), reason.as_str().into()),
                };
            }
            outputs.extend(reentered.ok());
        }
        let ms = |duration: Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        details["timings_ms"] = json!({
            "download": ms(download),
            "parse": ms(parse),
            "upload": ms(upload_started.elapsed()),
        });
        Ok(
            AuditRecord::for_dispatch(dispatch, STAGE, Status::Succeeded, started_at)
                .with_outputs(outputs)
                .with_sha256(sha256)
                .with_content_type(content_type)
                .with_details(details),
        )
    }

    /// Writes attachment number `position` of the dispatch's e-mail where it re-enters the
    /// pipeline, once: a redelivery finds it there and writes no second version (which would
    /// be processed again). Its key as listed, or why it stays out.
    async fn reenter(
        &self,
        dispatch: &Dispatch,
        attachment: Attachment,
        position: usize,
    ) -> Result<Result<String, String>, Failure> {
        if let Some(reason) = attachment.not_reentered {
            return Ok(Err(reason));
        }
        let object = dispatch.object.object_ref();
        let file_name = attachment.file_name(position);
        let Some(output) = self.config.outputs.attachment(&object, &file_name) else {
            return Ok(Err(
                "the e-mail's key is too long to be kept in its attachments' keys".into(),
            ));
        };
        let content_type = attachment.stored_content_type().to_owned();
        let written = self
            .store
            .write_once(
                &output,
                attachment.contents,
                &content_type,
                source_metadata(dispatch),
            )
            .await?;
        if !written {
            tracing::info!(
                correlation_id = %dispatch.correlation_id,
                key = %output.key,
                "attachment already written by an earlier delivery; not written again"
            );
        }
        Ok(Ok(output.listed(&object)))
    }

    /// A document of `kind`, parsed in the child: its content type and what it gave.
    async fn parse(
        &self,
        bytes: Vec<u8>,
        kind: document::Kind,
    ) -> Result<(&'static str, Extracted), Failure> {
        let parser = self.parser.clone();
        let limits = self.config.parse;
        let parsed =
            tokio::task::spawn_blocking(move || parse_isolated(&parser, bytes, kind, &limits))
                .await
                .map_err(|err| Failure::Transient(format!("the parse task failed: {err}")))?;
        match parsed {
            Ok(mut document) => {
                let attachments = document.take_attachments();
                Ok((
                    document.content_type(),
                    Extracted {
                        text: document.text(),
                        details: document.details(),
                        attachments,
                    },
                ))
            }
            Err(err @ IsolationError::Spawn(_)) => Err(Failure::Transient(err.to_string())),
            Err(err) => Err(Failure::Permanent(err.to_string())),
        }
    }
}

fn text_document(bytes: &[u8]) -> Extracted {
    let document = read_text(bytes);
    Extracted {
        details: json!({
            "kind": "text",
            "encoding": document.encoding,
            "lines": document.lines,
            "words": document.words,
        }),
        text: document.text,
        attachments: Vec::new(),
    }
}

//! What a verdict does to the object: every verdict is written on it as tags (merged with the
//! object's own), so the bucket policy's gate applies at once and consumers read the verdict
//! where they look for it; an INFECTED object is, per configuration, also copied (or moved)
//! under the reserved prefix's `quarantine/`.

use crate::checker::Severity;
use crate::config::VerdictSettings;
use crate::tags::VerdictTags;
use crate::verdict::Verdict;
use audit::{AuditRecord, Claim, RecordError, Recorder, RecorderSettings, VERDICT_STAGE};
use chrono::{DateTime, Utc};
use notifications::SnsNotifier;
use object_events::ObjectRef;
use tracing::warn;
use worker_common::outputs::{Output, Outputs};
use worker_common::s3::S3Store;
use worker_common::Failure;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuarantineMode {
    /// Tag the object where it is.
    Tag,
    /// Tag it and keep a tagged copy under `quarantine/`.
    Copy,
    /// Keep the tagged copy and delete the uploaded version.
    Move,
}

impl std::str::FromStr for QuarantineMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "tag" => Ok(Self::Tag),
            "copy" => Ok(Self::Copy),
            "move" => Ok(Self::Move),
            _ => Err("expected tag, copy or move".into()),
        }
    }
}

pub struct Quarantine {
    pub store: S3Store,
    pub mode: QuarantineMode,
    /// Where copies go (`<reserved prefix>quarantine/`).
    pub outputs: Outputs,
    pub tags: VerdictTags,
}

impl Quarantine {
    /// Where an INFECTED `object`'s copy goes, when this mode keeps one.
    pub fn copy_of(&self, object: &ObjectRef) -> Option<Output> {
        let name = object.key.as_str().rsplit('/').next().unwrap_or("object");
        match self.mode {
            QuarantineMode::Tag => None,
            QuarantineMode::Copy | QuarantineMode::Move => {
                Some(self.outputs.place(object, "quarantine", name))
            }
        }
    }

    /// Leaves `verdict` on `object`: its tags first, so the object is gated before anything
    /// else can fail (no copy can be skipped by a name too long for its key: output keys are
    /// capped at S3's limit, and the tag is already there); then, when INFECTED, the copy
    /// (which carries the tags) and in move mode the deletion. Safe to repeat: the bucket
    /// policy lets the checkers read a tagged object.
    pub async fn apply(
        &self,
        object: &ObjectRef,
        verdict: Severity,
        signature: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), Failure> {
        let tags = self.tags.for_verdict(verdict, signature, at);
        self.store.merge_tags(object, &tags).await?;
        if verdict != Severity::Infected {
            return Ok(());
        }
        if let Some(copy) = self.copy_of(object) {
            self.store.copy(object, &copy).await?;
        }
        if self.mode == QuarantineMode::Move {
            self.store.delete(object).await?;
        }
        Ok(())
    }
}

/// Why a verdict was not concluded this time.
#[derive(Debug, thiserror::Error)]
pub enum ConcludeError {
    #[error(transparent)]
    Record(#[from] RecordError),
    /// Applying the verdict to the object failed in a way a retry may mend.
    #[error("{0}")]
    Transient(String),
}

/// Writes verdicts, for the checkers and the large-file task alike: the record (stage
/// `compliance`) and what it does to the object.
pub struct VerdictWriter {
    pub recorder: Recorder,
    pub quarantine: Quarantine,
}

impl VerdictWriter {
    /// As deployed: the audit table and the notifications topic of `settings`, recording as the
    /// verdict's stage; `verdicts` says what the verdict does to objects in `store`, quarantine
    /// copies going where `outputs` says.
    pub fn deployed(
        aws: &aws_config::SdkConfig,
        settings: &RecorderSettings,
        store: S3Store,
        verdicts: &VerdictSettings,
        outputs: &Outputs,
    ) -> Self {
        let settings = RecorderSettings {
            worker: VERDICT_STAGE.into(),
            ..settings.clone()
        };
        Self {
            recorder: SnsNotifier::recorder(aws, settings),
            quarantine: Quarantine {
                store,
                mode: verdicts.quarantine,
                outputs: outputs.clone(),
                tags: verdicts.tags.clone(),
            },
        }
    }

    /// Writes `verdict`'s `record` (see [`Verdict::record`]) exactly once and applies it to
    /// the object before it is announced: claim, tags (and quarantine), applied, notified. A
    /// verdict another delivery is writing, or has written, is left to it (`Ok(false)`). An
    /// object that is gone or cannot take the tags is recorded with why, so it stays gated
    /// (fail closed).
    pub async fn write(
        &self,
        mut record: AuditRecord,
        verdict: &Verdict,
    ) -> Result<bool, ConcludeError> {
        let (severity, signature) = (verdict.severity, verdict.signature.as_deref());
        let object = record.object.clone();
        if severity == Severity::Infected {
            let copy = self.quarantine.copy_of(&object);
            record =
                record.with_outputs(copy.map(|copy| copy.listed(&object)).into_iter().collect());
        }
        let claim = match self.recorder.claim(&record).await {
            Ok(claim) => claim,
            // Another delivery is writing it; if that one dies, its redelivery finishes.
            Err(RecordError::InProgress { .. }) => return Ok(false),
            Err(err) => return Err(err.into()),
        };
        if claim == Claim::AlreadyRecorded {
            return Ok(false);
        }
        if claim.needs_effect() {
            match self
                .quarantine
                .apply(&object, severity, signature, record.finished_at)
                .await
            {
                Ok(()) => self.recorder.mark_applied(&record).await?,
                Err(Failure::Transient(reason)) => {
                    warn!(key = %object.key, reason, "applying the verdict failed; it waits for a retry");
                    let _ = self.recorder.release(&record).await;
                    return Err(ConcludeError::Transient(reason));
                }
                Err(Failure::Permanent(reason)) => {
                    let what = if severity == Severity::Infected {
                        "not quarantined"
                    } else {
                        "not tagged"
                    };
                    let reason = match &record.reason {
                        Some(found) => format!("{found}; {what}: {reason}"),
                        None => format!("{what}: {reason}"),
                    };
                    record = record.with_reason(reason).with_outputs(Vec::new());
                    self.recorder.finish(&record).await?;
                    return Ok(true);
                }
            }
        }
        self.recorder.complete(&record).await?;
        Ok(true)
    }
}

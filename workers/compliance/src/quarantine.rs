//! What happens to an INFECTED object: tagged so the bucket policy denies downloading it, and,
//! per configuration, copied (or moved) under the reserved prefix's `quarantine/`.

use object_events::ObjectRef;
use worker_common::s3::{output_key, S3Store};
use worker_common::Failure;

/// The tag the bucket policy in terraform (`modules/ingest`) denies GetObject on.
pub const VERDICT_TAG: (&str, &str) = ("s3-triage-verdict", "infected");

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
    pub reserved_prefix: String,
}

impl Quarantine {
    /// Where `object`'s quarantined copy goes, when this mode keeps one.
    pub fn copy_key(&self, object: &ObjectRef) -> Option<String> {
        let name = object.key.as_str().rsplit('/').next().unwrap_or("object");
        match self.mode {
            QuarantineMode::Tag => None,
            QuarantineMode::Copy | QuarantineMode::Move => Some(output_key(
                &self.reserved_prefix,
                "quarantine",
                object,
                name,
            )),
        }
    }

    /// Isolates `object`. Safe to repeat: the copy happens before the source is tagged (the
    /// bucket policy would deny reading it after).
    pub async fn isolate(&self, object: &ObjectRef) -> Result<(), Failure> {
        if let Some(key) = self.copy_key(object) {
            self.store.copy_tagged(object, &key, &[VERDICT_TAG]).await?;
        }
        match self.mode {
            QuarantineMode::Move => self.store.delete(object).await,
            QuarantineMode::Tag | QuarantineMode::Copy => {
                self.store.tag(object, &[VERDICT_TAG]).await
            }
        }
    }
}

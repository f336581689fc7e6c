use crate::{ObjectKey, S3Object};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// The processing tiers an object can be routed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Thumbnail,
    Document,
    Compliance,
    Large,
}

impl Tier {
    pub const ALL: [Tier; 4] = [
        Tier::Thumbnail,
        Tier::Document,
        Tier::Compliance,
        Tier::Large,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Thumbnail => "thumbnail",
            Tier::Document => "document",
            Tier::Compliance => "compliance",
            Tier::Large => "large",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tier::ALL
            .into_iter()
            .find(|tier| tier.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown tier {s:?} (expected one of thumbnail, document, compliance, large)"
                )
            })
    }
}

/// What an object claims to be, judged by its extension. Workers sniff the real content; this
/// is only what routing rules and subscribers filter on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentKind {
    Image,
    Pdf,
    Text,
    Other,
}

impl ContentKind {
    pub fn from_key(key: &ObjectKey) -> Self {
        match key.extension().as_deref() {
            Some(
                "jpg" | "jpeg" | "png" | "webp" | "gif" | "tif" | "tiff" | "bmp" | "ico" | "heic"
                | "heif" | "avif",
            ) => ContentKind::Image,
            Some("pdf") => ContentKind::Pdf,
            Some("txt" | "md" | "markdown" | "csv" | "json") => ContentKind::Text,
            _ => ContentKind::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Image => "image",
            ContentKind::Pdf => "pdf",
            ContentKind::Text => "text",
            ContentKind::Other => "other",
        }
    }
}

impl fmt::Display for ContentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ties together every log line and audit record about one delivery of one object.
///
/// Derived from the object version and its event sequencer, so redeliveries of the same event
/// carry the same id and a search for it finds the retries too.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CorrelationId(String);

impl CorrelationId {
    pub fn for_object(object: &S3Object) -> Self {
        let mut hasher = Sha256::new();
        for part in [
            object.bucket.as_str(),
            object.key.as_str(),
            object.version_id.as_deref().unwrap_or(""),
            object.etag.as_deref().unwrap_or(""),
            object.sequencer.as_deref().unwrap_or(""),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        let digest = hasher.finalize();
        Self(
            digest[..16]
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect(),
        )
    }

    /// For records that have no object event to derive an id from (e.g. an unreadable record).
    pub fn from_string(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The message a tier receives from the router, whatever transport carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispatch {
    pub correlation_id: CorrelationId,
    pub tier: Tier,
    /// The routing rule that chose the tier.
    pub rule: String,
    pub content_kind: ContentKind,
    pub routed_at: DateTime<Utc>,
    pub object: S3Object,
}

impl Dispatch {
    /// The message for `object`, sent to `tier` because of `rule`.
    pub fn new(
        object: S3Object,
        tier: Tier,
        rule: impl Into<String>,
        routed_at: DateTime<Utc>,
    ) -> Self {
        Self {
            correlation_id: CorrelationId::for_object(&object),
            tier,
            rule: rule.into(),
            content_kind: ContentKind::from_key(&object.key),
            routed_at,
            object,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_names_round_trip() {
        for tier in Tier::ALL {
            assert_eq!(tier.as_str().parse::<Tier>(), Ok(tier));
            assert_eq!(
                serde_json::to_string(&tier).expect("serialises"),
                format!("\"{tier}\"")
            );
        }
        assert!("thumbnails".parse::<Tier>().is_err());
    }

    #[test]
    fn content_kind_from_extension() {
        let kind = |k: &str| ContentKind::from_key(&ObjectKey::new(k).expect("valid key"));
        assert_eq!(kind("a/b.JPEG"), ContentKind::Image);
        assert_eq!(kind("a/scan.tiff"), ContentKind::Image);
        assert_eq!(kind("a/IMG_0001.HEIC"), ContentKind::Image);
        assert_eq!(kind("a/b.pdf"), ContentKind::Pdf);
        assert_eq!(kind("a/b.csv"), ContentKind::Text);
        assert_eq!(kind("a/b"), ContentKind::Other);
    }
}

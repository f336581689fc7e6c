use crate::run::{Announcement, ANNOUNCEMENT_FIELD};
use crate::{ObjectKey, Origin, Run};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt;

/// One created object version, as an S3 event describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Object {
    pub bucket: String,
    pub key: ObjectKey,
    /// The key exactly as the event carried it (encoded), kept for logs and forensics.
    pub raw_key: String,
    pub size: u64,
    pub etag: Option<String>,
    pub version_id: Option<String>,
    /// Orders events for the same key; only comparable between events of one key.
    pub sequencer: Option<String>,
    pub event_time: Option<DateTime<Utc>>,
    pub event_name: String,
    /// The principal that created the object (`userIdentity.principalId`), when the event says.
    pub uploaded_by: Option<String>,
    /// Who announced the object: its upload's event, a backfill, a reprocess request...
    #[serde(default)]
    pub origin: Origin,
    /// The run the announcement starts: the first, unless an operator asked for the work again.
    #[serde(default)]
    pub run: Run,
}

/// What identifies one version of one object, and so one line of audit history per stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: ObjectKey,
    pub version_id: Option<String>,
    pub etag: Option<String>,
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("s3://{bucket}/{key} has neither a versionId nor an eTag to identify its version")]
pub struct VersionError {
    pub bucket: String,
    pub key: String,
}

impl S3Object {
    /// An object created by a plain PutObject, as its event would describe it: for code that
    /// uploads and then hands the object on itself (tests, replays of a listing).
    pub fn put(bucket: impl Into<String>, key: ObjectKey, size: u64, etag: Option<String>) -> Self {
        Self {
            bucket: bucket.into(),
            raw_key: key.as_str().to_owned(),
            key,
            size,
            etag,
            version_id: None,
            sequencer: None,
            event_time: None,
            event_name: "ObjectCreated:Put".into(),
            uploaded_by: None,
            origin: Origin::Upload,
            run: Run::first(),
        }
    }

    /// The object as one record of an S3 event notification, in the shape S3 writes (key
    /// form-encoded), plus our announcement when it is not an upload's own event: what
    /// `triage backfill` and `reprocess` send the router, read back by [`crate::normalise`].
    pub fn to_event_record(&self) -> Value {
        let mut object = json!({ "key": self.key.to_event_encoding(), "size": self.size });
        let fields = [
            ("eTag", &self.etag),
            ("versionId", &self.version_id),
            ("sequencer", &self.sequencer),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                object[name] = value.as_str().into();
            }
        }
        let mut record = json!({
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "eventName": self.event_name,
            "s3": {
                "s3SchemaVersion": "1.0",
                "bucket": { "name": self.bucket, "arn": format!("arn:aws:s3:::{}", self.bucket) },
                "object": object,
            },
        });
        if let Some(at) = self.event_time {
            record["eventTime"] = at.to_rfc3339_opts(SecondsFormat::Millis, true).into();
        }
        if let Some(principal) = &self.uploaded_by {
            record["userIdentity"] = json!({ "principalId": principal });
        }
        if self.origin != Origin::Upload || !self.run.is_first() {
            let announcement = Announcement {
                origin: self.origin,
                run: self.run.clone(),
            };
            record[ANNOUNCEMENT_FIELD] = serde_json::to_value(announcement).unwrap_or_default();
        }
        record
    }

    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            version_id: self.version_id.clone(),
            etag: self.etag.clone(),
            size: Some(self.size),
        }
    }
}

impl ObjectRef {
    /// The version part of the object's identity: the versionId on versioned buckets, else the
    /// eTag (so re-uploading identical content to an unversioned key counts as the same version).
    pub fn version_token(&self) -> Result<String, VersionError> {
        match (&self.version_id, &self.etag) {
            (Some(version), _) if !version.is_empty() && version != "null" => {
                Ok(format!("v:{version}"))
            }
            (_, Some(etag)) if !etag.is_empty() => Ok(format!("e:{etag}")),
            _ => Err(VersionError {
                bucket: self.bucket.clone(),
                key: self.key.to_string(),
            }),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)?;
        match (&self.version_id, &self.etag) {
            (Some(version), _) => write!(f, "?versionId={version}"),
            (None, Some(etag)) => write!(f, " (eTag {etag})"),
            (None, None) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object_ref(version_id: Option<&str>, etag: Option<&str>) -> ObjectRef {
        ObjectRef {
            bucket: "b".into(),
            key: ObjectKey::new("k").expect("valid key"),
            version_id: version_id.map(Into::into),
            etag: etag.map(Into::into),
            size: Some(1),
        }
    }

    #[test]
    fn version_id_wins_over_etag_and_null_version_falls_back() {
        assert_eq!(
            object_ref(Some("3Lg"), Some("abc")).version_token(),
            Ok("v:3Lg".into())
        );
        assert_eq!(
            object_ref(Some("null"), Some("abc")).version_token(),
            Ok("e:abc".into())
        );
        assert!(object_ref(None, None).version_token().is_err());
    }
}

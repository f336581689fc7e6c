//! What the router knows of an object version without the right to read it: one
//! `ListObjectVersions` over its key.
//!
//! Which version an event announced, when the event does not say: on a versioned bucket
//! AWS's events name the version; some announcers (older emulators, hand-written replays,
//! forwarding code that drops fields) give only the eTag. Recorded under the eTag, such an
//! event would start a second history of a version that already has one under its versionId.
//! The router resolves it instead: the newest version of the key with that eTag. On an
//! unversioned bucket there is no version to find, and the eTag stays the identity.
//!
//! What a Batch Operations task names (a key and maybe a version): its size and eTag, as the
//! event of its creation would have carried them.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::types::ObjectVersion;
use chrono::DateTime;
use object_events::{KeyError, ObjectKey, Origin, S3Object};

/// Enough of one listed version to tell whether it is the announced one.
pub struct ListedVersion<'a> {
    pub key: &'a str,
    pub etag: Option<&'a str>,
    pub version_id: Option<&'a str>,
}

impl<'a> From<&'a ObjectVersion> for ListedVersion<'a> {
    fn from(version: &'a ObjectVersion) -> Self {
        Self {
            key: version.key().unwrap_or_default(),
            etag: version.e_tag(),
            version_id: version.version_id(),
        }
    }
}

/// The version `etag` names among `listed` (newest first, as S3 lists them), or `None` when
/// none carries a real version id.
pub fn announced_version<'a>(
    key: &str,
    etag: &str,
    listed: impl IntoIterator<Item = ListedVersion<'a>>,
) -> Option<String> {
    listed
        .into_iter()
        .filter(|version| version.key == key)
        .filter(|version| version.etag.map(|e| e.trim_matches('"')) == Some(etag))
        .find_map(|version| real_version_id(version.version_id).map(str::to_owned))
}

/// The listed version a request names: `version_id`, or the current one when it names none.
/// `None` when that version is not there (deleted, or a delete marker is current).
pub fn requested_version<'a>(
    key: &str,
    version_id: Option<&str>,
    listed: &'a [ObjectVersion],
) -> Option<&'a ObjectVersion> {
    listed
        .iter()
        .filter(|version| version.key() == Some(key))
        .find(|version| match version_id {
            Some(wanted) => version.version_id() == Some(wanted),
            None => version.is_latest() == Some(true),
        })
}

/// A listed version as the event of its creation would have described it, announced by
/// `origin`: how backfill and Batch Operations hand the router objects no event named.
pub fn listed_object(
    bucket: &str,
    version: &ObjectVersion,
    origin: Origin,
) -> Option<Result<S3Object, KeyError>> {
    let (Some(key), Some(size)) = (version.key(), version.size()) else {
        return None;
    };
    let key = match ObjectKey::new(key) {
        Ok(key) => key,
        Err(err) => return Some(Err(err)),
    };
    let etag = version
        .e_tag()
        .map(|etag| etag.trim_matches('"').to_owned());
    let mut object = S3Object::put(bucket, key, u64::try_from(size).unwrap_or(0), etag);
    object.version_id = real_version_id(version.version_id()).map(str::to_owned);
    object.event_time = version
        .last_modified()
        .and_then(|at| DateTime::from_timestamp_millis(at.to_millis().ok()?));
    object.origin = origin;
    Some(Ok(object))
}

/// An unversioned bucket lists its one version as "null", which names nothing.
fn real_version_id(id: Option<&str>) -> Option<&str> {
    id.filter(|id| !id.is_empty() && *id != "null")
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("listing the versions of s3://{bucket}/{key} failed: {message}")]
pub struct LookupError {
    pub bucket: String,
    pub key: String,
    pub message: String,
    pub transient: bool,
}

/// The S3 adapter: one `ListObjectVersions` over the key (`s3:ListBucketVersions`), so the
/// router learns what it needs of a version without the right to read it.
#[derive(Clone, Debug)]
pub struct S3Versions {
    pub s3: aws_sdk_s3::Client,
}

impl S3Versions {
    pub async fn version_of(
        &self,
        bucket: &str,
        key: &str,
        etag: &str,
    ) -> Result<Option<String>, LookupError> {
        let listed = self.list(bucket, key).await?;
        Ok(announced_version(
            key,
            etag,
            listed.iter().map(ListedVersion::from),
        ))
    }

    /// The versions of `key`, newest first (and of keys it is a prefix of: callers filter).
    pub async fn list(&self, bucket: &str, key: &str) -> Result<Vec<ObjectVersion>, LookupError> {
        let listing = self
            .s3
            .list_object_versions()
            .bucket(bucket)
            .prefix(key)
            .send()
            .await
            .map_err(|err| LookupError {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                transient: platform::is_transient(&err),
                message: match err.code() {
                    Some(code) => format!("{code}: {}", DisplayErrorContext(&err)),
                    None => DisplayErrorContext(&err).to_string(),
                },
            })?;
        Ok(listing.versions.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed<'a>(key: &'a str, etag: &'a str, version_id: &'a str) -> ListedVersion<'a> {
        ListedVersion {
            key,
            etag: Some(etag),
            version_id: Some(version_id),
        }
    }

    #[test]
    fn the_newest_version_of_the_exact_key_with_the_etag_is_the_announced_one() {
        let versions = || {
            [
                listed("a.txt.bak", "\"e1\"", "other-key"),
                listed("a.txt", "\"e2\"", "newer-content"),
                listed("a.txt", "\"e1\"", "v-newest-e1"),
                listed("a.txt", "\"e1\"", "v-older-e1"),
            ]
        };
        assert_eq!(
            announced_version("a.txt", "e1", versions()).as_deref(),
            Some("v-newest-e1")
        );
        assert_eq!(announced_version("a.txt", "e9", versions()), None);
    }

    #[test]
    fn an_unversioned_bucket_has_no_version_to_find() {
        assert_eq!(
            announced_version("a.txt", "e1", [listed("a.txt", "e1", "null")]),
            None
        );
    }
}

//! Which version an event announced, when the event does not say.
//!
//! On a versioned bucket AWS's events name the version; some announcers (older emulators,
//! hand-written replays, forwarding code that drops fields) give only the eTag. Recorded under
//! the eTag, such an event would start a second history of a version that already has one under
//! its versionId. The router resolves it instead: the newest version of the key with that eTag.
//! On an unversioned bucket there is no version to find, and the eTag stays the identity.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};

/// Enough of one listed version to tell whether it is the announced one.
pub struct ListedVersion<'a> {
    pub key: &'a str,
    pub etag: Option<&'a str>,
    pub version_id: Option<&'a str>,
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
        .find_map(|version| {
            version
                .version_id
                .filter(|id| !id.is_empty() && *id != "null")
                .map(str::to_owned)
        })
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("listing the versions of s3://{bucket}/{key} failed: {message}")]
pub struct LookupError {
    pub bucket: String,
    pub key: String,
    pub message: String,
    pub transient: bool,
}

/// The S3 adapter: one `ListObjectVersions` over the key (`s3:ListBucketVersions`).
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
        Ok(announced_version(
            key,
            etag,
            listing.versions().iter().map(|version| ListedVersion {
                key: version.key().unwrap_or_default(),
                etag: version.e_tag(),
                version_id: version.version_id(),
            }),
        ))
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

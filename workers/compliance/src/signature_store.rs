//! The malware signature set, loaded from S3 once per cold start: every `.hdb`, `.hsb`,
//! `.ndb`, `.ldb`, `.cvd` and `.cld` object under a prefix, with the versions read recorded
//! (and each database's own version) so each result names the signatures that produced it.

use crate::signatures::{is_signature_file, SignatureError, SignatureSet};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0} is not an s3://bucket/prefix URI")]
    Uri(String),
    #[error("reading signatures from {uri} failed: {message}")]
    Read { uri: String, message: String },
    #[error(
        "no .hdb, .hsb, .ndb, .ldb, .cvd or .cld objects under {0}; upload a signature set there"
    )]
    Empty(String),
    #[error("signature file s3://{bucket}/{error}")]
    Invalid {
        bucket: String,
        error: SignatureError,
    },
}

/// The set, and what was loaded: `{"uri", "files": {key: version}, "signatures": count}`.
/// Each file is read at the version [`current_versions`] lists, so `files` is exactly what
/// that returns while the set is current.
pub async fn load(
    client: &aws_sdk_s3::Client,
    uri: &str,
) -> Result<(SignatureSet, Value), LoadError> {
    let files = current_versions(client, uri).await?;
    load_listed(client, uri, &files).await
}

/// [`load`] of the files [`current_versions`] has just listed, without listing them again.
pub async fn load_listed(
    client: &aws_sdk_s3::Client,
    uri: &str,
    files: &BTreeMap<String, FileVersion>,
) -> Result<(SignatureSet, Value), LoadError> {
    let (bucket, _) = split(uri)?;
    if files.is_empty() {
        return Err(LoadError::Empty(uri.into()));
    }
    let mut set = SignatureSet::default();
    for (key, version) in files {
        let mut get = client.get_object().bucket(bucket).key(key);
        if !version.is_etag {
            get = get.version_id(&version.id);
        }
        let object = get.send().await.map_err(|err| read_failed(uri, err))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|err| read_failed(uri, err))?
            .into_bytes();
        set.add_file(key, &bytes)
            .map_err(|error| LoadError::Invalid {
                bucket: bucket.into(),
                error,
            })?;
    }
    tracing::info!(uri, summary = %set.summary(), "signatures loaded");
    let loaded = json!({
        "uri": uri,
        "files": recorded(files),
        "signatures": set.len(),
        "skipped": set.skipped,
        "databases": set.databases,
    });
    Ok((set, loaded))
}

/// The current version of every signature file under `uri` (`{key: version}` as [`load`]
/// records it: the versionId, or the eTag on an unversioned bucket). One listing: cheap enough
/// to ask before every rescan, and how `triage rescan` tells which verdicts are out of date.
pub async fn current_versions(
    client: &aws_sdk_s3::Client,
    uri: &str,
) -> Result<BTreeMap<String, FileVersion>, LoadError> {
    let (bucket, prefix) = split(uri)?;
    let mut files = BTreeMap::new();
    let mut markers: (Option<String>, Option<String>) = (None, None);
    loop {
        let page = client
            .list_object_versions()
            .bucket(bucket)
            .prefix(prefix)
            .set_key_marker(markers.0.take())
            .set_version_id_marker(markers.1.take())
            .send()
            .await
            .map_err(|err| read_failed(uri, err))?;
        for version in page.versions() {
            let (Some(key), Some(true)) = (version.key(), version.is_latest()) else {
                continue;
            };
            if !is_signature_file(key) {
                continue;
            }
            let file = match version.version_id().filter(|id| *id != "null") {
                Some(id) => FileVersion {
                    id: id.to_owned(),
                    is_etag: false,
                },
                None => FileVersion {
                    id: version
                        .e_tag()
                        .unwrap_or_default()
                        .trim_matches('"')
                        .to_owned(),
                    is_etag: true,
                },
            };
            files.insert(key.to_owned(), file);
        }
        if page.is_truncated() != Some(true) {
            return Ok(files);
        }
        markers = (
            page.next_key_marker().map(str::to_owned),
            page.next_version_id_marker().map(str::to_owned),
        );
    }
}

/// One signature file's version: a versionId, or (unversioned bucket) its eTag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileVersion {
    pub id: String,
    pub is_etag: bool,
}

/// `{key: version}` of `files`, as a loaded set's provenance records them.
pub fn recorded(files: &BTreeMap<String, FileVersion>) -> Value {
    json!(files
        .iter()
        .map(|(key, version)| (key.as_str(), version.id.as_str()))
        .collect::<BTreeMap<_, _>>())
}

fn split(uri: &str) -> Result<(&str, &str), LoadError> {
    uri.strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/').or(Some((rest, ""))))
        .filter(|(bucket, _)| !bucket.is_empty())
        .ok_or_else(|| LoadError::Uri(uri.into()))
}

fn read_failed(uri: &str, err: impl std::error::Error + 'static) -> LoadError {
    LoadError::Read {
        uri: uri.into(),
        message: aws_sdk_s3::error::DisplayErrorContext(&err).to_string(),
    }
}

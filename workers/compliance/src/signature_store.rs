//! The malware signature set, loaded from S3 once per cold start: every `.hdb`, `.hsb` and
//! `.ndb` object under a prefix, with the versions read recorded so each result names the
//! signatures that produced it.

use crate::signatures::{is_signature_file, SignatureError, SignatureSet};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0} is not an s3://bucket/prefix URI")]
    Uri(String),
    #[error("reading signatures from {uri} failed: {message}")]
    Read { uri: String, message: String },
    #[error("no .hdb, .hsb or .ndb objects under {0}; upload a signature set there")]
    Empty(String),
    #[error("signature file s3://{bucket}/{error}")]
    Invalid {
        bucket: String,
        error: SignatureError,
    },
}

/// The set, and what was loaded: `{"uri", "files": {key: version}, "signatures": count}`.
pub async fn load(
    client: &aws_sdk_s3::Client,
    uri: &str,
) -> Result<(SignatureSet, Value), LoadError> {
    let (bucket, prefix) = uri
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/').or(Some((rest, ""))))
        .filter(|(bucket, _)| !bucket.is_empty())
        .ok_or_else(|| LoadError::Uri(uri.into()))?;
    let failed = |message: String| LoadError::Read {
        uri: uri.into(),
        message,
    };
    let mut keys = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|err| failed(aws_sdk_s3::error::DisplayErrorContext(&err).to_string()))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
    }
    keys.retain(|key| is_signature_file(key));
    if keys.is_empty() {
        return Err(LoadError::Empty(uri.into()));
    }
    let mut set = SignatureSet::default();
    let mut files = BTreeMap::new();
    for key in keys {
        let object = client
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .map_err(|err| failed(aws_sdk_s3::error::DisplayErrorContext(&err).to_string()))?;
        let version = object
            .version_id()
            .filter(|v| *v != "null")
            .or(object.e_tag())
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|err| failed(err.to_string()))?
            .into_bytes();
        let text = String::from_utf8_lossy(&bytes);
        set.add_file(&key, &text)
            .map_err(|error| LoadError::Invalid {
                bucket: bucket.into(),
                error,
            })?;
        files.insert(key, version);
    }
    let loaded = json!({ "uri": uri, "files": files, "signatures": set.len() });
    Ok((set, loaded))
}

//! S3 for the workers: read the version an event names, with a buffer bounded by the
//! object's length, and write outputs with metadata pointing back at the source.

use crate::outputs::Output;
use crate::Failure;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumMode, ChecksumType, Tag, Tagging, TaggingDirective};
use object_events::{Dispatch, ObjectRef};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::ops::Range;

fn classify<E>(operation: &str, err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    Failure::of_call(&format!("S3 {operation}"), &err)
}

#[derive(Clone)]
pub struct S3Store {
    pub client: aws_sdk_s3::Client,
}

impl S3Store {
    /// The whole object version the event named, refused without reading when it is larger
    /// than `max_bytes`.
    pub async fn read(&self, object: &ObjectRef, max_bytes: u64) -> Result<Vec<u8>, Failure> {
        let opened = self.open(object).await?;
        if opened.length > max_bytes {
            return Err(Failure::Permanent(format!(
                "object of {} bytes exceeds this worker's limit of {max_bytes} bytes",
                opened.length
            )));
        }
        let capacity = usize::try_from(opened.length).unwrap_or(0);
        let mut bytes = Vec::with_capacity(capacity);
        let mut body = opened.body;
        while let Some(chunk) = next_chunk(&mut body).await? {
            if bytes.len() + chunk.len() > capacity {
                return Err(Failure::Transient(format!(
                    "the object sent more than its Content-Length of {} bytes",
                    opened.length
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// The event's object version as S3 sends it: for readers that stream the bytes.
    pub async fn open(&self, object: &ObjectRef) -> Result<Opened, Failure> {
        let get = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(object.key.as_str());
        let response = pinned!(get, object)
            .send()
            .await
            .map_err(|err| read_failure("GetObject", err))?;
        Ok(Opened {
            length: u64::try_from(response.content_length().unwrap_or(0)).unwrap_or(0),
            content_type: response.content_type().map(str::to_owned),
            body: response.body,
        })
    }

    /// What S3 stores about the event's object version besides its bytes: size, eTag,
    /// checksums (when the uploader sent some) and encryption, from one HeadObject (two for a
    /// multipart upload, whose first part's size is needed to recompute its eTag).
    pub async fn describe(&self, object: &ObjectRef) -> Result<StoredObject, Failure> {
        let head = self
            .client
            .head_object()
            .bucket(&object.bucket)
            .key(object.key.as_str())
            .checksum_mode(ChecksumMode::Enabled);
        let response = pinned!(head, object)
            .send()
            .await
            .map_err(|err| read_failure("HeadObject", err))?;
        let etag = response
            .e_tag()
            .map(|etag| etag.trim_matches('"').to_owned());
        let upload_part_size = match etag.as_deref().and_then(multipart_parts) {
            Some(_) => {
                // Pinned by versionId only: a part has an eTag of its own, which some S3
                // implementations compare If-Match with. The reads that follow are pinned.
                let first = self
                    .client
                    .head_object()
                    .bucket(&object.bucket)
                    .key(object.key.as_str())
                    .part_number(1)
                    .set_version_id(version_id(object).map(str::to_owned))
                    .send()
                    .await
                    .map_err(|err| read_failure("HeadObject", err))?;
                first.content_length().and_then(|n| u64::try_from(n).ok())
            }
            None => None,
        };
        let full_object = match response.checksum_type() {
            Some(kind) => *kind == ChecksumType::FullObject,
            // Without a type, only a single-part upload's checksum covers the whole object.
            None => etag.as_deref().and_then(multipart_parts).is_none(),
        };
        let checksum = |value: Option<&str>| value.filter(|_| full_object).map(str::to_owned);
        Ok(StoredObject {
            size: u64::try_from(response.content_length().unwrap_or(0)).unwrap_or(0),
            etag,
            upload_part_size,
            encryption: response
                .server_side_encryption()
                .map(|sse| sse.as_str().to_owned()),
            crc64nvme: checksum(response.checksum_crc64_nvme()),
            crc32c: checksum(response.checksum_crc32_c()),
            crc32: checksum(response.checksum_crc32()),
            sha256: checksum(response.checksum_sha256()),
        })
    }

    /// Bytes `range` of the event's object version, as the body stream S3 sends.
    pub async fn read_range(
        &self,
        object: &ObjectRef,
        range: Range<u64>,
    ) -> Result<ByteStream, Failure> {
        let get = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(object.key.as_str())
            .range(format!(
                "bytes={}-{}",
                range.start,
                range.end.saturating_sub(1)
            ));
        let get = pinned!(get, object);
        let response = get
            .send()
            .await
            .map_err(|err| read_failure("GetObject", err))?;
        Ok(response.body)
    }

    /// Copies the event's object version, tags included, to `to`.
    pub async fn copy(&self, object: &ObjectRef, to: &Output) -> Result<(), Failure> {
        let mut source = format!(
            "{}/{}",
            object.bucket,
            utf8_percent_encode(object.key.as_str(), KEY_ENCODE)
        );
        let mut copy = self.client.copy_object().bucket(&to.bucket).key(&to.key);
        match pin(object) {
            Pin::Version(version) => source.push_str(&format!("?versionId={version}")),
            Pin::ETag(etag) => copy = copy.copy_source_if_match(etag),
            Pin::None => {}
        }
        copy.copy_source(source)
            .tagging_directive(TaggingDirective::Copy)
            .send()
            .await
            .map_err(|err| read_failure("CopyObject", err))?;
        Ok(())
    }

    /// Sets `tags` on the event's object version and keeps the tags it already has (a tag
    /// of the same key is replaced). S3 allows 10 tags on an object: when the merged set
    /// would exceed that, nothing is written and the failure says which tags are there.
    pub async fn merge_tags(
        &self,
        object: &ObjectRef,
        tags: &[(String, String)],
    ) -> Result<(), Failure> {
        let existing = self
            .client
            .get_object_tagging()
            .bucket(&object.bucket)
            .key(object.key.as_str())
            .set_version_id(version_id(object).map(str::to_owned))
            .send()
            .await
            .map_err(|err| read_failure("GetObjectTagging", err))?;
        let mut merged: Vec<(String, String)> = existing
            .tag_set()
            .iter()
            .filter(|tag| tags.iter().all(|(key, _)| key != tag.key()))
            .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
            .collect();
        if merged.len() + tags.len() > MAX_OBJECT_TAGS {
            let theirs: Vec<&str> = merged.iter().map(|(key, _)| key.as_str()).collect();
            return Err(Failure::Permanent(format!(
                "the object carries {} tags of its own ({}); S3 allows {MAX_OBJECT_TAGS}, so the {} verdict tags do not fit",
                merged.len(),
                theirs.join(", "),
                tags.len()
            )));
        }
        merged.extend(tags.iter().cloned());
        let tagging = Tagging::builder()
            .set_tag_set(Some(
                merged
                    .iter()
                    .map(|(key, value)| Tag::builder().key(key).value(value).build())
                    .collect::<Result<_, _>>()
                    .map_err(|err| Failure::Permanent(err.to_string()))?,
            ))
            .build()
            .map_err(|err| Failure::Permanent(err.to_string()))?;
        self.client
            .put_object_tagging()
            .bucket(&object.bucket)
            .key(object.key.as_str())
            .set_version_id(version_id(object).map(str::to_owned))
            .tagging(tagging)
            .send()
            .await
            .map_err(|err| read_failure("PutObjectTagging", err))?;
        Ok(())
    }

    /// Deletes the event's object version (on a versioned bucket, that version for good).
    pub async fn delete(&self, object: &ObjectRef) -> Result<(), Failure> {
        self.client
            .delete_object()
            .bucket(&object.bucket)
            .key(object.key.as_str())
            .set_version_id(version_id(object).map(str::to_owned))
            .send()
            .await
            .map_err(|err| classify("DeleteObject", err))?;
        Ok(())
    }

    pub async fn write(
        &self,
        to: &Output,
        bytes: Vec<u8>,
        content_type: &str,
        metadata: HashMap<String, String>,
    ) -> Result<(), Failure> {
        put_request(&self.client, to, bytes, content_type, metadata)
            .send()
            .await
            .map_err(|err| classify("PutObject", err))?;
        Ok(())
    }

    /// Writes `to` unless an object is already there: for an output that is an upload in its
    /// turn, which a redelivery must not make a second version of (a second event). Whether
    /// this call wrote it.
    pub async fn write_once(
        &self,
        to: &Output,
        bytes: Vec<u8>,
        content_type: &str,
        metadata: HashMap<String, String>,
    ) -> Result<bool, Failure> {
        let written = put_request(&self.client, to, bytes, content_type, metadata)
            .if_none_match("*")
            .send()
            .await;
        match written {
            Ok(_) => Ok(true),
            Err(err) => match err.code() {
                Some("PreconditionFailed") => Ok(false),
                // Another conditional write of the key is under way: the next try settles it.
                Some("ConditionalRequestConflict") => Err(Failure::Transient(format!(
                    "S3 PutObject of {} met a concurrent write",
                    to.key
                ))),
                _ => Err(classify("PutObject", err)),
            },
        }
    }
}

fn put_request(
    client: &aws_sdk_s3::Client,
    to: &Output,
    bytes: Vec<u8>,
    content_type: &str,
    metadata: HashMap<String, String>,
) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
    client
        .put_object()
        .bucket(&to.bucket)
        .key(&to.key)
        .content_type(content_type)
        .set_metadata(Some(metadata))
        .body(ByteStream::from(bytes))
}

/// An object version being read.
pub struct Opened {
    pub length: u64,
    /// As the uploader declared it.
    pub content_type: Option<String>,
    pub body: ByteStream,
}

/// The next piece of a body; a connection lost mid-body is worth retrying.
pub async fn next_chunk(body: &mut ByteStream) -> Result<Option<bytes::Bytes>, Failure> {
    body.try_next()
        .await
        .map_err(|err| Failure::Transient(format!("reading the object failed: {err}")))
}

/// Points an output back at its source. S3 metadata must be ASCII: the key is
/// percent-encoded.
pub fn source_metadata(dispatch: &Dispatch) -> HashMap<String, String> {
    let object = &dispatch.object;
    let mut metadata = HashMap::from([
        (
            "source-key".to_owned(),
            utf8_percent_encode(object.key.as_str(), NON_ALPHANUMERIC).to_string(),
        ),
        (
            "correlation-id".to_owned(),
            dispatch.correlation_id.to_string(),
        ),
    ]);
    if let Some(etag) = &object.etag {
        metadata.insert("source-etag".into(), etag.trim_matches('"').to_owned());
    }
    if let Some(version) = &object.version_id {
        metadata.insert("source-version-id".into(), version.clone());
    }
    metadata
}

/// The most tags S3 keeps on one object.
pub const MAX_OBJECT_TAGS: usize = 10;

/// S3's longest key, in UTF-8 bytes.
pub const MAX_S3_KEY_BYTES: usize = 1024;

/// A key in a CopyObject source: everything but the unreserved characters and `/` encoded.
const KEY_ENCODE: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `<prefix><folder>/<source key>/<name>`, with the versionId before the name on a versioned
/// bucket, so a late event for an older version cannot overwrite a newer version's outputs. A
/// source key too long for that gets its SHA-256 in its place (the metadata still names it),
/// and a name too long even then (a quarantine copy is named after the source's last segment)
/// is cut to fit, keeping its extension: no output key ever exceeds S3's 1024 bytes.
pub fn output_key(prefix: &str, folder: &str, source: &ObjectRef, name: &str) -> String {
    let version = version_id(source).map_or_else(String::new, |version| format!("{version}/"));
    let key = format!("{prefix}{folder}/{}/{version}{name}", source.key);
    if key.len() <= MAX_S3_KEY_BYTES {
        return key;
    }
    let digest = sha256_hex(source.key.as_str().as_bytes());
    let directory = format!("{prefix}{folder}/by-hash/{digest}/{version}");
    let room = MAX_S3_KEY_BYTES.saturating_sub(directory.len());
    format!("{directory}{}", shortened(name, room))
}

/// `name` in at most `room` bytes: whole if it fits, else its start and its extension, cut at
/// character boundaries.
pub fn shortened(name: &str, room: usize) -> String {
    if name.len() <= room {
        return name.to_owned();
    }
    let extension = name
        .rfind('.')
        .map(|dot| &name[dot..])
        .filter(|extension| extension.len() <= 16 && extension.len() < room);
    let extension = extension.unwrap_or("");
    let end = name.floor_char_boundary(room - extension.len());
    format!("{}{extension}", &name[..end])
}

/// Lowercase hex SHA-256, as the audit trail records checksums.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What S3 stores about an object version: what the bytes it sends can be checked against.
/// Checksums are S3's base64 strings, and only those covering the whole object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredObject {
    pub size: u64,
    /// Unquoted; `<md5 of the part md5s>-<parts>` for a multipart upload.
    pub etag: Option<String>,
    /// The size of a multipart upload's first part (every part but the last has it).
    pub upload_part_size: Option<u64>,
    /// `AES256`, `aws:kms`, `aws:kms:dsse`: under KMS an eTag is not an MD5 of the bytes.
    pub encryption: Option<String>,
    pub crc64nvme: Option<String>,
    pub crc32c: Option<String>,
    pub crc32: Option<String>,
    pub sha256: Option<String>,
}

/// The part count of a multipart upload's eTag (`...-3`), None for a single-part one.
pub fn multipart_parts(etag: &str) -> Option<u32> {
    etag.rsplit_once('-')?.1.parse().ok()
}

/// Applies [`pin`] to a GetObject or HeadObject request (their builders share the setters,
/// not a trait).
macro_rules! pinned {
    ($request:expr, $object:expr) => {
        match pin($object) {
            Pin::Version(version) => $request.version_id(version),
            Pin::ETag(etag) => $request.if_match(etag),
            Pin::None => $request,
        }
    };
}
use pinned;

enum Pin {
    Version(String),
    ETag(String),
    None,
}

/// The object's real versionId: none on an unversioned bucket, where events carry `"null"`.
fn version_id(object: &ObjectRef) -> Option<&str> {
    object
        .version_id
        .as_deref()
        .filter(|version| !version.is_empty() && *version != "null")
}

/// How a read names the event's version: by versionId, else by eTag (If-Match), so a key
/// overwritten since the event is not mistaken for the upload it describes.
fn pin(object: &ObjectRef) -> Pin {
    match (version_id(object), &object.etag) {
        (Some(version), _) => Pin::Version(version.to_owned()),
        (None, Some(etag)) => Pin::ETag(quoted(etag)),
        _ => Pin::None,
    }
}

fn read_failure<E>(
    operation: &str,
    err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = err.as_service_error().and_then(ProvideErrorMetadata::code);
    match (code, err.raw_response().map(|r| r.status().as_u16())) {
        (Some("NoSuchKey" | "NoSuchVersion"), _) | (_, Some(404)) => Failure::Permanent(
            "the object no longer exists (deleted after its upload event)".into(),
        ),
        (Some("PreconditionFailed"), _) | (_, Some(412)) => Failure::Permanent(
            "the object was overwritten after this upload; the newer upload has its own event"
                .into(),
        ),
        _ => classify(operation, err),
    }
}

fn quoted(etag: &str) -> String {
    if etag.starts_with('"') {
        etag.to_owned()
    } else {
        format!("\"{etag}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_events::ObjectKey;

    fn object(key_text: &str, version_id: Option<&str>) -> ObjectRef {
        ObjectRef {
            bucket: "uploads".into(),
            key: ObjectKey::new(key_text).expect("valid key"),
            version_id: version_id.map(String::from),
            etag: Some("e1".into()),
            size: Some(1),
        }
    }

    #[test]
    fn outputs_are_named_from_the_source_key_and_stay_within_s3_limits() {
        let cat = object("uploads/images/cat photo.jpg", None);
        assert_eq!(
            output_key("processed/", "thumbnails", &cat, "256.jpg"),
            "processed/thumbnails/uploads/images/cat photo.jpg/256.jpg"
        );
        let versioned = object("uploads/a.png", Some("v7"));
        assert_eq!(
            output_key("processed/", "thumbnails", &versioned, "64.png"),
            "processed/thumbnails/uploads/a.png/v7/64.png"
        );
        let long = object(&format!("uploads/images/{}.jpg", "é".repeat(500)), None);
        let output = output_key("processed/", "thumbnails", &long, "256.jpg");
        assert!(
            output.starts_with("processed/thumbnails/by-hash/"),
            "{output}"
        );
        assert!(output.len() <= MAX_S3_KEY_BYTES);
    }

    #[test]
    fn every_output_of_a_1024_byte_key_fits_in_1024_bytes() {
        // One long last segment (the quarantine copy's name), many short ones, multi-byte
        // characters at every cut, with and without a version.
        let long_name = format!("uploads/compliance/{}.txt", "n".repeat(1024 - 23));
        let deep = format!("uploads/{}x.pdf", "ab/".repeat(336));
        let wide = format!("uploads/images/{}.jpeg", "é".repeat(502));
        for key in [long_name, deep, wide] {
            assert!(key.len() <= 1024 && key.len() > 1000, "{}", key.len());
            for version in [None, Some("3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")] {
                let source = object(&key, version);
                let last_segment = key.rsplit('/').next().unwrap_or_default();
                for (folder, name) in [
                    ("thumbnails", "256.jpg"),
                    ("text", "text.txt"),
                    ("text", "metadata.json"),
                    ("manifests", "manifest.json"),
                    ("quarantine", last_segment),
                ] {
                    let output = output_key("processed/", folder, &source, name);
                    assert!(
                        output.len() <= MAX_S3_KEY_BYTES,
                        "{folder}/{name}: {} bytes",
                        output.len()
                    );
                    assert!(output.starts_with(&format!("processed/{folder}/")));
                    let extension = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
                    assert!(output.ends_with(extension), "{output}");
                }
            }
        }
    }
}

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use std::fmt;

/// S3's limit on a key, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// A decoded S3 object key: what `GetObject` takes, never the event's encoded form.
///
/// S3 event notifications carry keys form-urlencoded: `+` for a space, `%2B` for a literal `+`,
/// and some emulators also encode `/` as `%2F`. Decoding happens once, here, so a raw key can
/// never be passed where a real one is expected.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("object key is empty")]
    Empty,
    #[error("object key is {0} bytes; S3 allows at most {MAX_KEY_BYTES}")]
    TooLong(usize),
    #[error("object key does not decode to UTF-8: {0:?}")]
    NotUtf8(String),
}

impl ObjectKey {
    /// Decodes a key as S3 event notifications encode it.
    pub fn from_event_encoding(raw: &str) -> Result<Self, KeyError> {
        let plus_as_space = raw.replace('+', " ");
        let decoded = percent_decode_str(&plus_as_space)
            .decode_utf8()
            .map_err(|_| KeyError::NotUtf8(raw.to_owned()))?;
        Self::new(decoded.into_owned())
    }

    /// Encodes the key as S3 event notifications do (the inverse of [`Self::from_event_encoding`]).
    pub fn to_event_encoding(&self) -> String {
        const KEPT: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'*')
            .remove(b'/')
            .remove(b' ');
        utf8_percent_encode(&self.0, KEPT)
            .to_string()
            .replace(' ', "+")
    }

    /// Wraps an already decoded key (from an API response, a CLI argument, a dispatch message).
    pub fn new(decoded: impl Into<String>) -> Result<Self, KeyError> {
        let key = decoded.into();
        match key.len() {
            0 => Err(KeyError::Empty),
            n if n > MAX_KEY_BYTES => Err(KeyError::TooLong(n)),
            _ => Ok(Self(key)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-cased extension of the last path segment, if it has one.
    pub fn extension(&self) -> Option<String> {
        let file_name = self.0.rsplit('/').next().unwrap_or(&self.0);
        let (stem, ext) = file_name.rsplit_once('.')?;
        (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ObjectKey {
    type Error = KeyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<ObjectKey> for String {
    fn from(key: ObjectKey) -> Self {
        key.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(raw: &str) -> String {
        ObjectKey::from_event_encoding(raw).expect("valid key").0
    }

    #[test]
    fn plus_is_a_space_and_percent_2b_a_plus() {
        assert_eq!(
            decode("uploads/images/cat+photo.jpg"),
            "uploads/images/cat photo.jpg"
        );
        assert_eq!(decode("uploads/a%2Bb.pdf"), "uploads/a+b.pdf");
        assert_eq!(decode("uploads/a%2B+b.pdf"), "uploads/a+ b.pdf");
    }

    #[test]
    fn encoded_slashes_and_unicode_decode() {
        assert_eq!(decode("uploads%2Fimages%2Fx.png"), "uploads/images/x.png");
        assert_eq!(
            decode("uploads/%E6%97%A5%E6%9C%AC%F0%9F%90%B1.png"),
            "uploads/日本🐱.png"
        );
    }

    #[test]
    fn invalid_percent_sequences_stay_literal() {
        assert_eq!(decode("uploads/100%.txt"), "uploads/100%.txt");
        assert_eq!(decode("uploads/%zz.txt"), "uploads/%zz.txt");
    }

    #[test]
    fn length_limit_is_in_decoded_bytes() {
        let at_limit = "é".repeat(MAX_KEY_BYTES / 2);
        let encoded = at_limit.replace('é', "%C3%A9");
        assert_eq!(decode(&encoded).len(), MAX_KEY_BYTES);
        assert_eq!(
            ObjectKey::from_event_encoding(&format!("{encoded}x")),
            Err(KeyError::TooLong(MAX_KEY_BYTES + 1))
        );
    }

    #[test]
    fn rejects_empty_and_non_utf8() {
        assert_eq!(ObjectKey::from_event_encoding(""), Err(KeyError::Empty));
        assert!(matches!(
            ObjectKey::from_event_encoding("a%FF"),
            Err(KeyError::NotUtf8(_))
        ));
    }

    #[test]
    fn extension_is_lowercase_and_from_the_file_name() {
        let ext = |k: &str| ObjectKey::new(k).expect("valid key").extension();
        assert_eq!(ext("uploads/images/Cat.JPG").as_deref(), Some("jpg"));
        assert_eq!(ext("uploads/v1.2/README"), None);
        assert_eq!(ext("uploads/.hidden"), None);
        assert_eq!(ext("uploads/archive.tar.gz").as_deref(), Some("gz"));
    }
}

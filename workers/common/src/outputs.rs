//! Where a stage puts what it makes of an object: under the reserved prefix, in the object's
//! own bucket, or, for a watched bucket whose outputs are kept elsewhere
//! (`TRIAGE_OUTPUT_BUCKETS`), in that bucket under a folder named after the source bucket, so
//! two sources' equal keys never meet.
//!
//! One folder is an input as well: an e-mail's attachments are written under
//! [`ATTACHMENTS`] and re-enter the pipeline, routed by their source's key
//! ([`Outputs::routed_as`]).

use crate::s3::output_key;
use object_events::ObjectRef;
use platform::config::{ConfigError, Env, DEFAULT_RESERVED_PREFIX, RESERVED_PREFIX};
use std::collections::BTreeMap;

/// `<source bucket>=<output bucket>,...`: the watched buckets whose outputs go to another bucket.
pub const OUTPUT_BUCKETS: &str = "TRIAGE_OUTPUT_BUCKETS";

/// The output folder whose objects are uploads again: attachments taken out of e-mails.
pub const ATTACHMENTS: &str = "attachments";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outputs {
    pub reserved_prefix: String,
    /// Source bucket -> the bucket its outputs go to; a source not named keeps its own.
    pub elsewhere: BTreeMap<String, String>,
}

/// One output's place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub bucket: String,
    pub key: String,
}

impl Outputs {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let mut elsewhere = BTreeMap::new();
        for pair in env.optional(OUTPUT_BUCKETS).unwrap_or_default().split(',') {
            let pair = pair.trim();
            if pair.is_empty() {
                continue;
            }
            match pair.split_once('=') {
                Some((source, output))
                    if !source.trim().is_empty() && !output.trim().is_empty() =>
                {
                    elsewhere.insert(source.trim().to_owned(), output.trim().to_owned());
                }
                _ => {
                    return Err(env.invalid(
                        OUTPUT_BUCKETS,
                        format!("{pair:?} is not <source bucket>=<output bucket>"),
                    ))
                }
            }
        }
        Ok(Self {
            reserved_prefix: env
                .optional(RESERVED_PREFIX)
                .unwrap_or_else(|| DEFAULT_RESERVED_PREFIX.into()),
            elsewhere,
        })
    }

    /// Outputs under `reserved_prefix` in each object's own bucket.
    pub fn in_place(reserved_prefix: impl Into<String>) -> Self {
        Self {
            reserved_prefix: reserved_prefix.into(),
            elsewhere: BTreeMap::new(),
        }
    }

    /// Where output `name` of `folder` (`thumbnails`, `text`, ...) made from `source` goes.
    pub fn place(&self, source: &ObjectRef, folder: &str, name: &str) -> Output {
        match self.elsewhere.get(&source.bucket) {
            None => Output {
                bucket: source.bucket.clone(),
                key: output_key(&self.reserved_prefix, folder, source, name),
            },
            Some(bucket) => Output {
                bucket: bucket.clone(),
                key: output_key(
                    &self.reserved_prefix,
                    &format!("{folder}/{}", source.bucket),
                    source,
                    name,
                ),
            },
        }
    }

    /// Where attachment `name` of `source` re-enters the pipeline: under [`ATTACHMENTS`], the
    /// source's key kept whole in its key so the router can route it as the source's. None when
    /// the source's key is too long for that (the key would name the source by its hash).
    pub fn attachment(&self, source: &ObjectRef, name: &str) -> Option<Output> {
        let output = self.place(source, ATTACHMENTS, name);
        let (source_bucket, source_key) = self.routed_as(&source.bucket, source.key.as_str());
        let (bucket, key) = self.routed_as(&output.bucket, &output.key);
        (bucket == source_bucket && key.starts_with(source_key)).then_some(output)
    }

    /// The bucket and key whose routing rules apply to `key` in `bucket`: for an attachment
    /// (at any depth: an attachment of an attached e-mail), its first source's, with the path
    /// after the source key naming the attachment; for anything else, its own.
    pub fn routed_as<'a>(&'a self, bucket: &'a str, key: &'a str) -> (&'a str, &'a str) {
        let folder = format!("{}{ATTACHMENTS}/", self.reserved_prefix);
        let mut rest = key;
        while let Some(inner) = rest.strip_prefix(folder.as_str()) {
            rest = inner;
        }
        if rest.len() == key.len() {
            return (bucket, key);
        }
        // Kept in another bucket, an attachment names its source bucket first (see `place`).
        for (source, output) in &self.elsewhere {
            let inner = rest
                .strip_prefix(source.as_str())
                .and_then(|inner| inner.strip_prefix('/'));
            if let (true, Some(inner)) = (output == bucket, inner) {
                return (source, inner);
            }
        }
        (bucket, rest)
    }
}

impl Output {
    /// How a record lists it: its key when it sits in the source's own bucket, else its
    /// `s3://bucket/key`.
    pub fn listed(&self, source: &ObjectRef) -> String {
        if self.bucket == source.bucket {
            self.key.clone()
        } else {
            format!("s3://{}/{}", self.bucket, self.key)
        }
    }

    /// An output as a record of an object in `source_bucket` lists it (see [`Self::listed`]).
    pub fn from_listed(listed: &str, source_bucket: &str) -> Self {
        match listed
            .strip_prefix("s3://")
            .and_then(|rest| rest.split_once('/'))
        {
            Some((bucket, key)) => Self {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            },
            None => Self {
                bucket: source_bucket.to_owned(),
                key: listed.to_owned(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_events::ObjectKey;
    use platform::config::env_of;

    fn object(bucket: &str) -> ObjectRef {
        ObjectRef {
            bucket: bucket.into(),
            key: ObjectKey::new("uploads/images/cat.jpg").expect("key"),
            version_id: Some("v1".into()),
            etag: None,
            size: Some(3),
        }
    }

    #[test]
    fn a_source_keeps_its_outputs_unless_they_are_sent_elsewhere_under_its_name() {
        let outputs = Outputs::from_env(&env_of(&[(
            OUTPUT_BUCKETS,
            " team-media = s3-triage-prod-uploads ,",
        )]))
        .expect("valid");
        let own = outputs.place(&object("s3-triage-prod-uploads"), "thumbnails", "256.jpg");
        assert_eq!(
            own,
            Output {
                bucket: "s3-triage-prod-uploads".into(),
                key: "processed/thumbnails/uploads/images/cat.jpg/v1/256.jpg".into(),
            }
        );
        assert_eq!(
            own.listed(&object("s3-triage-prod-uploads")),
            "processed/thumbnails/uploads/images/cat.jpg/v1/256.jpg"
        );
        let moved = outputs.place(&object("team-media"), "thumbnails", "256.jpg");
        assert_eq!(
            moved,
            Output {
                bucket: "s3-triage-prod-uploads".into(),
                key: "processed/thumbnails/team-media/uploads/images/cat.jpg/v1/256.jpg".into(),
            }
        );
        let listed = moved.listed(&object("team-media"));
        assert_eq!(
            listed,
            "s3://s3-triage-prod-uploads/processed/thumbnails/team-media/uploads/images/cat.jpg/v1/256.jpg"
        );
        assert_eq!(Output::from_listed(&listed, "team-media"), moved);
        assert_eq!(Output::from_listed(&own.key, "s3-triage-prod-uploads"), own);
    }

    #[test]
    fn an_attachment_is_routed_as_its_source_wherever_it_is_kept() {
        let outputs = Outputs::from_env(&env_of(&[(
            OUTPUT_BUCKETS,
            "team=s3-triage-prod-uploads,team-media=s3-triage-prod-uploads",
        )]))
        .expect("valid");
        let mail = |bucket: &str| ObjectRef {
            key: ObjectKey::new("uploads/documents/q3 mail.eml").expect("key"),
            ..object(bucket)
        };
        let own = outputs
            .attachment(&mail("s3-triage-prod-uploads"), "1-report.pdf")
            .expect("fits");
        assert_eq!(
            own.key,
            "processed/attachments/uploads/documents/q3 mail.eml/v1/1-report.pdf"
        );
        assert_eq!(
            outputs.routed_as(&own.bucket, &own.key),
            (
                "s3-triage-prod-uploads",
                "uploads/documents/q3 mail.eml/v1/1-report.pdf"
            )
        );
        let kept_elsewhere = outputs
            .attachment(&mail("team-media"), "1-report.pdf")
            .expect("fits");
        assert_eq!(kept_elsewhere.bucket, "s3-triage-prod-uploads");
        assert_eq!(
            outputs.routed_as(&kept_elsewhere.bucket, &kept_elsewhere.key),
            (
                "team-media",
                "uploads/documents/q3 mail.eml/v1/1-report.pdf"
            )
        );
        // An attached e-mail's own attachment: routed as the first e-mail's.
        let forwarded = ObjectRef {
            key: ObjectKey::new(&own.key).expect("key"),
            ..object("s3-triage-prod-uploads")
        };
        let nested = outputs.attachment(&forwarded, "1-scan.pdf").expect("fits");
        assert_eq!(
            outputs.routed_as(&nested.bucket, &nested.key).1,
            "uploads/documents/q3 mail.eml/v1/1-report.pdf/v1/1-scan.pdf"
        );
        // Other outputs and uploads are routed as themselves.
        for key in ["processed/text/uploads/a.pdf/v1/text.txt", "uploads/a.pdf"] {
            assert_eq!(outputs.routed_as("b", key), ("b", key));
        }
        let long = ObjectRef {
            key: ObjectKey::new(format!("uploads/{}.eml", "x".repeat(1000))).expect("key"),
            ..object("s3-triage-prod-uploads")
        };
        assert_eq!(outputs.attachment(&long, "1-report.pdf"), None);
    }

    #[test]
    fn a_malformed_pair_names_the_variable() {
        let err = Outputs::from_env(&env_of(&[(OUTPUT_BUCKETS, "team-media")]))
            .expect_err("no output bucket");
        assert_eq!(
            err.to_string(),
            "environment variable TRIAGE_OUTPUT_BUCKETS=\"team-media\" is invalid: \"team-media\" is not <source bucket>=<output bucket>"
        );
        assert_eq!(
            Outputs::from_env(&env_of(&[])).expect("unset"),
            Outputs::in_place("processed/")
        );
    }
}

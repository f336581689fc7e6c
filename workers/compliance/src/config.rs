//! A checker Lambda's configuration, read from the environment once at start-up, and the
//! checkers built from it (also for the large-file task, which runs them in its pass).

use crate::checker::content::ContentChecker;
use crate::checker::malware::MalwareChecker;
use crate::checker::pii::{DocumentParser, PiiChecker};
use crate::checker::Checker;
use crate::content::ContentPolicy;
use crate::quarantine::QuarantineMode;
use crate::signature_store;
use crate::tags::{VerdictTags, DEFAULT_PRESET};
use crate::verdict::{check_stage, CheckerSet};
use audit::RecorderSettings;
use extractor::isolate::Limits;
use platform::config::{ConfigError, Env};
use std::time::Duration;
use worker_common::outputs::Outputs;

/// Which checker this function runs: `malware`, `content` or `pii`.
pub const CHECKER: &str = "TRIAGE_CHECKER";
/// Every deployed checker and its content kinds, as JSON (see [`CheckerSet`]).
pub const CHECKERS: &str = "TRIAGE_COMPLIANCE_CHECKERS";
/// `s3://bucket/prefix/` holding the malware checker's `.hdb` / `.hsb` / `.ndb` files.
pub const SIGNATURES_URI: &str = "TRIAGE_SIGNATURES_URI";
pub const QUARANTINE: &str = "TRIAGE_QUARANTINE";
/// The verdict's tags: a preset (`s3-triage`, `bucket-antivirus`, `cdk-serverless-clamscan`,
/// `guardduty`) or a JSON vocabulary of the same shape (see `verdict-tags.json`).
pub const VERDICT_TAGS: &str = "TRIAGE_VERDICT_TAGS";
pub const CONCURRENCY: &str = "TRIAGE_COMPLIANCE_CONCURRENCY";
/// How often, in seconds, a warm malware checker looks for new signatures.
pub const SIGNATURES_REFRESH_SECONDS: &str = "TRIAGE_SIGNATURES_REFRESH_SECONDS";
/// Largest archive (content) or PDF (pii) held whole; larger ones are flagged unchecked.
pub const MAX_HELD_BYTES: &str = "TRIAGE_COMPLIANCE_MAX_HELD_BYTES";
/// The PII check's PDF parser child: its address-space limit and deadline.
pub const PARSE_MEMORY_MB: &str = "TRIAGE_COMPLIANCE_PARSE_MEMORY_MB";
pub const PARSE_TIMEOUT_SECONDS: &str = "TRIAGE_COMPLIANCE_PARSE_TIMEOUT_SECONDS";
/// Streaming one held object from S3: the part of an item's time that is not parsing.
pub const TRANSFER: Duration = Duration::from_secs(10);

pub const CHECKER_NAMES: [&str; 3] = ["content", "malware", "pii"];

#[derive(Clone, Debug)]
pub struct CheckerConfig {
    pub checker: &'static str,
    pub checkers: CheckerSet,
    pub recorder: RecorderSettings,
    pub signatures_uri: Option<String>,
    pub verdicts: VerdictSettings,
    /// Where quarantine copies go (`<reserved prefix>quarantine/`).
    pub outputs: Outputs,
    pub concurrency: usize,
    pub max_held_bytes: u64,
    /// The PII check's PDF parser limits.
    pub parse: Limits,
    /// How often a warm malware checker asks whether its signatures changed (a rescan always
    /// asks first).
    pub signatures_refresh: Duration,
}

impl CheckerConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let name = env.required(CHECKER, "one of content, malware, pii")?;
        let checker = CHECKER_NAMES
            .into_iter()
            .find(|known| *known == name)
            .ok_or_else(|| env.invalid(CHECKER, "expected one of content, malware, pii"))?;
        let checkers = CheckerSet::parse(&env.required(
            CHECKERS,
            r#"a JSON object of checker to content kinds, e.g. {"malware": [], "pii": ["text", "pdf"]}"#,
        )?)
        .map_err(|reason| env.invalid(CHECKERS, &reason))?;
        if !checkers.contains(checker) {
            return Err(env.invalid(
                CHECKERS,
                format!("does not list this function's checker {checker:?}"),
            ));
        }
        let signatures_uri = match checker {
            "malware" => {
                Some(env.required(SIGNATURES_URI, "s3://bucket/prefix/ of the signature files")?)
            }
            _ => None,
        };
        let concurrency: usize = env.parsed_or(CONCURRENCY, 4)?;
        if concurrency == 0 {
            return Err(env.invalid(CONCURRENCY, "expected at least 1"));
        }
        Ok(Self {
            checker,
            checkers,
            recorder: RecorderSettings::from_env(env, &check_stage(checker))?,
            signatures_uri,
            verdicts: VerdictSettings::from_env(env)?,
            outputs: Outputs::from_env(env)?,
            concurrency,
            max_held_bytes: env.size_or(MAX_HELD_BYTES, 100 << 20)?,
            signatures_refresh: Duration::from_secs(
                env.parsed_or(SIGNATURES_REFRESH_SECONDS, 300)?,
            ),
            parse: Limits::new(
                env.parsed_or(PARSE_MEMORY_MB, Limits::DEFAULT_MEMORY_MB)? << 20,
                Duration::from_secs(
                    env.parsed_or(PARSE_TIMEOUT_SECONDS, Limits::DEFAULT_TIMEOUT_SECONDS)?,
                ),
            ),
        })
    }

    /// The most one message can take: a PDF's parse plus streaming the object.
    pub fn item_time(&self) -> Duration {
        self.parse.timeout + TRANSFER
    }
}

/// What a verdict does to the object, read alike by both verdict writers (the checkers and
/// the large-file task).
#[derive(Clone, Debug)]
pub struct VerdictSettings {
    /// What an INFECTED verdict does besides its tags (`TRIAGE_QUARANTINE`).
    pub quarantine: QuarantineMode,
    /// The tag vocabulary `TRIAGE_VERDICT_TAGS` names.
    pub tags: VerdictTags,
}

impl VerdictSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            quarantine: env.parsed_or(QUARANTINE, QuarantineMode::Copy)?,
            tags: verdict_tags(env)?,
        })
    }
}

/// The tag vocabulary `TRIAGE_VERDICT_TAGS` names, the default preset when unset: what the
/// verdict writers write and the canary checks.
pub fn verdict_tags<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<VerdictTags, ConfigError> {
    let tags = env
        .optional(VERDICT_TAGS)
        .unwrap_or_else(|| DEFAULT_PRESET.into());
    VerdictTags::parse(&tags).map_err(|reason| env.invalid(VERDICT_TAGS, reason))
}

/// What building a checker may need besides its name.
pub struct CheckerResources<'a> {
    pub s3: &'a aws_sdk_s3::Client,
    /// Where the malware checker loads its signatures from.
    pub signatures_uri: Option<&'a str>,
    pub max_held_bytes: u64,
    /// What extracts a PDF's text for the PII check.
    pub pdf_parser: Option<DocumentParser>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the malware checker needs {SIGNATURES_URI}")]
    NoSignatures,
    #[error(transparent)]
    Signatures(#[from] signature_store::LoadError),
    #[error(transparent)]
    Compile(#[from] crate::scan::CompileError),
    #[error("unknown checker {0:?}: expected one of content, malware, pii")]
    Unknown(String),
}

/// The checker named `name`, with what it loads once per process (the malware signatures).
pub async fn build_checker(
    name: &str,
    resources: CheckerResources<'_>,
) -> Result<Box<dyn Checker>, BuildError> {
    Ok(match name {
        "malware" => {
            let uri = resources.signatures_uri.ok_or(BuildError::NoSignatures)?;
            Box::new(MalwareChecker::load(resources.s3, uri).await?)
        }
        "content" => Box::new(ContentChecker {
            policy: ContentPolicy::default(),
            max_archive_bytes: resources.max_held_bytes,
        }),
        "pii" => Box::new(PiiChecker {
            parser: resources.pdf_parser,
            max_document_bytes: resources.max_held_bytes,
        }),
        other => return Err(BuildError::Unknown(other.into())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::config::env_of;
    use testkit::AUDIT_PLACEHOLDERS;

    fn read(pairs: &[(&str, &str)]) -> Result<CheckerConfig, ConfigError> {
        CheckerConfig::from_env(&env_of(&[&AUDIT_PLACEHOLDERS[..], pairs].concat()))
    }

    const SET: &str = r#"{"content": [], "malware": [], "pii": ["text"]}"#;

    #[test]
    fn each_variable_is_validated_by_name() {
        let pii = read(&[(CHECKER, "pii"), (CHECKERS, SET)]).expect("valid");
        assert_eq!(pii.checker, "pii");
        assert_eq!(pii.recorder.worker, "compliance.pii");
        assert_eq!(pii.verdicts.quarantine, QuarantineMode::Copy);
        assert_eq!(pii.verdicts.tags.key, "s3-triage-verdict");
        assert_eq!(pii.max_held_bytes, 100 << 20);
        for (pairs, variable) in [
            (vec![(CHECKERS, SET)], CHECKER),
            (vec![(CHECKER, "virus"), (CHECKERS, SET)], CHECKER),
            (vec![(CHECKER, "pii")], CHECKERS),
            (
                vec![(CHECKER, "pii"), (CHECKERS, r#"{"malware": []}"#)],
                CHECKERS,
            ),
            (vec![(CHECKER, "malware"), (CHECKERS, SET)], SIGNATURES_URI),
            (
                vec![(CHECKER, "pii"), (CHECKERS, SET), (QUARANTINE, "shred")],
                QUARANTINE,
            ),
            (
                vec![(CHECKER, "pii"), (CHECKERS, SET), (VERDICT_TAGS, "clamav")],
                VERDICT_TAGS,
            ),
        ] {
            let err = read(&pairs).expect_err("invalid");
            assert!(err.to_string().contains(variable), "{variable}: {err}");
        }
        let malware = read(&[
            (CHECKER, "malware"),
            (CHECKERS, SET),
            (SIGNATURES_URI, "s3://b/signatures/"),
            (QUARANTINE, "move"),
        ])
        .expect("valid");
        assert_eq!(malware.verdicts.quarantine, QuarantineMode::Move);
    }
}

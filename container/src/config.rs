//! The task's configuration: the router's dispatch (a RunTask container override) and the
//! task definition's settings, read from the environment once and validated at start.

use crate::stream::StreamSettings;
use audit::RecorderSettings;
use compliance::checker::Checker;
use compliance::config::{
    build_checker, BuildError, CheckerResources, VerdictSettings, SIGNATURES_URI,
};
use object_events::size::{GIB, MIB};
use object_events::{Dispatch, Tier};
use platform::config::{ConfigError, Env};
use std::time::Duration;
use worker_common::outputs::Outputs;

/// The router's [`Dispatch`] as JSON (set by the router as a RunTask override).
pub const DISPATCH: &str = "TRIAGE_DISPATCH";
pub const PART_SIZE: &str = "TRIAGE_LARGE_PART_SIZE";
pub const PARALLELISM: &str = "TRIAGE_LARGE_PARALLELISM";
pub const ATTEMPTS: &str = "TRIAGE_LARGE_ATTEMPTS";
pub const PROGRESS_SECONDS: &str = "TRIAGE_LARGE_PROGRESS_SECONDS";
pub const MAX_BYTES: &str = "TRIAGE_LARGE_MAX_BYTES";

#[derive(Clone, Debug)]
pub struct TaskConfig {
    pub dispatch: Dispatch,
    pub recorder: RecorderSettings,
    pub stream: StreamSettings,
    /// How often the IN_PROGRESS record is rewritten with the bytes done (its rate limit).
    pub progress_interval: Duration,
    /// Objects larger than this are FAILED without being read.
    pub max_bytes: u64,
    /// The manifest goes to `<reserved prefix>manifests/`, a quarantine copy to `quarantine/`.
    pub outputs: Outputs,
    /// Where the malware signatures are, when the pass scans for malware.
    pub signatures_uri: Option<String>,
    /// What the verdict does to the object, as for the checker Lambdas.
    pub verdicts: VerdictSettings,
}

impl TaskConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let dispatch_json = env.required(
            DISPATCH,
            "the router's dispatch message (JSON), set as a RunTask container override",
        )?;
        let dispatch: Dispatch = serde_json::from_str(&dispatch_json)
            .map_err(|err| env.invalid(DISPATCH, format!("not a dispatch message: {err}")))?;
        if dispatch.tier != Tier::Large {
            return Err(env.invalid(
                DISPATCH,
                format!("dispatched to tier {}, not large", dispatch.tier),
            ));
        }
        if dispatch.object.version_id.is_none() && dispatch.object.etag.is_none() {
            return Err(env.invalid(
                DISPATCH,
                "the object has neither a versionId nor an eTag to pin the read to",
            ));
        }
        let part_size = env.size_or(PART_SIZE, 8 * MIB)?;
        if part_size < 64 * 1024 {
            return Err(env.invalid(PART_SIZE, "expected at least 64 KiB"));
        }
        let parallelism: usize = env.parsed_or(PARALLELISM, 8)?;
        if !(1..=64).contains(&parallelism) {
            return Err(env.invalid(PARALLELISM, "expected 1 to 64 concurrent reads"));
        }
        let attempts: u32 = env.parsed_or(ATTEMPTS, 4)?;
        if attempts == 0 {
            return Err(env.invalid(ATTEMPTS, "expected at least 1 attempt per part"));
        }
        let progress_seconds: u64 = env.parsed_or(PROGRESS_SECONDS, 10)?;
        if progress_seconds == 0 {
            return Err(env.invalid(PROGRESS_SECONDS, "expected at least 1 second"));
        }
        Ok(Self {
            dispatch,
            recorder: RecorderSettings::from_env(env, crate::task::STAGE)?,
            stream: StreamSettings {
                part_size,
                parallelism,
                attempts,
                retry_delay: Duration::from_millis(200),
            },
            progress_interval: Duration::from_secs(progress_seconds),
            max_bytes: env.size_or(MAX_BYTES, 5 * GIB)?,
            outputs: Outputs::from_env(env)?,
            signatures_uri: env.optional(SIGNATURES_URI),
            verdicts: VerdictSettings::from_env(env)?,
        })
    }

    /// The compliance checks the pass runs: content validation and PII always (PII reads what
    /// the bytes show to be text; a PDF is not parsed here and is UNSUPPORTED for PII), the
    /// malware scan when signatures are configured.
    pub async fn pass_checkers(
        &self,
        s3: &aws_sdk_s3::Client,
    ) -> Result<Vec<Box<dyn Checker>>, BuildError> {
        let mut names = vec!["content", "pii"];
        if self.signatures_uri.is_some() {
            names.push("malware");
        }
        let mut checkers = Vec::new();
        for name in names {
            let resources = CheckerResources {
                s3,
                signatures_uri: self.signatures_uri.as_deref(),
                max_held_bytes: 100 * MIB,
                pdf_parser: None,
            };
            checkers.push(build_checker(name, resources).await?);
        }
        Ok(checkers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use object_events::{ObjectKey, S3Object};
    use platform::config::env_of;
    use testkit::AUDIT_PLACEHOLDERS;

    fn dispatch_json(tier: Tier) -> String {
        let object = S3Object::put(
            "uploads",
            ObjectKey::new("uploads/big.bin").expect("key"),
            6 * GIB,
            Some("abc".into()),
        );
        serde_json::to_string(&Dispatch::new(object, tier, "large", Utc::now())).expect("json")
    }

    fn config(extra: &[(&str, &str)]) -> Result<TaskConfig, ConfigError> {
        let json = dispatch_json(Tier::Large);
        let mut pairs: Vec<(&str, &str)> = AUDIT_PLACEHOLDERS.to_vec();
        pairs.push((DISPATCH, &json));
        pairs.extend_from_slice(extra);
        TaskConfig::from_env(&env_of(&pairs))
    }

    #[test]
    fn defaults_and_sizes_with_units() {
        let defaults = config(&[]).expect("valid");
        assert_eq!(defaults.stream.part_size, 8 * MIB);
        assert_eq!(defaults.stream.parallelism, 8);
        assert_eq!(defaults.max_bytes, 5 * GIB);
        assert_eq!(defaults.dispatch.object.key.as_str(), "uploads/big.bin");
        let set = config(&[(PART_SIZE, "5 GiB"), (PARALLELISM, "1")]).expect("valid");
        assert_eq!(set.stream.part_size, 5 * GIB);
        assert_eq!(set.stream.parallelism, 1);
    }

    #[test]
    fn errors_name_the_variable() {
        let message = |extra: &[(&str, &str)]| config(extra).expect_err("invalid").to_string();
        assert!(message(&[(PART_SIZE, "1 KiB")]).contains(PART_SIZE));
        assert!(message(&[(PARALLELISM, "0")]).contains(PARALLELISM));
        assert!(message(&[(ATTEMPTS, "0")]).contains(ATTEMPTS));
        assert!(message(&[(DISPATCH, "{}")]).contains("TRIAGE_DISPATCH"));
        let thumbnail = dispatch_json(Tier::Thumbnail);
        assert!(message(&[(DISPATCH, &thumbnail)]).contains("not large"));
        let missing = TaskConfig::from_env(&env_of(&AUDIT_PLACEHOLDERS))
            .expect_err("no dispatch")
            .to_string();
        assert!(missing.contains("TRIAGE_DISPATCH is not set"), "{missing}");
    }
}

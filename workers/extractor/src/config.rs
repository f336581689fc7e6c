//! The extractor's configuration, read from the environment once at start-up.

use crate::isolate::Limits;
use audit::RecorderSettings;
use platform::config::{ConfigError, Env};
use std::time::Duration;
use worker_common::outputs::Outputs;

pub const MAX_BYTES: &str = "TRIAGE_EXTRACTOR_MAX_BYTES";
pub const PARSE_TIMEOUT_SECONDS: &str = "TRIAGE_EXTRACTOR_PARSE_TIMEOUT_SECONDS";
pub const PARSE_MEMORY_MB: &str = "TRIAGE_EXTRACTOR_PARSE_MEMORY_MB";
pub const CONCURRENCY: &str = "TRIAGE_EXTRACTOR_CONCURRENCY";

#[derive(Clone, Debug)]
pub struct ExtractorConfig {
    pub recorder: RecorderSettings,
    /// Outputs go to `<reserved prefix>text/`.
    pub outputs: Outputs,
    /// Documents larger than this are refused without being read.
    pub max_bytes: u64,
    /// What one document's parser child may use.
    pub parse: Limits,
    /// Documents of one batch processed at the same time.
    pub concurrency: usize,
}

/// Reading a document and writing its text: the part of one document's time that is not
/// parsing (100 MiB from S3 in the same region takes a few seconds).
pub const TRANSFER: Duration = Duration::from_secs(10);

impl ExtractorConfig {
    /// The most one document can take: parse deadline plus transfers.
    pub fn item_time(&self) -> Duration {
        self.parse.timeout + TRANSFER
    }

    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let concurrency: usize = env.parsed_or(CONCURRENCY, 4)?;
        if concurrency == 0 {
            return Err(env.invalid(CONCURRENCY, "expected at least 1"));
        }
        Ok(Self {
            recorder: RecorderSettings::from_env(env, crate::handler::STAGE)?,
            outputs: Outputs::from_env(env)?,
            max_bytes: env.parsed_or(MAX_BYTES, 100 << 20)?,
            parse: Limits::new(
                env.parsed_or(PARSE_MEMORY_MB, Limits::DEFAULT_MEMORY_MB)? << 20,
                Duration::from_secs(
                    env.parsed_or(PARSE_TIMEOUT_SECONDS, Limits::DEFAULT_TIMEOUT_SECONDS)?,
                ),
            ),
            concurrency,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::config::env_of;
    use testkit::AUDIT_PLACEHOLDERS;

    fn read(pairs: &[(&str, &str)]) -> Result<ExtractorConfig, ConfigError> {
        ExtractorConfig::from_env(&env_of(&[&AUDIT_PLACEHOLDERS[..], pairs].concat()))
    }

    #[test]
    fn defaults_and_overrides() {
        let defaults = read(&[]).expect("valid");
        assert_eq!(defaults.max_bytes, 100 << 20);
        assert_eq!(defaults.parse.timeout, Duration::from_secs(40));
        assert_eq!(defaults.recorder.worker, "extractor");
        let tuned = read(&[(CONCURRENCY, "2"), (PARSE_MEMORY_MB, "256")]).expect("valid");
        assert_eq!(
            (tuned.concurrency, tuned.parse.memory_bytes),
            (2, 256 << 20)
        );
        let err = read(&[(CONCURRENCY, "0")]).expect_err("zero concurrency");
        assert!(err.to_string().contains(CONCURRENCY), "{err}");
    }
}

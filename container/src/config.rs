//! The task's configuration: the queue it takes dispatches from and the task definition's
//! settings, read from the environment once and validated at start.

use crate::stream::StreamSettings;
use audit::RecorderSettings;
use compliance::checker::Checker;
use compliance::config::{
    build_checker, BuildError, CheckerResources, VerdictSettings, SIGNATURES_URI,
};
use object_events::size::{GIB, MIB};
use platform::config::{ConfigError, Env};
use std::time::Duration;
use worker_common::outputs::Outputs;

/// The large-file queue the router sends dispatches to.
pub const QUEUE_URL: &str = "TRIAGE_LARGE_QUEUE_URL";
/// How many objects one task streams at once (the router sizes the fleet by the same number).
pub const MESSAGES_PER_TASK: &str = "TRIAGE_LARGE_MESSAGES_PER_TASK";
/// How long the queue must stay empty before the task exits.
pub const IDLE_SECONDS: &str = "TRIAGE_LARGE_IDLE_SECONDS";
/// How long a received message stays hidden from other tasks; renewed while its object streams.
pub const VISIBILITY_SECONDS: &str = "TRIAGE_LARGE_VISIBILITY_SECONDS";
pub const PART_SIZE: &str = "TRIAGE_LARGE_PART_SIZE";
pub const PARALLELISM: &str = "TRIAGE_LARGE_PARALLELISM";
pub const ATTEMPTS: &str = "TRIAGE_LARGE_ATTEMPTS";
pub const PROGRESS_SECONDS: &str = "TRIAGE_LARGE_PROGRESS_SECONDS";
pub const MAX_BYTES: &str = "TRIAGE_LARGE_MAX_BYTES";

#[derive(Clone, Debug)]
pub struct TaskConfig {
    pub queue: QueueSettings,
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

/// Where the task's work comes from and how long it waits for more.
#[derive(Clone, Debug)]
pub struct QueueSettings {
    pub url: String,
    /// Objects streamed at once; each holds its own read-ahead buffers.
    pub messages_at_once: usize,
    /// The task exits once nothing has arrived and nothing is in progress for this long.
    pub idle: Duration,
    /// A received message is hidden this long, renewed every third of it while it streams.
    pub visibility: Duration,
}

impl QueueSettings {
    fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let url = env.required(QUEUE_URL, "the large-file queue's URL")?;
        let messages_at_once: usize = env.parsed_or(MESSAGES_PER_TASK, 1)?;
        if !(1..=10).contains(&messages_at_once) {
            return Err(env.invalid(
                MESSAGES_PER_TASK,
                "expected 1 to 10 objects at once (one ReceiveMessage's most)",
            ));
        }
        let idle_seconds: u64 = env.parsed_or(IDLE_SECONDS, 10)?;
        if idle_seconds == 0 {
            return Err(env.invalid(IDLE_SECONDS, "expected at least 1 second"));
        }
        let visibility_seconds: u64 = env.parsed_or(VISIBILITY_SECONDS, 120)?;
        if !(30..=43_200).contains(&visibility_seconds) {
            return Err(env.invalid(
                VISIBILITY_SECONDS,
                "expected 30 s to 12 h (SQS's most), renewed every third of it",
            ));
        }
        Ok(Self {
            url,
            messages_at_once,
            idle: Duration::from_secs(idle_seconds),
            visibility: Duration::from_secs(visibility_seconds),
        })
    }
}

impl TaskConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
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
            queue: QueueSettings::from_env(env)?,
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
    use platform::config::env_of;
    use testkit::AUDIT_PLACEHOLDERS;

    const QUEUE: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/large";

    fn config(extra: &[(&str, &str)]) -> Result<TaskConfig, ConfigError> {
        let mut pairs: Vec<(&str, &str)> = AUDIT_PLACEHOLDERS.to_vec();
        pairs.push((QUEUE_URL, QUEUE));
        pairs.extend_from_slice(extra);
        TaskConfig::from_env(&env_of(&pairs))
    }

    #[test]
    fn defaults_and_sizes_with_units() {
        let defaults = config(&[]).expect("valid");
        assert_eq!(defaults.stream.part_size, 8 * MIB);
        assert_eq!(defaults.stream.parallelism, 8);
        assert_eq!(defaults.max_bytes, 5 * GIB);
        assert_eq!(defaults.queue.url, QUEUE);
        assert_eq!(defaults.queue.messages_at_once, 1);
        assert_eq!(defaults.queue.idle, Duration::from_secs(10));
        let set = config(&[
            (PART_SIZE, "5 GiB"),
            (PARALLELISM, "1"),
            (MESSAGES_PER_TASK, "4"),
            (IDLE_SECONDS, "5"),
        ])
        .expect("valid");
        assert_eq!(set.stream.part_size, 5 * GIB);
        assert_eq!(set.stream.parallelism, 1);
        assert_eq!(set.queue.messages_at_once, 4);
        assert_eq!(set.queue.idle, Duration::from_secs(5));
    }

    #[test]
    fn errors_name_the_variable() {
        let message = |extra: &[(&str, &str)]| config(extra).expect_err("invalid").to_string();
        assert!(message(&[(PART_SIZE, "1 KiB")]).contains(PART_SIZE));
        assert!(message(&[(PARALLELISM, "0")]).contains(PARALLELISM));
        assert!(message(&[(ATTEMPTS, "0")]).contains(ATTEMPTS));
        assert!(message(&[(MESSAGES_PER_TASK, "11")]).contains(MESSAGES_PER_TASK));
        assert!(message(&[(IDLE_SECONDS, "0")]).contains(IDLE_SECONDS));
        assert!(message(&[(VISIBILITY_SECONDS, "10")]).contains(VISIBILITY_SECONDS));
        let missing = TaskConfig::from_env(&env_of(&AUDIT_PLACEHOLDERS))
            .expect_err("no queue")
            .to_string();
        assert!(
            missing.contains("TRIAGE_LARGE_QUEUE_URL is not set"),
            "{missing}"
        );
    }
}

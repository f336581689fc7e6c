//! The recorder's settings, read from the environment every binary shares.

use platform::config::{ConfigError, Env, ENVIRONMENT};
use std::time::Duration;

pub const AUDIT_TABLE: &str = "TRIAGE_AUDIT_TABLE";
pub const NOTIFICATIONS_TOPIC_ARN: &str = "TRIAGE_NOTIFICATIONS_TOPIC_ARN";
pub const AUDIT_RETENTION_DAYS: &str = "TRIAGE_AUDIT_RETENTION_DAYS";
pub const CLAIM_LEASE_SECONDS: &str = "TRIAGE_CLAIM_LEASE_SECONDS";
pub const EMF_METRICS: &str = "TRIAGE_EMF_METRICS";

/// What a recorder needs besides its clients.
#[derive(Clone, Debug)]
pub struct RecorderSettings {
    pub table: String,
    pub topic_arn: String,
    /// Which binary writes (`router`, `thumbnail`, ...): the audit's "who processed it".
    pub worker: String,
    pub environment: String,
    /// How long audit items live before DynamoDB's TTL removes them.
    pub retention: Duration,
    /// How long a claim protects an unfinished record from a concurrent duplicate. After it
    /// expires, a redelivery takes the claim over and finishes the job.
    pub claim_lease: Duration,
    /// Write each completed record's metrics as an EMF line on stdout, where Lambda's and
    /// ECS's log pipelines pick them up; off where nothing reads stdout (tests).
    pub emit_metrics: bool,
}

impl RecorderSettings {
    /// The audit settings every worker reads, for the binary named `worker`.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
        worker: &str,
    ) -> Result<Self, ConfigError> {
        const DAY: u64 = 24 * 60 * 60;
        Ok(RecorderSettings {
            environment: env.required(
                ENVIRONMENT,
                "the deployment's name, e.g. dev, staging, prod",
            )?,
            table: env.required(AUDIT_TABLE, "the DynamoDB audit table's name")?,
            topic_arn: env.required(
                NOTIFICATIONS_TOPIC_ARN,
                "the ARN of the SNS notifications topic",
            )?,
            worker: worker.to_owned(),
            retention: Duration::from_secs(DAY * env.parsed_or::<u64>(AUDIT_RETENTION_DAYS, 90)?),
            claim_lease: Duration::from_secs(env.parsed_or::<u64>(CLAIM_LEASE_SECONDS, 120)?),
            emit_metrics: env.parsed_or(EMF_METRICS, true)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::config::env_of;

    #[test]
    fn recorder_settings_name_the_missing_or_invalid_variable() {
        let missing = RecorderSettings::from_env(&env_of(&[(ENVIRONMENT, "dev")]), "router");
        assert_eq!(
            missing.expect_err("table missing").to_string(),
            "environment variable TRIAGE_AUDIT_TABLE is not set: the DynamoDB audit table's name"
        );
        let invalid = RecorderSettings::from_env(
            &env_of(&[
                (ENVIRONMENT, "dev"),
                (AUDIT_TABLE, "audit"),
                (NOTIFICATIONS_TOPIC_ARN, "arn:aws:sns:eu-west-1:1:n"),
                (AUDIT_RETENTION_DAYS, "ninety"),
            ]),
            "router",
        );
        assert_eq!(
            invalid.expect_err("bad number").to_string(),
            "environment variable TRIAGE_AUDIT_RETENTION_DAYS=\"ninety\" is invalid: invalid digit found in string"
        );
    }

    #[test]
    fn defaults_apply_when_unset_or_blank() {
        let settings = RecorderSettings::from_env(
            &env_of(&[
                (ENVIRONMENT, "dev"),
                (AUDIT_TABLE, "audit"),
                (NOTIFICATIONS_TOPIC_ARN, "arn"),
                (CLAIM_LEASE_SECONDS, " "),
            ]),
            "router",
        )
        .expect("valid");
        assert_eq!(settings.retention, Duration::from_secs(90 * 86_400));
        assert_eq!(settings.claim_lease, Duration::from_secs(120));
        assert!(settings.emit_metrics);
    }
}

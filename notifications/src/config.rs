//! Typed configuration from environment variables, shared by every binary. Errors name the
//! variable and say what a valid value looks like.

use crate::RecorderSettings;
use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

pub const ENVIRONMENT: &str = "TRIAGE_ENVIRONMENT";
pub const AUDIT_TABLE: &str = "TRIAGE_AUDIT_TABLE";
pub const NOTIFICATIONS_TOPIC_ARN: &str = "TRIAGE_NOTIFICATIONS_TOPIC_ARN";
pub const AUDIT_RETENTION_DAYS: &str = "TRIAGE_AUDIT_RETENTION_DAYS";
pub const CLAIM_LEASE_SECONDS: &str = "TRIAGE_CLAIM_LEASE_SECONDS";
pub const EMF_METRICS: &str = "TRIAGE_EMF_METRICS";
/// Where workers write their outputs; no routing rule may match it, so outputs never loop.
pub const RESERVED_PREFIX: &str = "TRIAGE_RESERVED_PREFIX";
pub const DEFAULT_RESERVED_PREFIX: &str = "processed/";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is not set: {expected}")]
    Missing {
        name: &'static str,
        expected: &'static str,
    },
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

/// A source of configuration values: the process environment, or a map in tests.
pub struct Env<F>(F);

impl Env<fn(&str) -> Option<String>> {
    pub fn process() -> Self {
        Env(|name| std::env::var(name).ok())
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn from_lookup(lookup: F) -> Self {
        Env(lookup)
    }

    /// The variable's value; unset and blank are the same.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|value| !value.trim().is_empty())
    }

    pub fn required(
        &self,
        name: &'static str,
        expected: &'static str,
    ) -> Result<String, ConfigError> {
        self.optional(name)
            .ok_or(ConfigError::Missing { name, expected })
    }

    pub fn parsed_or<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(value) => value
                .trim()
                .parse()
                .map_err(|err: T::Err| ConfigError::Invalid {
                    name,
                    reason: err.to_string(),
                    value,
                }),
        }
    }

    /// A size in bytes or with a binary unit (`"16 MiB"`), as the routing rules write sizes.
    pub fn size_or(&self, name: &'static str, default: u64) -> Result<u64, ConfigError> {
        match self.optional(name) {
            None => Ok(default),
            Some(text) => {
                object_events::size::parse(&text).map_err(|reason| self.invalid(name, reason))
            }
        }
    }

    /// A comma-separated list with at least one entry.
    pub fn list(
        &self,
        name: &'static str,
        expected: &'static str,
    ) -> Result<Vec<String>, ConfigError> {
        let value = self.required(name, expected)?;
        Ok(value
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(String::from)
            .collect())
    }

    pub fn invalid(&self, name: &'static str, reason: impl Display) -> ConfigError {
        ConfigError::Invalid {
            name,
            value: self.optional(name).unwrap_or_default(),
            reason: reason.to_string(),
        }
    }
}

/// An environment of fixed values, a later pair overriding an earlier one: for tests and
/// tools that configure a binary without touching the process environment.
pub fn env_of(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
    let values: HashMap<String, String> = pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    Env::from_lookup(move |name| values.get(name).cloned())
}

/// Values for the variables every worker's audit settings need, for tests.
pub const AUDIT_PLACEHOLDERS: [(&str, &str); 3] = [
    (ENVIRONMENT, "test"),
    (AUDIT_TABLE, "audit"),
    (
        NOTIFICATIONS_TOPIC_ARN,
        "arn:aws:sns:us-east-1:123456789012:notifications",
    ),
];

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

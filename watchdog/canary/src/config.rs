//! The canary Lambda's settings: which deployment it proves, and how long it waits.

use audit::settings::AUDIT_TABLE;
use compliance::tags::VerdictTags;
use platform::config::{ConfigError, Env, ENVIRONMENT};
use router::policy::RoutingPolicy;
use std::time::Duration;

/// The bucket the canaries are uploaded to (a watched one).
pub const BUCKET: &str = "TRIAGE_CANARY_BUCKET";
/// How long one run waits for every canary's outcome.
pub const TIMEOUT_SECONDS: &str = "TRIAGE_CANARY_TIMEOUT_SECONDS";

pub struct CanaryConfig {
    pub environment: String,
    pub bucket: String,
    pub audit_table: String,
    pub policy: RoutingPolicy,
    pub tags: VerdictTags,
    pub timeout: Duration,
}

impl CanaryConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            environment: env.required(
                ENVIRONMENT,
                "the deployment's name, e.g. dev, staging, prod",
            )?,
            bucket: env.required(BUCKET, "the watched bucket the canaries are uploaded to")?,
            audit_table: env.required(AUDIT_TABLE, "the DynamoDB audit table's name")?,
            policy: router::config::policy_from_env(env)?,
            tags: compliance::config::verdict_tags(env)?,
            timeout: Duration::from_secs(env.parsed_or(TIMEOUT_SECONDS, 240)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::config::env_of;

    #[test]
    fn the_deployment_is_named_and_defaults_are_the_routers_and_verdict_writers() {
        let missing = CanaryConfig::from_env(&env_of(&[(ENVIRONMENT, "dev")])).err();
        assert_eq!(
            missing.map(|err| err.to_string()).as_deref(),
            Some("environment variable TRIAGE_CANARY_BUCKET is not set: the watched bucket the canaries are uploaded to")
        );
        let config = CanaryConfig::from_env(&env_of(&[
            (ENVIRONMENT, "dev"),
            (BUCKET, "uploads"),
            ("TRIAGE_AUDIT_TABLE", "audit"),
        ]))
        .expect("valid");
        assert_eq!(config.timeout, Duration::from_secs(240));
        assert_eq!(config.policy.rules(), RoutingPolicy::default_rules());
        assert_eq!(config.tags.key, "s3-triage-verdict");
        let bad_rules = CanaryConfig::from_env(&env_of(&[
            (ENVIRONMENT, "dev"),
            (BUCKET, "uploads"),
            ("TRIAGE_AUDIT_TABLE", "audit"),
            ("TRIAGE_ROUTING_RULES", "[]"),
        ]))
        .err();
        assert_eq!(
            bad_rules.map(|err| err.to_string()).as_deref(),
            Some("environment variable TRIAGE_ROUTING_RULES=\"[]\" is invalid: the routing table has no rules")
        );
    }
}

//! The sweeper's settings: the recorder's, and how old a claim must be to count as abandoned.

use audit::RecorderSettings;
use platform::config::{ConfigError, Env};
use std::time::Duration;

pub const ABANDONED_AFTER_SECONDS: &str = "TRIAGE_ABANDONED_AFTER_SECONDS";

pub struct SweeperConfig {
    pub recorder: RecorderSettings,
    /// A claim older than this has outlived every redelivery that could finish it.
    pub abandoned_after: Duration,
}

impl SweeperConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let seconds: u64 = env
            .required(
                ABANDONED_AFTER_SECONDS,
                "seconds after which an unfinished claim is abandoned (terraform derives it from every redelivery horizon)",
            )?
            .trim()
            .parse()
            .map_err(|err| env.invalid(ABANDONED_AFTER_SECONDS, err))?;
        if seconds == 0 {
            return Err(env.invalid(
                ABANDONED_AFTER_SECONDS,
                "must be above 0: every claim in flight would be failed",
            ));
        }
        Ok(Self {
            recorder: RecorderSettings::from_env(env, "sweeper")?,
            abandoned_after: Duration::from_secs(seconds),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::config::env_of;

    const COMMON: [(&str, &str); 3] = [
        ("TRIAGE_ENVIRONMENT", "dev"),
        ("TRIAGE_AUDIT_TABLE", "audit"),
        (
            "TRIAGE_NOTIFICATIONS_TOPIC_ARN",
            "arn:aws:sns:eu-west-1:1:n",
        ),
    ];

    #[test]
    fn the_horizon_is_required_and_above_zero() {
        let missing = SweeperConfig::from_env(&env_of(&COMMON)).err();
        assert_eq!(
            missing.map(|err| err.to_string()).as_deref(),
            Some("environment variable TRIAGE_ABANDONED_AFTER_SECONDS is not set: seconds after which an unfinished claim is abandoned (terraform derives it from every redelivery horizon)")
        );
        let zero = SweeperConfig::from_env(&env_of(
            &[&COMMON[..], &[(ABANDONED_AFTER_SECONDS, "0")]].concat(),
        ))
        .err();
        assert_eq!(
            zero.map(|err| err.to_string()).as_deref(),
            Some("environment variable TRIAGE_ABANDONED_AFTER_SECONDS=\"0\" is invalid: must be above 0: every claim in flight would be failed")
        );
        let config = SweeperConfig::from_env(&env_of(
            &[&COMMON[..], &[(ABANDONED_AFTER_SECONDS, "21600")]].concat(),
        ))
        .expect("valid");
        assert_eq!(config.abandoned_after, Duration::from_secs(21_600));
        assert_eq!(config.recorder.worker, "sweeper");
    }
}

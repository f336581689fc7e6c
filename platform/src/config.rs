//! Typed configuration from environment variables, shared by every binary. Errors name the
//! variable and say what a valid value looks like.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

/// The deployment's name (`dev`, `staging`, `prod`, `local`): in every record and metric.
pub const ENVIRONMENT: &str = "TRIAGE_ENVIRONMENT";
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_or_name_the_variable() {
        let env = env_of(&[
            ("TRIAGE_N", " 42 "),
            ("TRIAGE_BAD", "ninety"),
            ("TRIAGE_BLANK", " "),
        ]);
        assert_eq!(env.parsed_or::<u64>("TRIAGE_N", 1), Ok(42));
        assert_eq!(env.parsed_or::<u64>("TRIAGE_BLANK", 7), Ok(7));
        assert_eq!(
            env.parsed_or::<u64>("TRIAGE_BAD", 1)
                .expect_err("not a number")
                .to_string(),
            "environment variable TRIAGE_BAD=\"ninety\" is invalid: invalid digit found in string"
        );
        assert_eq!(
            env.required("TRIAGE_UNSET", "a name")
                .expect_err("unset")
                .to_string(),
            "environment variable TRIAGE_UNSET is not set: a name"
        );
    }
}

//! The named subscription filters: `filters.json`, read by terraform for declared subscribers
//! and by `triage watch`, so a name means the same filter policy wherever it is used.

use serde_json::{Map, Value};

/// Name -> filter policy (`null`: every notification).
const FILTERS: &str = include_str!("../filters.json");

#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("unknown filter {0:?}: use one of {names}, or a filter policy as a JSON object", names = names().join(", "))]
    Unknown(String),
    #[error("the filter policy is not a JSON object: {0}")]
    NotAnObject(String),
}

fn named() -> Map<String, Value> {
    serde_json::from_str(FILTERS).unwrap_or_default()
}

/// The filter names, sorted.
pub fn names() -> Vec<String> {
    named().keys().cloned().collect()
}

/// The filter policy `filter` stands for: a name from `filters.json`, or a filter policy given
/// as JSON (`{"tier": ["large"]}`); `None` lets every notification through.
pub fn policy(filter: &str) -> Result<Option<String>, FilterError> {
    if filter.trim_start().starts_with('{') {
        return match serde_json::from_str::<Value>(filter) {
            Ok(Value::Object(policy)) => Ok(Some(Value::Object(policy).to_string())),
            Ok(_) => Err(FilterError::NotAnObject(filter.to_owned())),
            Err(err) => Err(FilterError::NotAnObject(format!("{filter}: {err}"))),
        };
    }
    match named().get(filter) {
        Some(Value::Null) => Ok(None),
        Some(policy) => Ok(Some(policy.to_string())),
        None => Err(FilterError::Unknown(filter.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stand_for_the_policies_in_filters_json() {
        assert_eq!(names(), ["all", "failures", "infected", "verdicts"]);
        assert_eq!(policy("all").expect("known"), None);
        assert_eq!(
            policy("failures").expect("known").as_deref(),
            Some(r#"{"outcome":["failure"]}"#)
        );
        assert_eq!(
            policy("verdicts").expect("known").as_deref(),
            Some(r#"{"verdict":[{"exists":true}]}"#)
        );
    }

    #[test]
    fn a_raw_policy_passes_through_and_anything_else_is_refused_naming_the_choices() {
        assert_eq!(
            policy(r#" {"tier": ["large"]}"#)
                .expect("an object")
                .as_deref(),
            Some(r#"{"tier":["large"]}"#)
        );
        let unknown = policy("failure").expect_err("not a name").to_string();
        assert!(
            unknown.contains("all, failures, infected, verdicts"),
            "{unknown}"
        );
        assert!(policy("{\"tier\": ").is_err());
    }
}

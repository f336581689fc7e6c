//! The tags a verdict leaves on the object, in the vocabulary its consumers already read. The
//! presets live in `verdict-tags.json`, which terraform reads too, so the bucket policy's gate
//! (read only what carries the clean value; only the pipeline may change the verdict tag)
//! names the same key and values the checkers write.

use crate::checker::Severity;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The presets, as shipped: `s3-triage` (the default), `bucket-antivirus`,
/// `cdk-serverless-clamscan`, `guardduty`.
pub const PRESETS_JSON: &str = include_str!("../verdict-tags.json");
pub const DEFAULT_PRESET: &str = "s3-triage";

/// One vocabulary: the verdict's tag key and its value for each verdict, plus the optional
/// timestamp and signature tags some consumers read.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictTags {
    pub key: String,
    values: BTreeMap<String, String>,
    #[serde(default)]
    timestamp: Option<TimestampTag>,
    #[serde(default)]
    signature: Option<SignatureTag>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimestampTag {
    key: String,
    /// A chrono format string.
    format: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureTag {
    key: String,
    /// The value when no signature matched.
    none: String,
}

const VERDICTS: [Severity; 4] = [
    Severity::Clean,
    Severity::Unsupported,
    Severity::Flagged,
    Severity::Infected,
];

impl VerdictTags {
    /// A preset by name, or a vocabulary written as JSON in the presets' shape.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let tags: Self = if text.starts_with('{') {
            serde_json::from_str(text)
                .map_err(|err| format!("not a verdict tag vocabulary: {err}"))?
        } else {
            let mut presets: BTreeMap<String, Self> =
                serde_json::from_str(PRESETS_JSON).map_err(|err| err.to_string())?;
            let names = presets.keys().cloned().collect::<Vec<_>>().join(", ");
            presets.remove(text).ok_or_else(|| {
                format!("unknown preset {text:?}: expected one of {names}, or a JSON object")
            })?
        };
        for verdict in VERDICTS {
            let value = tags.values.get(&verdict.to_string()).map(String::as_str);
            if value.is_none_or(str::is_empty) {
                return Err(format!("no tag value for {verdict}"));
            }
        }
        if tags.key.is_empty() || tags.key.len() > 128 {
            return Err("a tag key has 1 to 128 characters".into());
        }
        Ok(tags)
    }

    /// The value the verdict tag has on an object judged `verdict`.
    pub fn value(&self, verdict: Severity) -> &str {
        self.values
            .get(&verdict.to_string())
            .map_or("", String::as_str)
    }

    /// Every tag a verdict writes: the verdict itself, and where the vocabulary has them its
    /// time and the first matching signature.
    pub fn for_verdict(
        &self,
        verdict: Severity,
        signature: Option<&str>,
        at: DateTime<Utc>,
    ) -> Vec<(String, String)> {
        let mut tags = vec![(self.key.clone(), self.value(verdict).to_owned())];
        if let Some(timestamp) = &self.timestamp {
            tags.push((
                timestamp.key.clone(),
                at.format(&timestamp.format).to_string(),
            ));
        }
        if let Some(tag) = &self.signature {
            let value = signature.unwrap_or(&tag.none);
            // S3 tag values stop at 256 characters.
            tags.push((tag.key.clone(), value.chars().take(256).collect()));
        }
        tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn every_preset_names_a_value_for_every_verdict() {
        let presets: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(PRESETS_JSON).expect("JSON");
        assert_eq!(
            presets.keys().collect::<Vec<_>>(),
            [
                "bucket-antivirus",
                "cdk-serverless-clamscan",
                "guardduty",
                "s3-triage"
            ]
        );
        for name in presets.keys() {
            VerdictTags::parse(name).unwrap_or_else(|err| panic!("{name}: {err}"));
        }
        let guardduty = VerdictTags::parse("guardduty").expect("preset");
        assert_eq!(guardduty.key, "GuardDutyMalwareScanStatus");
        assert_eq!(guardduty.value(Severity::Clean), "NO_THREATS_FOUND");
        assert_eq!(guardduty.value(Severity::Infected), "THREATS_FOUND");
    }

    #[test]
    fn bucket_antivirus_writes_status_time_and_signature() {
        let at = Utc
            .with_ymd_and_hms(2026, 12, 2, 9, 30, 5)
            .single()
            .expect("time");
        let tags = VerdictTags::parse("bucket-antivirus").expect("preset");
        assert_eq!(
            tags.for_verdict(Severity::Infected, Some("Eicar-Test-Signature"), at),
            [
                ("av-status".to_owned(), "INFECTED".to_owned()),
                (
                    "av-timestamp".to_owned(),
                    "2026/12/02 09:30:05 UTC".to_owned()
                ),
                ("av-signature".to_owned(), "Eicar-Test-Signature".to_owned()),
            ]
        );
        assert_eq!(
            tags.for_verdict(Severity::Clean, None, at)[2],
            ("av-signature".to_owned(), "OK".to_owned())
        );
    }

    #[test]
    fn a_custom_vocabulary_needs_every_verdict_and_unknown_presets_are_named() {
        let custom = r#"{"key": "scan", "values": {"CLEAN": "ok", "UNSUPPORTED": "skip", "FLAGGED": "look", "INFECTED": "bad"}}"#;
        assert_eq!(
            VerdictTags::parse(custom)
                .expect("custom")
                .value(Severity::Flagged),
            "look"
        );
        let missing = r#"{"key": "scan", "values": {"CLEAN": "ok"}}"#;
        assert_eq!(
            VerdictTags::parse(missing).expect_err("incomplete"),
            "no tag value for UNSUPPORTED"
        );
        let unknown = VerdictTags::parse("clamav").expect_err("unknown");
        assert!(
            unknown.contains("bucket-antivirus, cdk-serverless-clamscan, guardduty, s3-triage"),
            "{unknown}"
        );
    }
}

//! The verdict over one object version's checks. Which checks a file needs depends on its
//! content kind (a checker may apply to some kinds only, as its subscription filter says);
//! the verdict follows once each of those has a final record, and is the worst of them.

use crate::checker::{malware, Severity};
use audit::{AuditEntry, AuditRecord, Status};
use chrono::{DateTime, Utc};
use object_events::{ContentKind, Dispatch, Origin};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Each check records as `compliance.<checker>`; the verdict as `compliance`.
pub use audit::VERDICT_STAGE;
pub const CHECK_STAGE_PREFIX: &str = "compliance.";

pub fn check_stage(checker: &str) -> String {
    format!("{CHECK_STAGE_PREFIX}{checker}")
}

/// Every deployed checker and the content kinds it applies to (empty: every kind), as
/// terraform declares them: `{"content": [], "malware": [], "pii": ["text", "pdf"]}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct CheckerSet(BTreeMap<String, Vec<ContentKind>>);

impl CheckerSet {
    pub fn parse(json: &str) -> Result<Self, String> {
        let set: Self = serde_json::from_str(json).map_err(|err| {
            format!(
                "{err}; expected a JSON object of checker name to content kinds \
                 (image, pdf, text, other; [] for all), e.g. {{\"malware\": [], \"pii\": [\"text\"]}}"
            )
        })?;
        if set.0.is_empty() {
            return Err("no checkers: a verdict needs at least one".into());
        }
        Ok(set)
    }

    pub fn contains(&self, checker: &str) -> bool {
        self.0.contains_key(checker)
    }

    /// The checkers a file of `kind` goes to.
    pub fn required(&self, kind: ContentKind) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(_, kinds)| kinds.is_empty() || kinds.contains(&kind))
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// The checks a run announced by `origin` makes: all of [`Self::required`], except that a
    /// rescan (new signatures, the same bytes) runs only the malware check again.
    pub fn run_by(&self, kind: ContentKind, origin: Origin) -> Vec<&str> {
        let mut required = self.required(kind);
        if origin == Origin::Rescan {
            required.retain(|checker| *checker == malware::NAME);
        }
        required
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub severity: Severity,
    /// The reasons of every check that was not clean, each prefixed with its checker.
    pub reason: Option<String>,
    /// Each required check's recorded status.
    pub checks: BTreeMap<String, String>,
    /// The first signature an INFECTED check names (for vocabularies that tag it).
    pub signature: Option<String>,
}

impl Verdict {
    /// The verdict's record (stage `compliance`) for `dispatch`, timed from `started_at`,
    /// naming the checks it weighed and who decided it.
    pub fn record(
        &self,
        dispatch: &Dispatch,
        started_at: DateTime<Utc>,
        decided_by: &str,
    ) -> AuditRecord {
        let record = AuditRecord::for_dispatch(
            dispatch,
            VERDICT_STAGE,
            Status::from(self.severity),
            started_at,
        )
        .with_details(json!({ "checks": self.checks, "decided_by": decided_by }));
        match &self.reason {
            Some(reason) => record.with_reason(reason.clone()),
            None => record,
        }
    }
}

/// The first signature a check's details name, when it matched any.
pub fn first_signature(details: &Value) -> Option<&str> {
    details
        .pointer("/findings/0/signature")
        .and_then(Value::as_str)
}

/// One check's outcome, as the verdict weighs it.
#[derive(Clone, Copy, Debug)]
pub struct CheckOutcome<'a> {
    pub checker: &'a str,
    pub status: Status,
    pub reason: Option<&'a str>,
    /// The first signature the check names, if it matched any.
    pub signature: Option<&'a str>,
}

/// The verdict over every check's outcome: the worst of them (a check that FAILED counts as
/// FLAGGED: nothing is called clean unchecked), with every reason that is not clean; None if
/// an outcome is not a check's (IN_PROGRESS, say).
pub fn over<'a>(outcomes: impl IntoIterator<Item = CheckOutcome<'a>>) -> Option<Verdict> {
    let mut severity = Severity::Clean;
    let mut reasons = Vec::new();
    let mut checks = BTreeMap::new();
    let mut signature = None;
    for outcome in outcomes {
        let found = Severity::of_recorded(outcome.status)?;
        severity = severity.max(found);
        if found != Severity::Clean {
            let reason = outcome.reason.unwrap_or("no reason recorded");
            let failed = if outcome.status == Status::Failed {
                "failed: "
            } else {
                ""
            };
            reasons.push(format!("{}: {failed}{reason}", outcome.checker));
        }
        if found == Severity::Infected && signature.is_none() {
            signature = outcome.signature.map(String::from);
        }
        checks.insert(
            outcome.checker.to_owned(),
            outcome.status.as_str().to_owned(),
        );
    }
    Some(Verdict {
        severity,
        reason: (!reasons.is_empty()).then(|| reasons.join(" | ")),
        checks,
        signature,
    })
}

/// The verdict on a file of `kind` in a run announced by `origin`, from the check records of
/// that run; None while a check the run makes has not recorded.
pub fn decide(
    set: &CheckerSet,
    kind: ContentKind,
    origin: Origin,
    recorded: &[AuditEntry],
) -> Option<Verdict> {
    let mut outcomes = Vec::new();
    for checker in set.run_by(kind, origin) {
        let stage = check_stage(checker);
        let entry = recorded.iter().find(|entry| entry.stage == stage)?;
        outcomes.push(CheckOutcome {
            checker,
            status: entry.status.parse().ok()?,
            reason: entry.reason.as_deref(),
            signature: entry.details.as_ref().and_then(first_signature),
        });
    }
    over(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> CheckerSet {
        CheckerSet::parse(r#"{"content": [], "malware": [], "pii": ["text", "pdf"]}"#)
            .expect("valid")
    }

    fn entry(checker: &str, status: &str, reason: Option<&str>) -> AuditEntry {
        AuditEntry {
            bucket: "b".into(),
            key: "k".into(),
            version: "v".into(),
            stage: check_stage(checker),
            status: status.into(),
            reason: reason.map(String::from),
            ..AuditEntry::default()
        }
    }

    #[test]
    fn a_file_needs_the_checkers_its_kind_goes_to() {
        assert_eq!(
            set().required(ContentKind::Text),
            ["content", "malware", "pii"]
        );
        assert_eq!(set().required(ContentKind::Image), ["content", "malware"]);
        assert!(CheckerSet::parse("{}").is_err());
        let err = CheckerSet::parse(r#"{"pii": ["spreadsheet"]}"#).expect_err("unknown kind");
        assert!(err.contains("image, pdf, text, other"), "{err}");
    }

    #[test]
    fn the_verdict_waits_for_every_required_check_and_is_the_worst() {
        let clean = [
            entry("content", "CLEAN", None),
            entry("malware", "CLEAN", None),
        ];
        assert_eq!(
            decide(&set(), ContentKind::Text, Origin::Upload, &clean),
            None
        );
        let image =
            decide(&set(), ContentKind::Image, Origin::Upload, &clean).expect("both recorded");
        assert_eq!((image.severity, image.reason), (Severity::Clean, None));

        let mixed = [
            entry("content", "FAILED", Some("object gone")),
            entry("malware", "INFECTED", Some("signatures matched: Eicar")),
            entry("pii", "FLAGGED", Some("1 email")),
        ];
        let verdict =
            decide(&set(), ContentKind::Text, Origin::Upload, &mixed).expect("all recorded");
        assert_eq!(verdict.severity, Severity::Infected);
        assert_eq!(
            verdict.reason.as_deref(),
            Some(
                "content: failed: object gone | malware: signatures matched: Eicar | pii: 1 email"
            )
        );
        assert_eq!(verdict.checks["content"], "FAILED");

        let unfinished = [
            entry("content", "IN_PROGRESS", None),
            entry("malware", "CLEAN", None),
        ];
        assert_eq!(
            decide(&set(), ContentKind::Image, Origin::Upload, &unfinished),
            None
        );
        let failed_only = [
            entry("content", "FAILED", Some("x")),
            entry("malware", "CLEAN", None),
        ];
        assert_eq!(
            decide(&set(), ContentKind::Other, Origin::Reprocess, &failed_only).map(|v| v.severity),
            Some(Severity::Flagged)
        );
    }

    #[test]
    fn a_rescan_decides_on_the_malware_check_alone() {
        assert_eq!(set().run_by(ContentKind::Text, Origin::Rescan), ["malware"]);
        assert_eq!(
            set().run_by(ContentKind::Text, Origin::Reprocess),
            ["content", "malware", "pii"]
        );
        let rescanned = [entry(
            "malware",
            "INFECTED",
            Some("signatures matched: New"),
        )];
        let verdict =
            decide(&set(), ContentKind::Text, Origin::Rescan, &rescanned).expect("decided");
        assert_eq!(verdict.severity, Severity::Infected);
        assert_eq!(
            decide(&set(), ContentKind::Text, Origin::Upload, &rescanned),
            None
        );
    }
}

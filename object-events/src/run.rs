//! Which pass over an object version a record belongs to, and who asked for it.
//!
//! An upload's own event starts the first run. An operator asking for the work again
//! (`triage reprocess`, `triage rescan`) starts a new run with its own id, so its records sit
//! beside the first run's instead of being swallowed as duplicates of them; redeliveries of
//! that request carry the same id and stay exactly once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The field of an S3-shaped event record that carries [`Announcement`]s: S3 never writes it,
/// so only what is allowed to send to the ingest queue (our own CLI, Batch Operations through
/// the router) can set it.
pub const ANNOUNCEMENT_FIELD: &str = "s3triage";

/// How the router learnt about an object version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// The upload's own S3 event.
    #[default]
    Upload,
    /// `triage backfill`: an object that was there before the pipeline.
    Backfill,
    /// An S3 Batch Operations job over a manifest.
    BatchOperations,
    /// `triage reprocess`: the whole pipeline again.
    Reprocess,
    /// `triage rescan`: the malware check again, under newer signatures.
    Rescan,
}

impl Origin {
    pub const ALL: [Origin; 5] = [
        Origin::Upload,
        Origin::Backfill,
        Origin::BatchOperations,
        Origin::Reprocess,
        Origin::Rescan,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Upload => "upload",
            Origin::Backfill => "backfill",
            Origin::BatchOperations => "batch-operations",
            Origin::Reprocess => "reprocess",
            Origin::Rescan => "rescan",
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The run of a stage on an object version: the first (no id), or a later one named by the
/// request that started it. Ids sort by the time they were made.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "Option<String>", into = "Option<String>")]
pub struct Run(Option<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("run id {0:?} is not one `triage` makes (r<yyyymmddThhmmss>-<8 hex digits>)")]
pub struct RunError(String);

impl Run {
    const PREFIX: char = 'r';
    const TIME_FORMAT: &'static str = "%Y%m%dT%H%M%S";

    pub fn first() -> Self {
        Self(None)
    }

    /// A new run for a request made at `at`, told apart from others made the same second by
    /// a digest of `request` (what the request selected).
    pub fn requested(at: DateTime<Utc>, request: &str) -> Self {
        let digest = Sha256::digest(format!(
            "{}\0{request}",
            at.timestamp_nanos_opt().unwrap_or(0)
        ));
        let suffix: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        Self(Some(format!(
            "{}{}-{suffix}",
            Self::PREFIX,
            at.format(Self::TIME_FORMAT)
        )))
    }

    pub fn parse(id: &str) -> Result<Self, RunError> {
        let invalid = || RunError(id.chars().take(64).collect());
        let rest = id.strip_prefix(Self::PREFIX).ok_or_else(invalid)?;
        let (time, suffix) = rest.split_once('-').ok_or_else(invalid)?;
        let well_formed = chrono::NaiveDateTime::parse_from_str(time, Self::TIME_FORMAT).is_ok()
            && suffix.len() == 8
            && suffix.bytes().all(|b| b.is_ascii_hexdigit());
        if well_formed {
            Ok(Self(Some(id.to_owned())))
        } else {
            Err(invalid())
        }
    }

    pub fn id(&self) -> Option<&str> {
        self.0.as_deref()
    }

    pub fn is_first(&self) -> bool {
        self.0.is_none()
    }
}

impl TryFrom<Option<String>> for Run {
    type Error = RunError;
    fn try_from(id: Option<String>) -> Result<Self, Self::Error> {
        match id {
            None => Ok(Self::first()),
            Some(id) => Self::parse(&id),
        }
    }
}

impl From<Run> for Option<String> {
    fn from(run: Run) -> Self {
        run.0
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id().unwrap_or("first"))
    }
}

/// What an S3-shaped event record we send says beyond what S3 writes: why it was sent and,
/// for a new run, which.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub origin: Origin,
    #[serde(default, skip_serializing_if = "Run::is_first")]
    pub run: Run,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_requested_run_round_trips_and_sorts_by_time() {
        let at = |s: i64| {
            Utc.timestamp_opt(1_800_000_000 + s, 0)
                .single()
                .expect("time")
        };
        let earlier = Run::requested(at(0), "--status FAILED");
        let later = Run::requested(at(1), "--status FAILED");
        assert!(earlier < later);
        assert!(Run::first() < earlier);
        let id = earlier.id().expect("an id");
        assert!(id.starts_with("r20270115T"), "{id}");
        assert_eq!(Run::parse(id), Ok(earlier.clone()));
        let json = serde_json::to_string(&earlier).expect("serialises");
        assert_eq!(serde_json::from_str::<Run>(&json).ok(), Some(earlier));
        assert_eq!(serde_json::from_str::<Run>("null").ok(), Some(Run::first()));
    }

    #[test]
    fn run_ids_other_than_ours_are_refused() {
        for id in [
            "",
            "r1",
            "x20270115T080000-0123abcd",
            "r20271315T080000-0123abcd",
            "r20270115T080000-0123abc#",
            "r20270115T080000-0123abcd#compliance",
        ] {
            assert!(Run::parse(id).is_err(), "{id:?} accepted");
        }
        assert!(
            serde_json::from_str::<Announcement>(r#"{"origin": "reprocess", "run": "r1"}"#)
                .is_err()
        );
    }

    #[test]
    fn an_announcement_without_a_run_is_a_first_run() {
        let announcement: Announcement =
            serde_json::from_str(r#"{"origin": "backfill"}"#).expect("parses");
        assert_eq!(announcement.origin, Origin::Backfill);
        assert!(announcement.run.is_first());
        assert_eq!(
            serde_json::to_string(&announcement).expect("serialises"),
            r#"{"origin":"backfill"}"#
        );
    }
}

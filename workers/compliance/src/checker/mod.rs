//! The checks as the checker Lambdas run them. Each [`Checker`] judges one object from its
//! bytes, fed in order in one pass ([`CheckRun`]), and gives a [`Judgement`]. Adding a checker
//! is adding a module here, its name to [`crate::config::build_checker`], and one entry to
//! terraform's checker map.

pub mod content;
pub mod malware;
pub mod pii;

use audit::Status;
use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// How bad one check's finding is; the verdict over all checks is the worst of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Clean,
    /// The check could not judge the content (too large to hold, a document it cannot open):
    /// not clean, and said so.
    Unsupported,
    /// Someone should look: personal data, a denied or mislabelled type, a check that could
    /// not judge the file.
    Flagged,
    /// A malware signature matched.
    Infected,
}

impl Severity {
    /// What a check's recorded status says about the file: FAILED counts as FLAGGED (nothing
    /// is called clean unchecked); None for a status that is no check outcome.
    pub fn of_recorded(status: Status) -> Option<Self> {
        match status {
            Status::Clean => Some(Severity::Clean),
            Status::Unsupported => Some(Severity::Unsupported),
            Status::Flagged | Status::Failed => Some(Severity::Flagged),
            Status::Infected => Some(Severity::Infected),
            _ => None,
        }
    }
}

/// The audit status a judgement is recorded with.
impl From<Severity> for Status {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Clean => Status::Clean,
            Severity::Unsupported => Status::Unsupported,
            Severity::Flagged => Status::Flagged,
            Severity::Infected => Status::Infected,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Status::from(*self).as_str())
    }
}

/// One check's finding about one object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Judgement {
    pub severity: Severity,
    /// Why it is not clean, in a line a person can act on.
    pub reason: Option<String>,
    /// What the check saw, for the audit record (never the personal data itself).
    pub details: Value,
}

impl Judgement {
    /// Clean unless `problems` names something, then `severity` with those problems as reason.
    pub fn from_problems(severity: Severity, problems: &[String], details: Value) -> Self {
        if problems.is_empty() {
            Self {
                severity: Severity::Clean,
                reason: None,
                details,
            }
        } else {
            Self {
                severity,
                reason: Some(problems.join("; ")),
                details,
            }
        }
    }
}

/// What a check may know about the object besides its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub key: &'a str,
    /// The Content-Type the uploader declared.
    pub declared_type: Option<&'a str>,
    pub size: u64,
}

/// A check could not finish in a way that may pass on retry (a child process that could not
/// start). Anything the bytes themselves cause is a [`Judgement`], not an error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CheckError(pub String);

/// One check of one object in progress.
pub trait CheckRun: Send {
    fn update(&mut self, chunk: &[u8]);
    fn finish(self: Box<Self>) -> Result<Judgement, CheckError>;
}

pub trait Checker: Send + Sync {
    /// The checker's name: its stage is `compliance.<name>`.
    fn name(&self) -> &'static str;
    /// Facts recorded with every judgement (the signature set's version, ...).
    fn provenance(&self) -> Value {
        Value::Null
    }
    fn start<'a>(&'a self, subject: Subject<'_>) -> Box<dyn CheckRun + 'a>;
}

/// Runs every checker over the same bytes in one pass (the large-file task's checks). A check
/// that could not finish is FLAGGED with why: nothing is called clean unchecked.
pub fn judge_all<B: AsRef<[u8]>>(
    checkers: &[Box<dyn Checker>],
    subject: Subject<'_>,
    chunks: impl Iterator<Item = B>,
) -> Vec<(&'static str, Judgement)> {
    let mut runs: Vec<_> = checkers
        .iter()
        .map(|c| (c.name(), c.start(subject)))
        .collect();
    for chunk in chunks {
        for (_, run) in &mut runs {
            run.update(chunk.as_ref());
        }
    }
    runs.into_iter()
        .map(|(name, run)| {
            let judgement = run.finish().unwrap_or_else(|err| Judgement {
                severity: Severity::Flagged,
                reason: Some(format!("the check could not run: {err}")),
                details: Value::Null,
            });
            (name, judgement)
        })
        .collect()
}

/// Runs `checker` over bytes held in memory (tests, examples).
pub fn check_bytes(
    checker: &dyn Checker,
    subject: Subject<'_>,
    bytes: &[u8],
) -> Result<Judgement, CheckError> {
    let mut run = checker.start(subject);
    for chunk in bytes.chunks(64 << 10) {
        run.update(chunk);
    }
    run.finish()
}

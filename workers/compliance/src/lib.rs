//! Compliance: checks as plain functions over bytes, and the checker Lambdas that run them
//! behind the compliance topic (one function per checker, one binary for all).
//!
//! * [`signatures`]: the signature set, parsed from a documented subset of ClamAV's formats.
//! * [`scan`]: one streaming pass: byte patterns (every match, overlapping ones included),
//!   whole-file MD5 / SHA-256 blocklists, and the EICAR test file per its specification.
//! * [`content`]: the real type against the key's extension and the declared type, a deny list,
//!   zip archives judged from their central directory.
//! * [`pii`]: personal data and secrets in text, counted by kind with byte offsets, never the
//!   values (the audit trail must not become a PII store).
//! * [`checker`]: each check as the Lambdas run it, one streaming pass giving a judgement.
//! * [`verdict`]: which checks a file needs and the verdict once all have recorded.
//! * [`tags`]: the verdict as object tags, in the vocabulary of the tool a team swaps us for.
//! * [`quarantine`]: what a verdict does to the object (tags; copy or move when INFECTED).
//! * [`handler`], [`signature_store`], [`config`]: the Lambda around them.

pub mod checker;
pub mod config;
pub mod content;
pub mod handler;
pub mod pii;
pub mod quarantine;
pub mod scan;
pub mod signature_store;
pub mod signatures;
pub mod tags;
pub mod verdict;

//! Compliance checks as plain functions over bytes, shared by the checker Lambdas and the
//! large-file task (which streams objects too large for a Lambda through the same scanner).
//!
//! * [`signatures`]: the signature set, parsed from a documented subset of ClamAV's formats.
//! * [`scan`]: one streaming pass: byte patterns (every match, overlapping ones included),
//!   whole-file MD5 / SHA-256 blocklists, and the EICAR test file per its specification.
//! * [`content`]: the real type against the key's extension and the declared type, a deny list,
//!   zip archives judged from their central directory.
//! * [`pii`]: personal data and secrets in text, counted by kind with byte offsets, never the
//!   values (the audit trail must not become a PII store).

pub mod content;
pub mod pii;
pub mod scan;
pub mod signatures;

//! The S3 object model every part of s3-triage shares.
//!
//! * [`normalise`] turns an S3 event in any envelope AWS delivers it in (direct, SQS body,
//!   SNS message, SNS inside SQS) into one [`RecordOutcome`] per record, with the key decoded once
//!   into an [`ObjectKey`].
//! * [`S3Object`] is one created object version; [`ObjectRef`] is the part of it that identifies
//!   the version (what the audit trail is keyed on).
//! * [`Dispatch`] is the message the router sends to a tier.
//! * [`Run`] and [`Origin`]: which pass over a version a record belongs to, and who asked.

mod dispatch;
mod key;
mod normalise;
mod object;
pub mod run;
pub mod size;

pub use dispatch::{ContentKind, CorrelationId, Dispatch, Tier};
pub use key::{KeyError, ObjectKey, MAX_KEY_BYTES};
pub use normalise::{normalise, normalise_json, EnvelopeError, InvalidRecord, RecordOutcome};
pub use object::{ObjectRef, S3Object, VersionError};
pub use run::{Origin, Run};

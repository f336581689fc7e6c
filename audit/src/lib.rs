//! The audit trail: what happened to each object, recorded exactly once.
//!
//! Every stage (router, thumbnail, extractor, each compliance checker, the large-file task)
//! hands [`Recorder`] an [`AuditRecord`]. The recorder writes one DynamoDB item per
//! (object version, stage), conditionally, and has its [`Notifier`] announce it only when that
//! write was new, so duplicate deliveries of the same event neither add records nor notify
//! twice. [`table`] is the item layout and the queries it serves; [`AuditTrail`] reads it back;
//! [`sweep`] ends the records whose deliveries died with no retry left.

mod error;
pub mod fit;
mod notifier;
mod query;
mod record;
mod recorder;
pub mod settings;
pub mod sweep;
pub mod table;

pub use error::RecordError;
pub use notifier::{Notifier, NotifyError, Origin};
pub use query::{AuditEntry, AuditTrail, QueryError};
pub use record::{AuditRecord, Status, VERDICT_STAGE};
pub use recorder::{Claim, Recorded, Recorder};
pub use settings::RecorderSettings;

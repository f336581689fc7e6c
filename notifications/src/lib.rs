//! Recording what happened to each object, exactly once.
//!
//! Every stage (router, thumbnail, extractor, each compliance checker, the large-file task)
//! calls [`Recorder`] with an [`AuditRecord`]. The recorder writes one DynamoDB item per
//! (object version, stage), conditionally, and publishes one SNS notification only when that
//! write was new, so duplicate deliveries of the same event neither add records nor notify twice.
//! See [`table`] for the item layout and the queries it serves.

pub mod config;
mod error;
mod logging;
pub mod metrics;
mod query;
mod record;
mod recorder;
pub mod table;

pub use error::{is_transient, RecordError};
pub use logging::init_json_logs;
pub use query::{AuditEntry, AuditTrail, QueryError};
pub use record::{AuditRecord, Status};
pub use recorder::{Claim, Recorded, Recorder, RecorderSettings};

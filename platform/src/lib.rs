//! What every s3-triage binary runs on, whatever it does: [`config`] (typed settings from the
//! environment, errors naming the variable), [`logging`] (JSON lines with the span's fields),
//! [`metrics`] (CloudWatch Embedded Metric Format lines) and [`aws_error`] (whether an AWS
//! SDK error may pass on retry, which decides retry versus DLQ everywhere).

pub mod aws_error;
pub mod config;
pub mod logging;
pub mod metrics;

pub use aws_error::is_transient;
pub use logging::init_json_logs;

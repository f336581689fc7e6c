//! The large-file tier: a Fargate task that reads one object of up to 5 GiB once, as a
//! stream, and records what it is (size, verified SHA-256, real content type, per-part
//! checksums) in memory that does not grow with the object.
//!
//! * [`source`]: where bytes come from (S3 ranged GETs, or a local file for benchmarks).
//! * [`stream`]: concurrent ranged reads reassembled in order, with back-pressure and retries.
//! * [`digest`]: the hashing threads the stream feeds, and what their results are checked against.
//! * [`task`]: one dispatch from the router -> progress, manifest, one audit record.

pub mod config;
pub mod digest;
pub mod manifest;
pub mod queue;
pub mod source;
pub mod stream;
pub mod task;

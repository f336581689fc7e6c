//! The document extractor: an SQS-batched Lambda. [`pdf`] and [`text`] turn documents into
//! text and metadata (pure, no AWS); [`isolate`] runs each PDF parse in a child process so a
//! hostile document costs only itself; [`handler`] reads, extracts, writes the outputs and
//! records each document once, with a partial batch response.

pub mod config;
pub mod handler;
pub mod isolate;
pub mod pdf;
pub mod text;

//! The document extractor's logic: text and metadata from PDFs ([`pdf`]), pure and free of
//! AWS, and [`isolate`], which runs each parse in a child process so a hostile document costs
//! only itself. The Lambda and its SQS batching come with the rest of the extractor issue.

pub mod isolate;
pub mod pdf;

//! The document extractor's logic: text and metadata from PDFs ([`pdf`]), pure and free of
//! AWS. The Lambda, its SQS batching and the per-document child-process isolation come with
//! the rest of the extractor issue.

pub mod pdf;

//! The document extractor: an SQS-batched Lambda. [`pdf`], [`office`] (DOCX, XLSX, PPTX, ODT,
//! ODS, ODP, EPUB), [`html`], [`rtf`], [`mail`] (EML) and [`text`] turn documents into text and
//! metadata (pure, no AWS); [`document`] picks the parser by the bytes; [`isolate`] runs each
//! parse in a child process so a hostile document costs only itself; [`handler`] reads,
//! extracts, writes the outputs and records each document once, with a partial batch response.

pub mod config;
pub mod document;
pub mod handler;
pub mod html;
pub mod isolate;
pub mod mail;
pub mod office;
pub mod pdf;
pub mod rtf;
pub mod text;

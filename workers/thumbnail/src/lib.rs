//! The thumbnail worker: an async-invoke target of the router. [`render`] turns image bytes
//! into thumbnails (pure, no AWS), [`svg`] draws vector images for it and [`avif`] decodes AVIF
//! photos; [`handler`] fetches the object, renders, stores the thumbnails under the reserved
//! prefix and records the outcome exactly once.

pub mod avif;
pub mod config;
pub mod decode;
pub mod handler;
pub mod libjpeg;
pub mod render;
pub mod svg;

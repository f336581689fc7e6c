//! The thumbnail worker's configuration, read from the environment once at start-up.

use crate::libjpeg::FailOn;
use crate::render::{OutputFormat, RenderSettings};
use audit::RecorderSettings;
use platform::config::{ConfigError, Env};
use std::time::Duration;
use worker_common::outputs::Outputs;

pub const SIZES: &str = "TRIAGE_THUMBNAIL_SIZES";
pub const FORMAT: &str = "TRIAGE_THUMBNAIL_FORMAT";
pub const QUALITY: &str = "TRIAGE_THUMBNAIL_QUALITY";
pub const BACKGROUND: &str = "TRIAGE_THUMBNAIL_BACKGROUND";
pub const MAX_PIXELS: &str = "TRIAGE_THUMBNAIL_MAX_PIXELS";
pub const MAX_BYTES: &str = "TRIAGE_THUMBNAIL_MAX_BYTES";
/// Which damage fails an image: `warning` (any), `truncated`, `none` (as sharp's `failOn`).
pub const FAIL_ON: &str = "TRIAGE_THUMBNAIL_FAIL_ON";
/// The most one image may take, decode to last encode.
pub const TIMEOUT_SECONDS: &str = "TRIAGE_THUMBNAIL_TIMEOUT_SECONDS";

#[derive(Clone, Debug)]
pub struct ThumbnailConfig {
    pub recorder: RecorderSettings,
    pub render: RenderSettings,
    /// Outputs go to `<reserved prefix>thumbnails/`.
    pub outputs: Outputs,
    /// Objects larger than this are refused without being read.
    pub max_bytes: u64,
}

impl ThumbnailConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let defaults = RenderSettings::default();
        let sizes = match env.optional(SIZES) {
            None => defaults.sizes,
            Some(text) => parse_sizes(&text).map_err(|reason| env.invalid(SIZES, reason))?,
        };
        let format = match env.optional(FORMAT) {
            None => defaults.format,
            Some(text) => OutputFormat::parse(&text)
                .ok_or_else(|| env.invalid(FORMAT, "expected jpeg, png or webp"))?,
        };
        let quality: u8 = env.parsed_or(QUALITY, defaults.quality)?;
        if !(1..=100).contains(&quality) {
            return Err(env.invalid(QUALITY, "expected a JPEG quality from 1 to 100"));
        }
        let background = match env.optional(BACKGROUND) {
            None => defaults.background,
            Some(text) => parse_colour(&text)
                .ok_or_else(|| env.invalid(BACKGROUND, "expected a hex colour such as #ffffff"))?,
        };
        let fail_on = match env.optional(FAIL_ON) {
            None => defaults.fail_on,
            Some(text) => FailOn::parse(&text)
                .ok_or_else(|| env.invalid(FAIL_ON, "expected warning, truncated or none"))?,
        };
        let timeout: u64 = env.parsed_or(TIMEOUT_SECONDS, defaults.timeout.as_secs())?;
        if timeout == 0 {
            return Err(env.invalid(TIMEOUT_SECONDS, "expected at least 1 second"));
        }
        Ok(Self {
            recorder: RecorderSettings::from_env(env, crate::handler::STAGE)?,
            render: RenderSettings {
                sizes,
                format,
                quality,
                background,
                max_pixels: env.parsed_or(MAX_PIXELS, defaults.max_pixels)?,
                fail_on,
                timeout: Duration::from_secs(timeout),
                ..defaults
            },
            outputs: Outputs::from_env(env)?,
            max_bytes: env.parsed_or(MAX_BYTES, 50 << 20)?,
        })
    }
}

/// "256" or "512,256,64": longest edges in pixels, each 1-4096.
fn parse_sizes(text: &str) -> Result<Vec<u32>, String> {
    let sizes = text
        .split(',')
        .map(|size| match size.trim().parse::<u32>() {
            Ok(size @ 1..=4096) => Ok(size),
            _ => Err(format!("{size:?} is not a size from 1 to 4096 pixels")),
        })
        .collect::<Result<Vec<u32>, String>>()?;
    if sizes.is_empty() {
        return Err("expected at least one size".into());
    }
    Ok(sizes)
}

fn parse_colour(text: &str) -> Option<[u8; 3]> {
    let hex = text.trim().trim_start_matches('#');
    if hex.len() != 6 || !hex.is_ascii() {
        return None;
    }
    let channel = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).ok();
    Some([channel(0)?, channel(2)?, channel(4)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::config::env_of;
    use testkit::AUDIT_PLACEHOLDERS;

    fn read(pairs: &[(&str, &str)]) -> Result<ThumbnailConfig, ConfigError> {
        ThumbnailConfig::from_env(&env_of(&[&AUDIT_PLACEHOLDERS[..], pairs].concat()))
    }

    #[test]
    fn defaults_are_one_256_px_jpeg_at_quality_80() {
        let config = read(&[]).expect("valid");
        assert_eq!(config.render, RenderSettings::default());
        assert_eq!(config.outputs, Outputs::in_place("processed/"));
        assert_eq!(config.recorder.worker, "thumbnail");
    }

    #[test]
    fn every_setting_is_read_and_bad_values_name_their_variable() {
        let config = read(&[
            (SIZES, "512, 128"),
            (FORMAT, "PNG"),
            (QUALITY, "90"),
            (BACKGROUND, "#FF8000"),
            (MAX_PIXELS, "1000"),
            (FAIL_ON, "None"),
            (TIMEOUT_SECONDS, "5"),
        ])
        .expect("valid");
        assert_eq!(config.render.sizes, [512, 128]);
        assert_eq!(config.render.format, OutputFormat::Png);
        assert_eq!(config.render.quality, 90);
        assert_eq!(config.render.background, [255, 128, 0]);
        assert_eq!(config.render.max_pixels, 1000);
        assert_eq!(config.render.fail_on, FailOn::None);
        assert_eq!(config.render.timeout, Duration::from_secs(5));
        for (name, value) in [
            (SIZES, "0"),
            (SIZES, "big"),
            (FORMAT, "tiff"),
            (QUALITY, "0"),
            (BACKGROUND, "white"),
            (FAIL_ON, "error"),
            (TIMEOUT_SECONDS, "0"),
        ] {
            let err = read(&[(name, value)]).expect_err(value);
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}

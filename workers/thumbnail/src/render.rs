//! Thumbnails from image bytes: decode once, resize to every configured size, encode. Pure:
//! no AWS, no I/O, so it runs the same in the Lambda, the tests and the benchmark.

use crate::decode::{decode, past_deadline, DecodeError};
use crate::libjpeg::{Damage, FailOn, Watch};
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageEncoder, Rgb, RgbImage, Rgba};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jpeg,
    Png,
    /// Lossless: the pure-Rust encoder has no lossy mode.
    WebP,
}

impl OutputFormat {
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "jpeg" | "jpg" => Some(Self::Jpeg),
            "png" => Some(Self::Png),
            "webp" => Some(Self::WebP),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::WebP => "webp",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RenderSettings {
    /// Longest edge of each thumbnail, in pixels. Smaller images are not enlarged.
    pub sizes: Vec<u32>,
    pub format: OutputFormat,
    /// JPEG quality, 1-100.
    pub quality: u8,
    /// What transparent pixels become in a format without alpha (JPEG).
    pub background: [u8; 3],
    /// Images with more pixels than this are refused before decoding.
    pub max_pixels: u64,
    /// Which damage the decoder recovers from fails the image.
    pub fail_on: FailOn,
    /// The most one image may take, decode to last encode.
    pub timeout: Duration,
    /// Most scans a progressive JPEG may have.
    pub max_scans: u32,
}

impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            sizes: vec![256],
            format: OutputFormat::Jpeg,
            quality: 80,
            background: [255, 255, 255],
            max_pixels: 100_000_000,
            fail_on: FailOn::Warning,
            timeout: Duration::from_secs(20),
            max_scans: 100,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// The configured size (longest edge) this thumbnail answers.
    pub size: u32,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timings {
    pub decode: Duration,
    pub resize: Duration,
    pub encode: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The format found in the bytes, e.g. "JPEG".
    pub detected_format: String,
    pub content_type: &'static str,
    /// Full-size dimensions, upright.
    pub source_width: u32,
    pub source_height: u32,
    /// One per configured size, in the configured order.
    pub thumbnails: Vec<Thumbnail>,
    pub timings: Timings,
    /// Damage the decoder painted over (only when the fail-on policy lets it pass).
    pub damage: Option<Damage>,
    /// How the image was made, when the record should say (an SVG's drawn size).
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("resizing failed: {0}")]
    Resize(String),
    #[error("encoding the {format} thumbnail failed: {detail}")]
    Encode {
        format: &'static str,
        detail: String,
    },
}

/// Renders every configured size, or fails once `settings.timeout` has passed (checked inside
/// the JPEG decoder at every scan, and between the steps).
pub fn render(bytes: &[u8], settings: &RenderSettings) -> Result<Rendered, RenderError> {
    let largest = settings.sizes.iter().copied().max().unwrap_or(256);
    let started = Instant::now();
    let deadline = started + settings.timeout;
    let watch = Watch {
        fail_on: settings.fail_on,
        deadline,
        max_scans: settings.max_scans,
    };
    let decoded = decode(bytes, largest, settings.max_pixels, watch)?;
    let damage = decoded.damage.clone();
    let notes = decoded.notes.clone();
    let mut timings = Timings {
        decode: started.elapsed(),
        ..Timings::default()
    };
    // Resizers work on 8-bit samples; alpha is kept until the encoder decides its fate.
    let source = if decoded.image.color().has_alpha() {
        DynamicImage::ImageRgba8(decoded.image.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(decoded.image.into_rgb8())
    };
    let mut resizer = Resizer::new();
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    let mut thumbnails = Vec::with_capacity(settings.sizes.len());
    for &size in &settings.sizes {
        past_deadline(deadline)?;
        let resize_started = Instant::now();
        // From the full-size dimensions, so a scaled decode rounds as a full one would.
        let (width, height) = fit(decoded.source_width, decoded.source_height, size);
        let mut resized = DynamicImage::new(width, height, source.color());
        resizer
            .resize(&source, &mut resized, &options)
            .map_err(|err| RenderError::Resize(err.to_string()))?;
        let encode_started = Instant::now();
        timings.resize += encode_started - resize_started;
        let bytes = encode(resized, settings)?;
        timings.encode += encode_started.elapsed();
        thumbnails.push(Thumbnail {
            size,
            width,
            height,
            bytes,
        });
    }
    Ok(Rendered {
        detected_format: decoded.format.name(),
        content_type: decoded.format.content_type(),
        source_width: decoded.source_width,
        source_height: decoded.source_height,
        thumbnails,
        timings,
        damage,
        notes,
    })
}

/// Dimensions with the longest edge at most `size`, aspect kept, never enlarged, never 0.
pub fn fit(width: u32, height: u32, size: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= size {
        return (width.max(1), height.max(1));
    }
    let scale = |edge: u32| {
        let scaled =
            (u64::from(edge) * u64::from(size) + u64::from(longest) / 2) / u64::from(longest);
        u32::try_from(scaled).unwrap_or(size).max(1)
    };
    (scale(width), scale(height))
}

fn encode(image: DynamicImage, settings: &RenderSettings) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::new();
    let (width, height) = (image.width(), image.height());
    let failed = |format: &'static str| {
        move |err: image::ImageError| RenderError::Encode {
            format,
            detail: err.to_string(),
        }
    };
    match settings.format {
        OutputFormat::Jpeg => {
            let rgb = flatten(image, settings.background);
            JpegEncoder::new_with_quality(&mut out, settings.quality.clamp(1, 100))
                .write_image(rgb.as_raw(), width, height, image::ExtendedColorType::Rgb8)
                .map_err(failed("JPEG"))?;
        }
        OutputFormat::Png => image
            .write_with_encoder(PngEncoder::new(&mut out))
            .map_err(failed("PNG"))?,
        OutputFormat::WebP => image
            .write_with_encoder(WebPEncoder::new_lossless(&mut out))
            .map_err(failed("WebP"))?,
    }
    Ok(out)
}

/// Composites transparent pixels over `background`.
fn flatten(image: DynamicImage, background: [u8; 3]) -> RgbImage {
    let DynamicImage::ImageRgba8(rgba) = image else {
        return image.into_rgb8();
    };
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (out, Rgba([r, g, b, a])) in rgb.pixels_mut().zip(rgba.pixels()) {
        let blend = |fg: u8, bg: u8| {
            let alpha = u16::from(*a);
            ((u16::from(fg) * alpha + u16::from(bg) * (255 - alpha) + 127) / 255) as u8
        };
        *out = Rgb([
            blend(*r, background[0]),
            blend(*g, background[1]),
            blend(*b, background[2]),
        ]);
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_aspect_and_never_enlarges() {
        assert_eq!(fit(4032, 3024, 256), (256, 192));
        assert_eq!(fit(3024, 4032, 256), (192, 256));
        assert_eq!(fit(100, 50, 256), (100, 50));
        assert_eq!(fit(1, 20000, 256), (1, 256));
        assert_eq!(fit(20000, 1, 64), (64, 1));
    }

    #[test]
    fn transparent_pixels_take_the_background() {
        let mut rgba = image::RgbaImage::new(2, 1);
        rgba.put_pixel(0, 0, Rgba([0, 0, 0, 0]));
        rgba.put_pixel(1, 0, Rgba([0, 0, 0, 255]));
        let rgb = flatten(DynamicImage::ImageRgba8(rgba), [255, 0, 0]);
        assert_eq!(rgb.get_pixel(0, 0), &Rgb([255, 0, 0]));
        assert_eq!(rgb.get_pixel(1, 0), &Rgb([0, 0, 0]));
    }
}

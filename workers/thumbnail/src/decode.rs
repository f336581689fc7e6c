//! From untrusted bytes to upright pixels, never larger than needed and never over budget.
//!
//! The format comes from the magic bytes, not the key. Dimensions are read from the header and
//! checked against the pixel budget before any pixel is decoded, on every path: `image::Limits`
//! alone is not enforced by every decoder entry point. Baseline and progressive JPEGs are
//! decoded by libjpeg at 1/2, 1/4 or 1/8 scale (DCT scaling, as libvips shrinks on load), so a
//! 12 MP photo never becomes 36 MB of pixels to make a 256 px thumbnail. libjpeg's warnings
//! are heard (see [`crate::libjpeg`]): damage it recovers from fails the decode or is noted,
//! as the fail-on policy says, and its scans stop at the decode's deadline.

use crate::libjpeg::{error_manager, watched, Damage, Stop, Watch};
use crate::{avif, svg};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbImage};
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

/// The formats we make thumbnails of: TIFF from its first page (8 or 16 bits, RGB, grey,
/// palette or CMYK), ICO from its largest entry.
pub const SUPPORTED: [ImageFormat; 7] = [
    ImageFormat::Jpeg,
    ImageFormat::Png,
    ImageFormat::WebP,
    ImageFormat::Gif,
    ImageFormat::Tiff,
    ImageFormat::Bmp,
    ImageFormat::Ico,
];

/// Why an image cannot be decoded. All of these are permanent: retrying changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty object (0 bytes)")]
    Empty,
    #[error("unsupported format {detected}")]
    Unsupported { detected: String },
    #[error(
        "image too large: {width}x{height} is {} MP, over the budget of {} MP",
        megapixels(*width, *height),
        *budget as f64 / 1e6
    )]
    OverBudget {
        width: u32,
        height: u32,
        budget: u64,
    },
    #[error("decoding this {format} needs more than the {limit_mib} MiB decode memory limit")]
    OverMemory { format: String, limit_mib: u64 },
    #[error("corrupt or truncated {format}: {detail}")]
    Corrupt { format: String, detail: String },
    /// Damage the decoder could have painted over, failed by the fail-on policy.
    #[error("{} {format}: {}", if damage.truncated { "truncated" } else { "damaged" }, damage.message)]
    Damaged { format: String, damage: Damage },
    #[error("deadline: decoding did not finish in the time it had (TRIAGE_THUMBNAIL_DECODE_TIMEOUT_SECONDS, or what was left of the invocation)")]
    Deadline,
}

fn megapixels(width: u32, height: u32) -> f64 {
    (f64::from(width) * f64::from(height) / 1e5).round() / 10.0
}

/// What an upload is, by its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Raster(ImageFormat),
    Avif,
    Svg,
}

impl SourceFormat {
    /// `JPEG`, `PNG`, `SVG`, ...
    pub fn name(self) -> String {
        match self {
            SourceFormat::Raster(format) => format_name(format),
            SourceFormat::Avif => "AVIF".into(),
            SourceFormat::Svg => "SVG".into(),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            SourceFormat::Raster(format) => format.to_mime_type(),
            SourceFormat::Avif => "image/avif",
            SourceFormat::Svg => "image/svg+xml",
        }
    }
}

/// What [`decode`] produced.
#[derive(Debug)]
pub struct Decoded {
    pub format: SourceFormat,
    /// The source's full-size dimensions, upright (EXIF orientation applied).
    pub source_width: u32,
    pub source_height: u32,
    /// Upright pixels: EXIF orientation applied. Smaller than the source when the decoder
    /// could scale on load.
    pub image: DynamicImage,
    /// Damage the decoder recovered from, when the fail-on policy let it.
    pub damage: Option<Damage>,
    /// What the record should say about how the image was made (an SVG's drawn size, text
    /// left out).
    pub notes: Vec<String>,
}

/// The image's real format, by magic bytes (or, for SVG, its first element).
pub fn sniff(bytes: &[u8]) -> Result<SourceFormat, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if svg::is_svg(bytes) {
        return Ok(SourceFormat::Svg);
    }
    if avif::is_avif(bytes) {
        return Ok(SourceFormat::Avif);
    }
    if avif::is_heic(bytes) {
        return Err(DecodeError::Unsupported {
            detected: "HEIC (HEIF with HEVC images): no HEVC decoder ships with this function (see docs/formats.md)".into(),
        });
    }
    match image::guess_format(bytes) {
        Ok(format) if SUPPORTED.contains(&format) => Ok(SourceFormat::Raster(format)),
        Ok(format) => Err(DecodeError::Unsupported {
            detected: format_name(format),
        }),
        Err(_) => Err(DecodeError::Unsupported {
            detected: "unknown (no image signature)".into(),
        }),
    }
}

pub fn format_name(format: ImageFormat) -> String {
    format!("{format:?}").to_uppercase()
}

/// Decodes `bytes` with its longest upright edge at least `min_edge` where the decoder can
/// scale on load, refuses images over `max_pixels`, and stops at `watch`'s deadline (inside
/// libjpeg at each scan; the other decoders' work is bounded by the pixel budget, so they are
/// judged when they return).
pub fn decode(
    bytes: &[u8],
    min_edge: u32,
    max_pixels: u64,
    watch: Watch,
) -> Result<Decoded, DecodeError> {
    let format = match sniff(bytes)? {
        SourceFormat::Svg => return decode_svg(bytes, min_edge, max_pixels),
        SourceFormat::Avif => {
            // A parser's assertion on a malformed box must not take the function down.
            let image = catch_unwind(|| avif::decode(bytes, max_pixels))
                .map_err(|panic| corrupt(ImageFormat::Avif, panic_message(&panic)))??;
            past_deadline(watch.deadline)?;
            return Ok(Decoded {
                format: SourceFormat::Avif,
                source_width: image.width(),
                source_height: image.height(),
                image,
                damage: None,
                notes: Vec::new(),
            });
        }
        SourceFormat::Raster(format) => format,
    };
    if format == ImageFormat::Jpeg {
        if let Some(decoded) = decode_scaled_jpeg(bytes, min_edge, max_pixels, watch)? {
            return Ok(decoded);
        }
    }
    let decoded = match ico_png_entry(bytes).filter(|_| format == ImageFormat::Ico) {
        Some(png) => Decoded {
            format: SourceFormat::Raster(ImageFormat::Ico),
            ..decode_full(png, ImageFormat::Png, max_pixels)?
        },
        None => decode_full(bytes, format, max_pixels)?,
    };
    past_deadline(watch.deadline)?;
    Ok(decoded)
}

/// The largest entry of an ICO when it is a PNG. `image`'s ICO decoder refuses PNG entries
/// that are not RGBA, which browsers show and encoders (`image`'s own among them) write; the
/// PNG decoder reads them whatever their colour type.
fn ico_png_entry(bytes: &[u8]) -> Option<&[u8]> {
    let u16_at = |at: usize| Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    if u16_at(0)? != 0 || u16_at(2)? != 1 {
        return None;
    }
    // A directory entry: width and height (0 means 256), ..., data size at 8, offset at 12.
    let side = |byte: u8| if byte == 0 { 256 } else { u32::from(byte) };
    let largest = (0..usize::from(u16_at(4)?))
        .map(|n| 6 + 16 * n)
        .filter_map(|entry| {
            let pixels = side(*bytes.get(entry)?) * side(*bytes.get(entry + 1)?);
            Some((pixels, u32_at(entry + 8)?, u32_at(entry + 12)?))
        })
        .max_by_key(|(pixels, _, _)| *pixels)?;
    let (_, size, offset) = largest;
    let start = usize::try_from(offset).ok()?;
    let data = bytes.get(start..start.checked_add(usize::try_from(size).ok()?)?)?;
    data.starts_with(b"\x89PNG\r\n\x1a\n").then_some(data)
}

/// `Err(Deadline)` once `deadline` has passed.
pub fn past_deadline(deadline: Instant) -> Result<(), DecodeError> {
    if Instant::now() >= deadline {
        return Err(DecodeError::Deadline);
    }
    Ok(())
}

/// The most a decode of an image within `max_pixels` may allocate: 8-bit RGBA at the full
/// pixel budget plus the decoders' own buffers, which is what the Lambda's memory is sized for
/// (a 16-bit image that large is refused rather than run out of memory).
pub fn decode_memory(max_pixels: u64) -> u64 {
    max_pixels.saturating_mul(4).saturating_add(64 << 20)
}

pub(crate) fn check_budget(width: u32, height: u32, budget: u64) -> Result<(), DecodeError> {
    if u64::from(width) * u64::from(height) > budget {
        return Err(DecodeError::OverBudget {
            width,
            height,
            budget,
        });
    }
    Ok(())
}

pub(crate) fn corrupt(format: ImageFormat, detail: impl ToString) -> DecodeError {
    DecodeError::Corrupt {
        format: format_name(format),
        detail: detail.to_string(),
    }
}

/// The `image` crate's decoders: PNG (8/16-bit, palette, alpha), WebP, GIF (first frame),
/// TIFF (first page), BMP, ICO (the entry with the most pixels), and the JPEGs libjpeg should
/// not scale (CMYK, YCCK).
fn decode_full(bytes: &[u8], format: ImageFormat, max_pixels: u64) -> Result<Decoded, DecodeError> {
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), format)
        .into_decoder()
        .map_err(|err| corrupt(format, err))?;
    let (width, height) = decoder.dimensions();
    check_budget(width, height, max_pixels)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    let max_alloc = decode_memory(max_pixels);
    limits.max_alloc = Some(max_alloc);
    let over_memory = || DecodeError::OverMemory {
        format: format_name(format),
        limit_mib: max_alloc >> 20,
    };
    let failed = |err: ImageError| match err {
        ImageError::Limits(_) => over_memory(),
        other => corrupt(format, other),
    };
    decoder.set_limits(limits).map_err(failed)?;
    // `from_decoder` allocates the whole image without asking the limits: ask them here.
    if decoder.total_bytes() > max_alloc {
        return Err(over_memory());
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = catch_unwind(AssertUnwindSafe(|| DynamicImage::from_decoder(decoder)))
        .map_err(|panic| corrupt(format, panic_message(&panic)))?
        .map_err(failed)?;
    image.apply_orientation(orientation);
    let (source_width, source_height) = upright(width, height, orientation);
    Ok(Decoded {
        format: SourceFormat::Raster(format),
        source_width,
        source_height,
        image,
        damage: None,
        notes: Vec::new(),
    })
}

/// A vector drawing has no size of its own to shrink from: it is drawn at the largest
/// thumbnail's size, which is then its source size.
fn decode_svg(bytes: &[u8], longest_edge: u32, max_pixels: u64) -> Result<Decoded, DecodeError> {
    let drawn = svg::draw(bytes, longest_edge, max_pixels)?;
    let (width, height) = (drawn.pixels.width(), drawn.pixels.height());
    let straight: Vec<u8> = drawn
        .pixels
        .pixels()
        .iter()
        .flat_map(|pixel| {
            let pixel = pixel.demultiply();
            [pixel.red(), pixel.green(), pixel.blue(), pixel.alpha()]
        })
        .collect();
    let image = image::RgbaImage::from_raw(width, height, straight)
        .ok_or_else(|| corrupt_svg("the raster does not match its size"))?;
    let mut notes = vec![format!(
        "drawn at {width}x{height} from a {}x{} drawing",
        drawn.width, drawn.height
    )];
    if drawn.text_elements > 0 {
        notes.push(format!(
            "{} text elements not drawn (no fonts)",
            drawn.text_elements
        ));
    }
    Ok(Decoded {
        format: SourceFormat::Svg,
        source_width: width,
        source_height: height,
        image: DynamicImage::ImageRgba8(image),
        damage: None,
        notes,
    })
}

fn corrupt_svg(detail: &str) -> DecodeError {
    DecodeError::Corrupt {
        format: "SVG".into(),
        detail: detail.into(),
    }
}

/// libjpeg with DCT scaling. `Ok(None)` for JPEGs it should leave to the full decoder.
fn decode_scaled_jpeg(
    bytes: &[u8],
    min_edge: u32,
    max_pixels: u64,
    watch: Watch,
) -> Result<Option<Decoded>, DecodeError> {
    let jpeg = |detail: String| corrupt(ImageFormat::Jpeg, detail);
    // libjpeg reports fatal errors, and the watch its stops, by unwinding out of its handlers.
    let decoded = watched(watch, || -> Result<Option<Decoded>, DecodeError> {
        let mut decompress = mozjpeg::Decompress::builder()
            .with_err(error_manager())
            .with_markers(&[mozjpeg::Marker::APP(1)])
            .from_mem(bytes)
            .map_err(|err| jpeg(err.to_string()))?;
        let (width, height) = (
            u32::try_from(decompress.width()).unwrap_or(u32::MAX),
            u32::try_from(decompress.height()).unwrap_or(u32::MAX),
        );
        check_budget(width, height, max_pixels)?;
        if matches!(
            decompress.color_space(),
            mozjpeg::ColorSpace::JCS_CMYK | mozjpeg::ColorSpace::JCS_YCCK
        ) {
            return Ok(None);
        }
        let orientation = decompress
            .markers()
            .find_map(|marker| marker.data.strip_prefix(b"Exif\0\0"))
            .and_then(Orientation::from_exif_chunk)
            .unwrap_or(Orientation::NoTransforms);
        decompress.scale(scale_numerator(width.max(height), min_edge));
        let mut started = decompress.rgb().map_err(|err| jpeg(err.to_string()))?;
        let (out_width, out_height) = (started.width(), started.height());
        let pixels: Vec<u8> = started
            .read_scanlines()
            .map_err(|err| jpeg(err.to_string()))?;
        let rgb = RgbImage::from_raw(
            u32::try_from(out_width).unwrap_or(u32::MAX),
            u32::try_from(out_height).unwrap_or(u32::MAX),
            pixels,
        )
        .ok_or_else(|| jpeg("fewer scanlines than the header promised".into()))?;
        let mut image = DynamicImage::ImageRgb8(rgb);
        image.apply_orientation(orientation);
        let (source_width, source_height) = upright(width, height, orientation);
        Ok(Some(Decoded {
            format: SourceFormat::Raster(ImageFormat::Jpeg),
            source_width,
            source_height,
            image,
            damage: None,
            notes: Vec::new(),
        }))
    });
    match decoded {
        Ok((decoded, damage)) => Ok(decoded?.map(|decoded| Decoded { damage, ..decoded })),
        Err(Stop::Fatal(message)) => Err(jpeg(message)),
        Err(Stop::Damaged(damage)) => Err(DecodeError::Damaged {
            format: format_name(ImageFormat::Jpeg),
            damage,
        }),
        Err(Stop::Deadline) => Err(DecodeError::Deadline),
        Err(Stop::TooManyScans(max)) => Err(jpeg(format!(
            "more than {max} scans (a progressive JPEG built to take forever)"
        ))),
    }
}

fn upright(width: u32, height: u32, orientation: Orientation) -> (u32, u32) {
    match orientation {
        Orientation::Rotate90
        | Orientation::Rotate270
        | Orientation::Rotate90FlipH
        | Orientation::Rotate270FlipH => (height, width),
        _ => (width, height),
    }
}

/// The smallest libjpeg scale (n/8, n in 1, 2, 4, 8: its fast IDCT paths) that keeps the
/// longest edge at or above `min_edge`.
fn scale_numerator(longest_edge: u32, min_edge: u32) -> u8 {
    [1u8, 2, 4]
        .into_iter()
        .find(|&n| u64::from(longest_edge) * u64::from(n) >= u64::from(min_edge) * 8)
        .unwrap_or(8)
}

pub(crate) fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "the decoder panicked".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_keeps_the_longest_edge_at_or_above_the_target() {
        assert_eq!(scale_numerator(4032, 256), 1); // 504 px
        assert_eq!(scale_numerator(1800, 256), 2); // 225 at 1/8 is too small; 450
        assert_eq!(scale_numerator(1024, 256), 2); // 128 is too small; 256
        assert_eq!(scale_numerator(300, 256), 8);
        assert_eq!(scale_numerator(u32::MAX, u32::MAX), 8);
    }

    #[test]
    fn the_format_comes_from_magic_bytes() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n...."),
            Ok(SourceFormat::Raster(ImageFormat::Png))
        );
        assert_eq!(
            sniff(b"GIF89a......"),
            Ok(SourceFormat::Raster(ImageFormat::Gif))
        );
        assert_eq!(sniff(b"<svg/>"), Ok(SourceFormat::Svg));
        assert_eq!(sniff(b""), Err(DecodeError::Empty));
        assert_eq!(
            sniff(b"%PDF-1.7 not an image"),
            Err(DecodeError::Unsupported {
                detected: "unknown (no image signature)".into()
            })
        );
        assert_eq!(
            sniff(b"BM\0\0\0\0\0\0\0\0\0\0\0\0"),
            Ok(SourceFormat::Raster(ImageFormat::Bmp))
        );
        assert_eq!(
            sniff(b"II*\0\x08\0\0\0"),
            Ok(SourceFormat::Raster(ImageFormat::Tiff))
        );
        assert_eq!(sniff(b"\0\0\0\x18ftypavif\0\0\0\0"), Ok(SourceFormat::Avif));
        assert_eq!(
            sniff(b"\0\0\0\x1cftypmif1\0\0\0\0mif1miafavif"),
            Ok(SourceFormat::Avif)
        );
        assert!(matches!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"),
            Err(DecodeError::Unsupported { detected }) if detected.starts_with("HEIC")
        ));
    }
}

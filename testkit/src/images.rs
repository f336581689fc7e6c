//! Images generated with known damage.

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use std::io::Cursor;

/// A photo-like 320x240 JPEG (detail in every block, so a cut loses real rows) cut to `keep` of
/// its bytes: what an upload interrupted mid-file leaves.
pub fn truncated_jpeg(keep: f64) -> Vec<u8> {
    let photo = DynamicImage::ImageRgb8(RgbImage::from_fn(320, 240, |x, y| {
        Rgb([
            (x * 7 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    }));
    let mut whole = Cursor::new(Vec::new());
    photo
        .write_to(&mut whole, ImageFormat::Jpeg)
        .expect("a generated image encodes");
    let whole = whole.into_inner();
    whole[..(whole.len() as f64 * keep) as usize].to_vec()
}

//! Images generated with known damage, and in what `image` cannot write: multi-page and CMYK
//! TIFFs, AVIF photos (libavif through Pillow).

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

/// One page of a baseline TIFF: uncompressed, chunky samples, one strip.
pub struct TiffPage {
    pub width: u32,
    pub height: u32,
    /// 1 grey (black is zero), 2 RGB, 5 separated (CMYK with InkSet 1).
    pub photometric: u16,
    pub samples: u16,
    /// 8 or 16.
    pub bits: u16,
    /// Row-major samples, little-endian for 16 bits.
    pub data: Vec<u8>,
}

/// A little-endian TIFF of `pages` (TIFF 6.0, sections 2 and 16), each page's IFD linked to the
/// next: what scanners and print workflows produce, and what `image`'s encoder cannot (CMYK,
/// several pages).
pub fn tiff(pages: &[TiffPage]) -> Vec<u8> {
    let mut out = b"II*\0\0\0\0\0".to_vec();
    let mut previous_link = 4usize;
    for page in pages {
        let data_at = out.len() as u32;
        out.extend_from_slice(&page.data);
        if out.len() % 2 == 1 {
            out.push(0);
        }
        let bits_at = out.len() as u32;
        for _ in 0..page.samples {
            out.extend_from_slice(&page.bits.to_le_bytes());
        }
        let ifd_at = out.len() as u32;
        out[previous_link..previous_link + 4].copy_from_slice(&ifd_at.to_le_bytes());
        // (tag, type: 3 SHORT / 4 LONG, count, value or offset)
        let bits_value = if page.samples == 1 {
            u32::from(page.bits)
        } else {
            bits_at
        };
        let mut entries: Vec<(u16, u16, u32, u32)> = vec![
            (256, 4, 1, page.width),
            (257, 4, 1, page.height),
            (258, 3, u32::from(page.samples), bits_value),
            (259, 3, 1, 1),
            (262, 3, 1, u32::from(page.photometric)),
            (273, 4, 1, data_at),
            (277, 3, 1, u32::from(page.samples)),
            (278, 4, 1, page.height),
            (279, 4, 1, page.data.len() as u32),
        ];
        if page.photometric == 5 {
            entries.push((332, 3, 1, 1));
        }
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, kind, count, value) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
            if kind == 3 && count == 1 {
                out.extend_from_slice(&(value as u16).to_le_bytes());
                out.extend_from_slice(&[0, 0]);
            } else {
                out.extend_from_slice(&value.to_le_bytes());
            }
        }
        previous_link = out.len();
        out.extend_from_slice(&[0; 4]);
    }
    out
}

const ENCODE_AVIF: &str = r#"
import io, sys
from PIL import Image
width, height, orientation, quality = map(int, sys.argv[1:5])
image = Image.frombytes("RGBA", (width, height), sys.stdin.buffer.read())
if all(alpha == 255 for alpha in image.getchannel("A").getdata()):
    image = image.convert("RGB")
exif = Image.Exif()
if orientation:
    exif[0x0112] = orientation
out = io.BytesIO()
image.save(out, "AVIF", quality=quality, exif=exif.tobytes() if orientation else None)
sys.stdout.buffer.write(out.getvalue())
"#;

/// `pixels` as an AVIF photo, made by libavif (through Pillow in the emulator's pinned
/// virtualenv): 8-bit 4:2:0, an alpha plane when any pixel is not opaque, and for an EXIF
/// `orientation` (2-8) the `irot`/`imir` transforms libavif writes from it.
pub fn avif(pixels: &image::RgbaImage, orientation: Option<u16>) -> Vec<u8> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let python = emulator::python().expect("the emulator's virtualenv");
    let mut child = Command::new(python)
        .args(["-c", ENCODE_AVIF])
        .args([
            pixels.width().to_string(),
            pixels.height().to_string(),
            orientation.unwrap_or(0).to_string(),
            "90".into(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(pixels.as_raw())
        .expect("pixels written");
    let output = child.wait_with_output().expect("python ends");
    assert!(
        output.status.success(),
        "encoding AVIF failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

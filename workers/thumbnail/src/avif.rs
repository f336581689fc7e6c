//! AVIF photos, in Rust from end to end: avif-parse reads the HEIF container (the primary
//! item's AV1 data and its alpha's), rav1d (the Rust port of dav1d, built without its
//! assembly: no nasm, no C) decodes each AV1 frame, YUV becomes RGB by the matrix and range
//! the AV1 sequence header states, and the container's rotation and mirror (`irot`, `imir`,
//! in the order the item lists them) are applied, as MIAF says a reader must.
//!
//! The pixel budget is checked from the sequence header before a frame is decoded, and rav1d
//! is given the same limit (`frame_size_limit`) should a frame claim more than its header.

use crate::decode::{check_budget, corrupt as corrupt_as, DecodeError};
use image::{DynamicImage, ImageFormat, RgbImage, RgbaImage};
use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::headers::{
    Dav1dMatrixCoefficients, DAV1D_MC_BT2020_CL, DAV1D_MC_BT2020_NCL, DAV1D_MC_BT709, DAV1D_MC_FCC,
    DAV1D_MC_IDENTITY, DAV1D_MC_SMPTE240, DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420,
    DAV1D_PIXEL_LAYOUT_I422,
};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_get_picture,
    dav1d_open, dav1d_picture_unref, dav1d_send_data,
};
use std::mem::MaybeUninit;
use std::ptr::NonNull;

/// Whether `bytes` begin with a HEIF `ftyp` box naming AVIF (`avif`, or `avis` for a sequence)
/// as its major or a compatible brand.
pub fn is_avif(bytes: &[u8]) -> bool {
    heif_brands(bytes).is_some_and(|brands| brands.iter().any(|b| b == b"avif" || b == b"avis"))
}

/// Whether `bytes` are HEIF with HEVC-coded images (an iPhone's HEIC), and no AVIF.
pub fn is_heic(bytes: &[u8]) -> bool {
    heif_brands(bytes).is_some_and(|brands| {
        brands
            .iter()
            .any(|b| matches!(b, b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis"))
    }) && !is_avif(bytes)
}

/// The major and compatible brands of a leading `ftyp` box.
fn heif_brands(bytes: &[u8]) -> Option<Vec<[u8; 4]>> {
    let size = usize::try_from(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?)).ok()?;
    if bytes.get(4..8)? != b"ftyp" || size < 16 {
        return None;
    }
    let body = bytes.get(8..size.min(bytes.len()))?;
    let major = body.get(..4)?.try_into().ok()?;
    let compatible = body
        .get(8..)?
        .chunks_exact(4)
        .filter_map(|b| b.try_into().ok());
    Some(std::iter::once(major).chain(compatible).collect())
}

/// The AVIF in `bytes`, upright, if its primary image is within `max_pixels`.
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<DynamicImage, DecodeError> {
    let container = avif_parse::read_avif(&mut &bytes[..]).map_err(corrupt)?;
    let header = container.primary_item_metadata().map_err(corrupt)?;
    check_budget(
        header.max_frame_width.get(),
        header.max_frame_height.get(),
        max_pixels,
    )?;
    let colour = decode_frame(&container.primary_item, max_pixels).map_err(corrupt)?;
    let alpha = match container.alpha_item.as_deref() {
        Some(alpha) => Some(decode_frame(alpha, max_pixels).map_err(corrupt)?),
        None => None,
    };
    let mut image = to_rgb(&colour, alpha.as_ref(), container.premultiplied_alpha)?;
    for transform in transforms(bytes) {
        image = match transform {
            // `irot` turns anticlockwise.
            Transform::Rotate(1) => image.rotate270(),
            Transform::Rotate(2) => image.rotate180(),
            Transform::Rotate(3) => image.rotate90(),
            Transform::Rotate(_) => image,
            // HEIF (ISO/IEC 23008-12:2022, 6.5.12): axis 0 exchanges top and bottom, 1 left
            // and right.
            Transform::Mirror(0) => image.flipv(),
            Transform::Mirror(_) => image.fliph(),
        };
    }
    Ok(image)
}

fn corrupt(detail: impl ToString) -> DecodeError {
    corrupt_as(ImageFormat::Avif, detail)
}

/// One decoded AV1 frame, as 8-bit planes.
struct Frame {
    width: usize,
    height: usize,
    luma: Vec<u8>,
    /// Cb and Cr, each `chroma_width` wide, empty for monochrome.
    chroma: [Vec<u8>; 2],
    chroma_width: usize,
    /// log2 of the chroma subsampling, across and down.
    subsampling: (u32, u32),
    matrix: Dav1dMatrixCoefficients,
    full_range: bool,
}

/// A decoder context, closed however the decode ends.
struct Decoder(Option<Dav1dContext>);

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: the context came from dav1d_open and is closed only here.
        unsafe { dav1d_close(Some(NonNull::from(&mut self.0))) };
    }
}

/// Decodes one AV1 still frame (an AVIF item's data) with rav1d through its dav1d API.
fn decode_frame(av1: &[u8], max_pixels: u64) -> Result<Frame, String> {
    let failed = |what: &str, code: i32| format!("AV1 {what} failed (error {code})");
    let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
    // SAFETY: dav1d_default_settings writes every field of the settings it is given.
    let mut settings = unsafe {
        dav1d_default_settings(NonNull::from(&mut settings).cast());
        settings.assume_init()
    };
    settings.n_threads = 1;
    settings.max_frame_delay = 1;
    settings.frame_size_limit = u32::try_from(max_pixels).unwrap_or(u32::MAX);
    let mut decoder = Decoder(None);
    // SAFETY: both pointers are to live locals; dav1d_open reads the settings and writes the
    // context.
    let opened = unsafe {
        dav1d_open(
            Some(NonNull::from(&mut decoder.0)),
            Some(NonNull::from(&mut settings)),
        )
    };
    if opened.0 != 0 {
        return Err(failed("decoder start", opened.0));
    }
    let mut data = MaybeUninit::<Dav1dData>::uninit();
    // SAFETY: dav1d_data_create writes the whole Dav1dData and returns its buffer of
    // `av1.len()` bytes (null when it could not allocate), which is filled before use.
    let mut data = unsafe {
        let buffer = dav1d_data_create(Some(NonNull::from(&mut data).cast()), av1.len());
        if buffer.is_null() {
            return Err("AV1 data could not be allocated".into());
        }
        std::ptr::copy_nonoverlapping(av1.as_ptr(), buffer, av1.len());
        data.assume_init()
    };
    let mut picture = MaybeUninit::<Dav1dPicture>::uninit();
    // SAFETY: the context is open, `data` is initialised and `picture` is written by
    // dav1d_get_picture whatever it returns.
    let (sent, got, mut picture) = unsafe {
        let sent = dav1d_send_data(decoder.0, Some(NonNull::from(&mut data)));
        let got = dav1d_get_picture(decoder.0, Some(NonNull::from(&mut picture).cast()));
        (sent.0, got.0, picture.assume_init())
    };
    let frame = if sent != 0 {
        Err(failed("data", sent))
    } else if got != 0 {
        Err(failed("frame decode", got))
    } else {
        // SAFETY: a picture dav1d_get_picture returned with success holds its planes.
        unsafe { planes(&picture) }
    };
    // SAFETY: both were initialised above and are released once.
    unsafe {
        dav1d_picture_unref(Some(NonNull::from(&mut picture)));
        dav1d_data_unref(Some(NonNull::from(&mut data)));
    }
    frame
}

/// The picture's planes copied out at 8 bits.
///
/// # Safety
/// `picture` must be one dav1d_get_picture returned with success, not yet unreferenced.
unsafe fn planes(picture: &Dav1dPicture) -> Result<Frame, String> {
    let width = usize::try_from(picture.p.w).map_err(|_| "negative width")?;
    let height = usize::try_from(picture.p.h).map_err(|_| "negative height")?;
    let bits = u32::try_from(picture.p.bpc).map_err(|_| "bad bit depth")?;
    let layout = picture.p.layout;
    let subsampling = match layout {
        DAV1D_PIXEL_LAYOUT_I420 => (1, 1),
        DAV1D_PIXEL_LAYOUT_I422 => (1, 0),
        _ => (0, 0),
    };
    let chroma_width = (width + (1 << subsampling.0) - 1) >> subsampling.0;
    let chroma_height = (height + (1 << subsampling.1) - 1) >> subsampling.1;
    // SAFETY: the caller's promise: the planes are live, `stride` bytes per row.
    let read = |plane: usize, stride: isize, columns: usize, rows: usize| unsafe {
        copy_plane(picture.data[plane], stride, columns, rows, bits)
    };
    let luma = read(0, picture.stride[0], width, height)?;
    let chroma = if layout == DAV1D_PIXEL_LAYOUT_I400 {
        [Vec::new(), Vec::new()]
    } else {
        [
            read(1, picture.stride[1], chroma_width, chroma_height)?,
            read(2, picture.stride[1], chroma_width, chroma_height)?,
        ]
    };
    // SAFETY: a decoded picture carries its sequence header.
    let header = picture
        .seq_hdr
        .map(|header| unsafe { header.as_ref() })
        .ok_or("no sequence header")?;
    Ok(Frame {
        width,
        height,
        luma,
        chroma,
        chroma_width,
        subsampling,
        matrix: header.mtrx,
        full_range: header.color_range != 0,
    })
}

/// One plane's samples at 8 bits (high bit depths shifted down).
///
/// # Safety
/// `plane` must point to `rows` rows of at least `columns` samples, `stride` bytes apart.
unsafe fn copy_plane(
    plane: Option<NonNull<std::ffi::c_void>>,
    stride: isize,
    columns: usize,
    rows: usize,
    bits: u32,
) -> Result<Vec<u8>, String> {
    let start = plane.ok_or("a plane is missing")?.cast::<u8>();
    let bytes_per_sample = if bits > 8 { 2 } else { 1 };
    if stride.unsigned_abs() < columns * bytes_per_sample {
        return Err("a plane's rows are shorter than the picture".into());
    }
    let mut samples = Vec::with_capacity(columns * rows);
    for row in 0..rows {
        // SAFETY: the caller's promise covers every row of the plane.
        let line = unsafe {
            std::slice::from_raw_parts(
                start.as_ptr().offset(stride * row as isize),
                columns * bytes_per_sample,
            )
        };
        if bytes_per_sample == 1 {
            samples.extend_from_slice(line);
        } else {
            samples.extend(
                line.chunks_exact(2).map(|pair| {
                    (u16::from_ne_bytes([pair[0], pair[1]]) >> (bits - 8)).min(255) as u8
                }),
            );
        }
    }
    Ok(samples)
}

/// Kr and Kb of a YCbCr matrix (ITU-T H.273); unspecified ones read as BT.601, as libavif
/// reads them.
fn luma_weights(matrix: Dav1dMatrixCoefficients) -> (f32, f32) {
    match matrix {
        DAV1D_MC_BT709 => (0.2126, 0.0722),
        DAV1D_MC_FCC => (0.30, 0.11),
        DAV1D_MC_SMPTE240 => (0.212, 0.087),
        DAV1D_MC_BT2020_NCL | DAV1D_MC_BT2020_CL => (0.2627, 0.0593),
        _ => (0.299, 0.114),
    }
}

/// RGB(A) pixels of a colour frame and its alpha frame.
fn to_rgb(
    colour: &Frame,
    alpha: Option<&Frame>,
    premultiplied: bool,
) -> Result<DynamicImage, DecodeError> {
    let (kr, kb) = luma_weights(colour.matrix);
    let kg = 1.0 - kr - kb;
    let (luma_scale, luma_offset, chroma_scale) = if colour.full_range {
        (1.0, 0.0, 1.0)
    } else {
        (255.0 / 219.0, 16.0, 255.0 / 224.0)
    };
    let clamp = |value: f32| value.round().clamp(0.0, 255.0) as u8;
    let mut rgb = Vec::with_capacity(colour.width * colour.height * 3);
    for y in 0..colour.height {
        for x in 0..colour.width {
            let luma = (f32::from(colour.luma[y * colour.width + x]) - luma_offset) * luma_scale;
            if colour.chroma[0].is_empty() {
                rgb.extend([clamp(luma); 3]);
                continue;
            }
            let at =
                (y >> colour.subsampling.1) * colour.chroma_width + (x >> colour.subsampling.0);
            let cb = (f32::from(colour.chroma[0][at]) - 128.0) * chroma_scale;
            let cr = (f32::from(colour.chroma[1][at]) - 128.0) * chroma_scale;
            if colour.matrix == DAV1D_MC_IDENTITY {
                // GBR: Y is green, Cb blue, Cr red.
                rgb.extend([clamp(cr + 128.0), clamp(luma), clamp(cb + 128.0)]);
                continue;
            }
            let red = luma + 2.0 * (1.0 - kr) * cr;
            let blue = luma + 2.0 * (1.0 - kb) * cb;
            let green = (luma - kr * red - kb * blue) / kg;
            rgb.extend([clamp(red), clamp(green), clamp(blue)]);
        }
    }
    let (width, height) = (colour.width as u32, colour.height as u32);
    let Some(alpha) = alpha else {
        return RgbImage::from_raw(width, height, rgb)
            .map(DynamicImage::ImageRgb8)
            .ok_or_else(|| corrupt("the pixels do not match the picture's size"));
    };
    if (alpha.width, alpha.height) != (colour.width, colour.height) {
        return Err(corrupt(format!(
            "the alpha plane is {}x{}, the picture {}x{}",
            alpha.width, alpha.height, colour.width, colour.height
        )));
    }
    let rgba: Vec<u8> = rgb
        .chunks_exact(3)
        .zip(&alpha.luma)
        .flat_map(|(pixel, &a)| {
            let a = if alpha.full_range {
                a
            } else {
                clamp((f32::from(a) - 16.0) * 255.0 / 219.0)
            };
            let straight = |channel: u8| match (premultiplied, a) {
                (false, _) | (true, 255) => channel,
                (true, 0) => 0,
                (true, a) => (u32::from(channel) * 255 / u32::from(a)).min(255) as u8,
            };
            [
                straight(pixel[0]),
                straight(pixel[1]),
                straight(pixel[2]),
                a,
            ]
        })
        .collect();
    RgbaImage::from_raw(width, height, rgba)
        .map(DynamicImage::ImageRgba8)
        .ok_or_else(|| corrupt("the pixels do not match the picture's size"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transform {
    /// Quarter turns anticlockwise (`irot`).
    Rotate(u8),
    /// Top and bottom exchanged (0) or left and right (1) (`imir`).
    Mirror(u8),
}

/// The primary item's `irot` and `imir` properties, in the order its `ipma` entry lists them.
/// A container that cannot be walked has none: its pixels are shown as stored.
fn transforms(bytes: &[u8]) -> Vec<Transform> {
    let Some(meta) = children(bytes).find(|(kind, _)| kind == b"meta") else {
        return Vec::new();
    };
    // `meta` is a full box: version and flags come first.
    let meta = meta.1.get(4..).unwrap_or_default();
    let primary = children(meta)
        .find(|(kind, _)| kind == b"pitm")
        .and_then(|(_, pitm)| match pitm.first()? {
            0 => be(pitm.get(4..6)?),
            _ => be(pitm.get(4..8)?),
        });
    let properties = children(meta).find(|(kind, _)| kind == b"iprp");
    let (Some(primary), Some((_, properties))) = (primary, properties) else {
        return Vec::new();
    };
    let listed: Vec<([u8; 4], &[u8])> = children(properties)
        .find(|(kind, _)| kind == b"ipco")
        .map(|(_, ipco)| children(ipco).collect())
        .unwrap_or_default();
    let associations = children(properties)
        .filter(|(kind, _)| kind == b"ipma")
        .find_map(|(_, ipma)| associated(ipma, primary))
        .unwrap_or_default();
    associations
        .into_iter()
        .filter_map(|index| listed.get(index.checked_sub(1)?))
        .filter_map(|(kind, body)| match kind {
            b"irot" => Some(Transform::Rotate(body.first()? & 3)),
            b"imir" => Some(Transform::Mirror(body.first()? & 1)),
            _ => None,
        })
        .collect()
}

/// The property indices (1-based) `ipma` associates with `item`.
fn associated(ipma: &[u8], item: u32) -> Option<Vec<usize>> {
    let (version, flags) = (*ipma.first()?, *ipma.get(3)?);
    let mut at = 8;
    for _ in 0..be(ipma.get(4..8)?)? {
        let id_bytes = if version < 1 { 2 } else { 4 };
        let id = be(ipma.get(at..at + id_bytes)?)?;
        at += id_bytes;
        let count = usize::from(*ipma.get(at)?);
        at += 1;
        let wide = flags & 1 == 1;
        let mut indices = Vec::with_capacity(count);
        for _ in 0..count {
            // The top bit says whether the property is essential; the rest is its index.
            let index = if wide {
                be(ipma.get(at..at + 2)?)? & 0x7fff
            } else {
                u32::from(*ipma.get(at)? & 0x7f)
            };
            at += if wide { 2 } else { 1 };
            indices.push(usize::try_from(index).ok()?);
        }
        if id == item {
            return Some(indices);
        }
    }
    None
}

/// A big-endian unsigned number of 1 to 4 bytes.
fn be(bytes: &[u8]) -> Option<u32> {
    (1..=4)
        .contains(&bytes.len())
        .then(|| bytes.iter().fold(0, |n, &b| n << 8 | u32::from(b)))
}

/// The boxes in `data` (ISO/IEC 14496-12: a 32-bit size, or 1 and a 64-bit size after the
/// type, or 0 for "to the end"), each as its type and body; a box past the end ends the walk.
fn children(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let size = u64::from(be(rest.get(..4)?)?);
        let kind: [u8; 4] = rest.get(4..8)?.try_into().ok()?;
        let (header, size) = match size {
            0 => (8, rest.len() as u64),
            1 => (16, u64::from_be_bytes(rest.get(8..16)?.try_into().ok()?)),
            size => (8, size),
        };
        let size = usize::try_from(size).ok().filter(|&size| size >= header)?;
        let body = rest.get(header..size)?;
        rest = &rest[size..];
        Some((kind, body))
    })
}

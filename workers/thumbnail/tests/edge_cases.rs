//! Generated edge cases: orientation by pixel sampling, alpha, 16-bit, extreme shapes, broken
//! and hostile files.

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, GenericImageView, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use std::io::Cursor;
use std::time::Duration;
use testkit::images::{tiff, truncated_jpeg, TiffPage};
use thumbnail::decode::DecodeError;
use thumbnail::libjpeg::FailOn;
use thumbnail::render::{render, OutputFormat, RenderError, RenderSettings, Rendered};

fn settings(size: u32) -> RenderSettings {
    RenderSettings {
        sizes: vec![size],
        ..RenderSettings::default()
    }
}

fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).expect("encoded");
    out.into_inner()
}

fn thumbnail_of(rendered: &Rendered) -> DynamicImage {
    image::load_from_memory(&rendered.thumbnails[0].bytes).expect("a readable thumbnail")
}

fn decode_error(outcome: Result<Rendered, RenderError>) -> DecodeError {
    match outcome {
        Err(RenderError::Decode(err)) => err,
        other => panic!("expected a decode error, got {other:?}"),
    }
}

/// A JPEG with an APP1 Exif segment holding only an Orientation tag.
fn jpeg_with_orientation(image: &RgbImage, orientation: u16) -> Vec<u8> {
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 95)
        .encode_image(image)
        .expect("encoded");
    let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec(); // little endian, IFD at 8, one entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes()); // count
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // padding, no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let length = u16::try_from(app1.len() + 2).expect("small segment");
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn every_exif_orientation_is_applied() {
    // 64x32, red top-left quarter, blue elsewhere. Where the red corner ends up, upright:
    let corner_after = [
        (1, "top-left"),
        (2, "top-right"),
        (3, "bottom-right"),
        (4, "bottom-left"),
        (5, "top-left"),
        (6, "top-right"),
        (7, "bottom-right"),
        (8, "bottom-left"),
    ];
    let source = RgbImage::from_fn(64, 32, |x, y| {
        if x < 32 && y < 16 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    for (orientation, corner) in corner_after {
        let rendered =
            render(&jpeg_with_orientation(&source, orientation), &settings(32)).expect("rendered");
        let thumbnail = thumbnail_of(&rendered);
        let (width, height) = thumbnail.dimensions();
        let sideways = orientation >= 5;
        assert_eq!(
            (width, height),
            if sideways { (16, 32) } else { (32, 16) },
            "orientation {orientation}"
        );
        let (x, y) = match corner {
            "top-left" => (width / 4, height / 4),
            "top-right" => (width * 3 / 4, height / 4),
            "bottom-right" => (width * 3 / 4, height * 3 / 4),
            _ => (width / 4, height * 3 / 4),
        };
        let Rgba([r, _, b, _]) = thumbnail.get_pixel(x, y);
        assert!(
            r > 200 && b < 60,
            "orientation {orientation}: the {corner} corner should be red, is {r},{b}"
        );
    }
}

#[test]
fn alpha_is_flattened_onto_the_configured_background() {
    let transparent = DynamicImage::ImageRgba8(RgbaImage::from_pixel(40, 40, Rgba([0, 0, 0, 0])));
    let red_background = RenderSettings {
        background: [255, 0, 0],
        ..settings(20)
    };
    let rendered =
        render(&encoded(&transparent, ImageFormat::Png), &red_background).expect("rendered");
    let Rgba([r, g, b, _]) = thumbnail_of(&rendered).get_pixel(10, 10);
    assert!(r > 240 && g < 20 && b < 20, "{r},{g},{b}");

    let as_png = RenderSettings {
        format: OutputFormat::Png,
        ..settings(20)
    };
    let rendered = render(&encoded(&transparent, ImageFormat::Png), &as_png).expect("rendered");
    assert_eq!(
        thumbnail_of(&rendered).get_pixel(10, 10)[3],
        0,
        "PNG keeps alpha"
    );
}

#[test]
fn sixteen_bit_and_extreme_shapes_render() {
    let deep = DynamicImage::ImageRgb16(image::ImageBuffer::from_pixel(
        300,
        200,
        image::Rgb([65535u16, 0, 0]),
    ));
    let rendered = render(&encoded(&deep, ImageFormat::Png), &settings(256)).expect("16-bit");
    assert_eq!(thumbnail_of(&rendered).dimensions(), (256, 171));
    assert!(thumbnail_of(&rendered).get_pixel(100, 80)[0] > 240);

    let dot = DynamicImage::ImageRgb8(RgbImage::from_pixel(1, 1, Rgb([0, 255, 0])));
    let rendered = render(&encoded(&dot, ImageFormat::Png), &settings(256)).expect("1x1");
    assert_eq!(thumbnail_of(&rendered).dimensions(), (1, 1));

    let needle = DynamicImage::ImageRgb8(RgbImage::new(1, 20_000));
    let rendered = render(&encoded(&needle, ImageFormat::Png), &settings(256)).expect("1x20000");
    assert_eq!(thumbnail_of(&rendered).dimensions(), (1, 256));
}

#[test]
fn several_sizes_come_from_one_decode() {
    let photo = DynamicImage::ImageRgb8(RgbImage::from_pixel(1600, 1200, Rgb([9, 9, 9])));
    let sizes = RenderSettings {
        sizes: vec![512, 256, 64],
        ..RenderSettings::default()
    };
    let rendered = render(&encoded(&photo, ImageFormat::Jpeg), &sizes).expect("rendered");
    let dimensions: Vec<(u32, u32)> = rendered
        .thumbnails
        .iter()
        .map(|t| {
            image::load_from_memory(&t.bytes)
                .expect("JPEG")
                .dimensions()
        })
        .collect();
    assert_eq!(dimensions, [(512, 384), (256, 192), (64, 48)]);
}

#[test]
fn broken_and_hostile_files_fail_with_a_reason() {
    assert_eq!(
        decode_error(render(b"", &settings(256))),
        DecodeError::Empty
    );

    let png = encoded(
        &DynamicImage::ImageRgb8(RgbImage::from_fn(200, 200, |x, y| {
            Rgb([x as u8, y as u8, (x ^ y) as u8])
        })),
        ImageFormat::Png,
    );
    let truncated = &png[..png.len() / 2];
    assert!(matches!(
        decode_error(render(truncated, &settings(256))),
        DecodeError::Corrupt { format, .. } if format == "PNG"
    ));

    // The same PNG with its header claiming 30000x30000: refused before any decoding.
    let mut bomb = png.clone();
    bomb[16..20].copy_from_slice(&30_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&30_000u32.to_be_bytes());
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let err = decode_error(render(&bomb, &settings(256)));
    assert_eq!(
        err.to_string(),
        "image too large: 30000x30000 is 900 MP, over the budget of 100 MP"
    );

    let jpeg_bomb = {
        let mut jpeg = encoded(
            &DynamicImage::ImageRgb8(RgbImage::new(16, 16)),
            ImageFormat::Jpeg,
        );
        // The SOF0 frame header stores height then width, big endian, after precision.
        let sof = jpeg
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("baseline JPEG");
        jpeg[sof + 5..sof + 7].copy_from_slice(&30_000u16.to_be_bytes());
        jpeg[sof + 7..sof + 9].copy_from_slice(&30_000u16.to_be_bytes());
        jpeg
    };
    assert!(matches!(
        decode_error(render(&jpeg_bomb, &settings(256))),
        DecodeError::OverBudget {
            width: 30_000,
            height: 30_000,
            ..
        }
    ));

    assert_eq!(
        decode_error(render(b"%PDF-1.7\n", &settings(256))).to_string(),
        "unsupported format unknown (no image signature)"
    );
    let jpeg_garbage = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[0x55; 64]].concat();
    assert!(matches!(
        decode_error(render(&jpeg_garbage, &settings(256))),
        DecodeError::Corrupt { format, .. } if format == "JPEG"
    ));
}

/// PNG chunk CRC (ISO 3309), for hand-made chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn a_deep_image_within_the_pixel_budget_but_over_the_memory_limit_is_refused() {
    // 16-bit RGBA needs 8 bytes a pixel; the decode limit allows 4 a pixel of the budget
    // (plus 64 MiB for the decoders): 20 MP of it needs 160 MB where 144 MiB are allowed.
    let deep = DynamicImage::ImageRgba16(image::ImageBuffer::new(5000, 4000));
    let tight = RenderSettings {
        max_pixels: 20_000_000,
        ..settings(64)
    };
    let err = decode_error(render(&encoded(&deep, ImageFormat::Png), &tight));
    assert!(matches!(err, DecodeError::OverMemory { .. }), "{err}");
}

/// A JPEG written by libjpeg from raw `components`-channel pixels in `color_space`.
fn libjpeg_encoded(
    width: usize,
    height: usize,
    color_space: mozjpeg::ColorSpace,
    pixel: &[u8],
    progressive: bool,
) -> Vec<u8> {
    let mut compress = mozjpeg::Compress::new(color_space);
    compress.set_size(width, height);
    compress.set_quality(90.0);
    if progressive {
        compress.set_progressive_mode();
    }
    let mut started = compress.start_compress(Vec::new()).expect("started");
    let row: Vec<u8> = pixel.repeat(width);
    for _ in 0..height {
        started.write_scanlines(&row).expect("row written");
    }
    started.finish().expect("finished")
}

#[test]
fn cmyk_progressive_and_animated_sources_render_upright_and_in_colour() {
    // Adobe-style CMYK (inverted: 0 is full ink): cyan-free, magenta and yellow full = red.
    let cmyk = libjpeg_encoded(
        120,
        80,
        mozjpeg::ColorSpace::JCS_CMYK,
        &[255, 0, 0, 255],
        false,
    );
    let rendered = render(&cmyk, &settings(64)).expect("CMYK JPEG");
    assert_eq!((rendered.source_width, rendered.source_height), (120, 80));
    assert_eq!(thumbnail_of(&rendered).dimensions(), (64, 43));
    let [r, g, b] = thumbnail_of(&rendered).to_rgb8().get_pixel(30, 20).0;
    assert!(r > 200 && g < 80 && b < 80, "CMYK red came out {r},{g},{b}");

    let progressive = libjpeg_encoded(400, 300, mozjpeg::ColorSpace::JCS_RGB, &[0, 0, 255], true);
    let rendered = render(&progressive, &settings(256)).expect("progressive JPEG");
    assert_eq!(thumbnail_of(&rendered).dimensions(), (256, 192));
    assert!(thumbnail_of(&rendered).to_rgb8().get_pixel(100, 100)[2] > 200);

    let gray = libjpeg_encoded(90, 90, mozjpeg::ColorSpace::JCS_GRAYSCALE, &[200], false);
    let rendered = render(&gray, &settings(30)).expect("grayscale JPEG");
    assert_eq!(thumbnail_of(&rendered).dimensions(), (30, 30));

    // Two frames, green then red: the thumbnail is the first.
    let mut gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
        for colour in [[0, 255, 0, 255], [255, 0, 0, 255]] {
            let frame = image::Frame::new(RgbaImage::from_pixel(50, 40, Rgba(colour)));
            encoder.encode_frame(frame).expect("frame");
        }
    }
    let rendered = render(&gif, &settings(25)).expect("animated GIF");
    assert_eq!(thumbnail_of(&rendered).dimensions(), (25, 20));
    let [r, g, _] = thumbnail_of(&rendered).to_rgb8().get_pixel(12, 10).0;
    assert!(g > 200 && r < 60, "first frame: {r},{g}");
}

#[test]
fn a_truncated_jpeg_fails_by_default_and_is_noted_damaged_under_none() {
    let truncated = truncated_jpeg(0.6);
    let err = decode_error(render(&truncated, &settings(64)));
    assert_eq!(
        err.to_string(),
        "truncated JPEG: Premature end of JPEG file"
    );
    let only_truncation = RenderSettings {
        fail_on: FailOn::Truncated,
        ..settings(64)
    };
    assert!(matches!(
        decode_error(render(&truncated, &only_truncation)),
        DecodeError::Damaged { damage, .. } if damage.truncated
    ));

    let recover = RenderSettings {
        fail_on: FailOn::None,
        ..settings(64)
    };
    let rendered = render(&truncated, &recover).expect("libjpeg's recovery");
    assert_eq!(thumbnail_of(&rendered).dimensions(), (64, 48));
    let damage = rendered.damage.expect("the damage is noted");
    assert!(damage.truncated);
    assert_eq!(damage.message, "Premature end of JPEG file");

    // The whole file has nothing to note.
    let whole = render(&truncated_jpeg(1.0), &settings(64)).expect("whole");
    assert_eq!(whole.damage, None);
}

#[test]
fn a_progressive_jpeg_stops_at_its_scan_limit_and_any_image_at_its_deadline() {
    let progressive = libjpeg_encoded(400, 300, mozjpeg::ColorSpace::JCS_RGB, &[0, 0, 255], true);
    let few_scans = RenderSettings {
        max_scans: 2,
        ..settings(64)
    };
    let err = decode_error(render(&progressive, &few_scans));
    assert!(err.to_string().contains("more than 2 scans"), "{err}");

    let no_time = RenderSettings {
        timeout: Duration::ZERO,
        ..settings(64)
    };
    for (format, bytes) in [
        ("progressive JPEG", progressive),
        (
            "PNG",
            encoded(
                &DynamicImage::ImageRgb8(RgbImage::new(50, 50)),
                ImageFormat::Png,
            ),
        ),
    ] {
        let err = decode_error(render(&bytes, &no_time));
        assert_eq!(err, DecodeError::Deadline, "{format}");
        assert!(err.to_string().starts_with("deadline: "), "{err}");
    }
}

#[test]
fn tiff_bmp_and_ico_render_from_their_first_page_and_largest_entry() {
    let rgb = |width: u32, height: u32, pixel: [u8; 3]| TiffPage {
        width,
        height,
        photometric: 2,
        samples: 3,
        bits: 8,
        data: pixel.repeat((width * height) as usize),
    };
    // Two pages: the first (red) is the image, the second (green) is not.
    let pages = tiff(&[rgb(400, 300, [255, 0, 0]), rgb(400, 300, [0, 255, 0])]);
    let thumbnail = thumbnail_of(&render(&pages, &settings(256)).expect("multi-page TIFF"));
    assert_eq!(thumbnail.dimensions(), (256, 192));
    assert!(thumbnail.get_pixel(128, 96)[0] > 240 && thumbnail.get_pixel(128, 96)[1] < 20);

    let grey16 = tiff(&[TiffPage {
        width: 300,
        height: 200,
        photometric: 1,
        samples: 1,
        bits: 16,
        data: 40_000u16.to_le_bytes().repeat(300 * 200),
    }]);
    let thumbnail = thumbnail_of(&render(&grey16, &settings(256)).expect("16-bit TIFF"));
    assert_eq!(thumbnail.dimensions(), (256, 171));
    let grey = thumbnail.get_pixel(100, 80)[0];
    assert!((150..=160).contains(&grey), "{grey}"); // 40000/65535 of 255 is 155

    // Cyan and yellow ink, no black: green.
    let cmyk = tiff(&[TiffPage {
        width: 200,
        height: 100,
        photometric: 5,
        samples: 4,
        bits: 8,
        data: [255u8, 0, 255, 0].repeat(200 * 100),
    }]);
    let thumbnail = thumbnail_of(&render(&cmyk, &settings(256)).expect("CMYK TIFF"));
    assert_eq!(thumbnail.dimensions(), (200, 100));
    let pixel = thumbnail.get_pixel(50, 50);
    assert!(
        pixel[1] > 200 && pixel[0] < 60 && pixel[2] < 60,
        "{pixel:?}"
    );

    let bmp = encoded(
        &DynamicImage::ImageRgb8(RgbImage::from_pixel(640, 480, Rgb([0, 0, 255]))),
        ImageFormat::Bmp,
    );
    let thumbnail = thumbnail_of(&render(&bmp, &settings(256)).expect("BMP"));
    assert_eq!(thumbnail.dimensions(), (256, 192));
    assert!(thumbnail.get_pixel(10, 10)[2] > 240);

    let frame = |size: u32, colour: [u8; 4]| {
        image::codecs::ico::IcoFrame::as_png(
            RgbaImage::from_pixel(size, size, Rgba(colour)).as_raw(),
            size,
            size,
            image::ExtendedColorType::Rgba8,
        )
        .expect("an icon entry")
    };
    let mut ico = Vec::new();
    image::codecs::ico::IcoEncoder::new(&mut ico)
        .encode_images(&[frame(16, [255, 0, 0, 255]), frame(64, [0, 0, 255, 255])])
        .expect("ICO");
    let thumbnail = thumbnail_of(&render(&ico, &settings(256)).expect("ICO"));
    assert_eq!(thumbnail.dimensions(), (64, 64), "the largest entry");
    assert!(thumbnail.get_pixel(32, 32)[2] > 240);
    // An icon whose PNG entry is RGB, not RGBA (as `image`'s own encoder writes one from an
    // RGB picture): `image`'s ICO decoder refuses it, browsers show it, and so do we.
    let rgb_icon = encoded(
        &DynamicImage::ImageRgb8(RgbImage::from_pixel(48, 32, Rgb([0, 200, 0]))),
        ImageFormat::Ico,
    );
    let rendered = render(&rgb_icon, &settings(256)).expect("an ICO with an RGB PNG entry");
    assert_eq!(rendered.detected_format, "ICO");
    assert_eq!(thumbnail_of(&rendered).dimensions(), (48, 32));
    assert!(thumbnail_of(&rendered).get_pixel(24, 16)[1] > 190);

    // The budget is checked from the header: a TIFF claiming 100000 x 100000 is refused
    // before any pixel is read.
    let mut claims = rgb(1, 1, [0, 0, 0]);
    claims.width = 100_000;
    claims.height = 100_000;
    assert!(matches!(
        decode_error(render(&tiff(&[claims]), &settings(256))),
        DecodeError::OverBudget { .. }
    ));
}

#[test]
fn an_svg_is_drawn_at_the_thumbnail_size_whatever_size_it_claims() {
    let logo = br##"<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="48" height="24" viewBox="0 0 48 24">
  <rect width="24" height="24" fill="#ff0000"/><rect x="24" width="24" height="24" fill="#0000ff"/>
  <text x="2" y="20">ACME</text>
</svg>"##;
    let rendered = render(logo, &settings(256)).expect("an SVG");
    assert_eq!(rendered.detected_format, "SVG");
    assert_eq!(rendered.content_type, "image/svg+xml");
    let thumbnail = thumbnail_of(&rendered);
    // A vector drawing is drawn at the thumbnail's size, not enlarged from 48 px.
    assert_eq!(thumbnail.dimensions(), (256, 128));
    assert!(thumbnail.get_pixel(60, 64)[0] > 240 && thumbnail.get_pixel(60, 64)[2] < 20);
    assert!(thumbnail.get_pixel(200, 64)[2] > 240 && thumbnail.get_pixel(200, 64)[0] < 20);
    assert_eq!(
        rendered.notes,
        [
            "drawn at 256x128 from a 48x24 drawing",
            "1 text elements not drawn (no fonts)"
        ]
    );

    let vast = br#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="50000"><rect width="100000" height="50000" fill="green"/></svg>"#;
    let rendered = render(vast, &settings(256)).expect("a vast SVG");
    assert_eq!(thumbnail_of(&rendered).dimensions(), (256, 128));
}

#[test]
fn an_svg_loads_nothing_it_references_and_hostile_markup_is_refused() {
    let dir = std::env::temp_dir().join(format!("svg-refs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let red = dir.join("red.svg");
    std::fs::write(
        &red,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="red"/></svg>"#,
    )
    .expect("written");
    // A file and a URL: usvg's default resolver would draw the file's red square here.
    let referencing = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">
  <image href="{}" width="100" height="50"/>
  <image xlink:href="http://169.254.169.254/latest/meta-data/" y="50" width="100" height="50"/>
</svg>"#,
        red.display()
    );
    let thumbnail = thumbnail_of(&render(referencing.as_bytes(), &settings(100)).expect("drawn"));
    let pixel = thumbnail.get_pixel(50, 25);
    assert!(pixel[1] > 240, "the referenced file was drawn: {pixel:?}");
    let _ = std::fs::remove_dir_all(&dir);

    let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&b;</text></svg>"#;
    let reason = decode_error(render(laughs, &settings(256))).to_string();
    assert!(reason.contains("declares a DTD"), "{reason}");

    let deep = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{}{}</svg>"#,
        "<g>".repeat(100_000),
        "</g>".repeat(100_000)
    );
    let reason = decode_error(render(deep.as_bytes(), &settings(256))).to_string();
    assert!(reason.contains("nest deeper than 256"), "{reason}");

    let broken = decode_error(render(
        b"<svg xmlns='http://www.w3.org/2000/svg'><rect",
        &settings(256),
    ));
    assert!(
        broken.to_string().starts_with("corrupt or truncated SVG"),
        "{broken}"
    );
}

/// 64x48, the left half red and the right half blue; the right half `right_alpha` opaque.
fn halves(right_alpha: u8) -> RgbaImage {
    RgbaImage::from_fn(64, 48, |x, _| {
        if x < 32 {
            Rgba([255, 0, 0, 255])
        } else {
            Rgba([0, 0, 255, right_alpha])
        }
    })
}

fn is_red(pixel: Rgb<u8>) -> bool {
    pixel[0] > 200 && pixel[1] < 60 && pixel[2] < 60
}

fn is_blue(pixel: Rgb<u8>) -> bool {
    pixel[2] > 200 && pixel[0] < 60 && pixel[1] < 60
}

#[test]
fn an_avif_photo_renders_in_colour_upright_and_with_its_alpha() {
    use testkit::images::avif;
    let rendered = render(&avif(&halves(255), None), &settings(256)).expect("an AVIF");
    assert_eq!(
        (rendered.detected_format.as_str(), rendered.content_type),
        ("AVIF", "image/avif")
    );
    let thumbnail = thumbnail_of(&rendered).to_rgb8();
    assert_eq!(thumbnail.dimensions(), (64, 48), "never enlarged");
    assert!(
        is_red(*thumbnail.get_pixel(8, 24)),
        "{:?}",
        thumbnail.get_pixel(8, 24)
    );
    assert!(
        is_blue(*thumbnail.get_pixel(56, 24)),
        "{:?}",
        thumbnail.get_pixel(56, 24)
    );

    // EXIF orientation 6 (turn clockwise to view): libavif stores it as `irot`, so the left
    // (red) half ends on top.
    let turned = render(&avif(&halves(255), Some(6)), &settings(256)).expect("rotated");
    let turned = thumbnail_of(&turned).to_rgb8();
    assert_eq!(turned.dimensions(), (48, 64));
    assert!(
        is_red(*turned.get_pixel(24, 8)),
        "{:?}",
        turned.get_pixel(24, 8)
    );
    assert!(
        is_blue(*turned.get_pixel(24, 56)),
        "{:?}",
        turned.get_pixel(24, 56)
    );
    // Orientation 2 (mirrored left to right) is `imir`: red on the right.
    let mirrored = render(&avif(&halves(255), Some(2)), &settings(256)).expect("mirrored");
    let mirrored = thumbnail_of(&mirrored).to_rgb8();
    assert!(
        is_red(*mirrored.get_pixel(56, 24)),
        "{:?}",
        mirrored.get_pixel(56, 24)
    );

    // A transparent right half is flattened onto the background (white).
    let see_through = render(&avif(&halves(0), None), &settings(256)).expect("with alpha");
    let see_through = thumbnail_of(&see_through).to_rgb8();
    assert!(is_red(*see_through.get_pixel(8, 24)));
    let background = see_through.get_pixel(56, 24);
    assert!(background.0.iter().all(|&c| c > 230), "{background:?}");
}

#[test]
fn a_hostile_avif_or_a_heic_fails_with_its_reason() {
    use testkit::images::avif;
    let photo = avif(&halves(255), None);
    let tight = RenderSettings {
        max_pixels: 64 * 48 - 1,
        ..settings(256)
    };
    assert!(matches!(
        decode_error(render(&photo, &tight)),
        DecodeError::OverBudget {
            width: 64,
            height: 48,
            ..
        }
    ));
    for keep in [photo.len() / 2, photo.len() - 8] {
        let reason = decode_error(render(&photo[..keep], &settings(256))).to_string();
        assert!(
            reason.starts_with("corrupt or truncated AVIF"),
            "{keep}: {reason}"
        );
    }
    // An iPhone photo's container, with no HEVC decoder behind it.
    let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    heic.extend_from_slice(&photo[32..]);
    let reason = decode_error(render(&heic, &settings(256))).to_string();
    assert!(reason.contains("HEIC"), "{reason}");
}

//! Every real-world image of the corpus (when configured, see `testkit::corpus`): correct
//! thumbnails, or a clear failure. `edge_cases.rs` covers the same cases with generated images.

use image::GenericImageView;
use thumbnail::decode::DecodeError;
use thumbnail::render::{fit, render, RenderError, RenderSettings};

/// Files stored sideways with an EXIF orientation of 6 or 8, and their upright size.
const ROTATED_BY_EXIF: [(&str, (u32, u32)); 3] = [
    ("Portrait_6", (1200, 1800)),
    ("Portrait_8", (1200, 1800)),
    ("canon_hdr_NO", (1536, 2048)),
];

#[test]
fn every_corpus_image_gets_thumbnails_or_a_clear_failure() {
    let settings = RenderSettings {
        sizes: vec![256, 64],
        ..RenderSettings::default()
    };
    let Some(files) = testkit::corpus::files("images") else {
        return;
    };
    assert!(files.len() >= 20, "the corpus has {} images", files.len());
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let bytes = std::fs::read(&path).expect("readable");
        let outcome = render(&bytes, &settings);
        if name.contains("truncated") || name.contains("broken_data_stream") {
            assert!(
                matches!(
                    outcome,
                    Err(RenderError::Decode(DecodeError::Corrupt { .. }))
                ),
                "{name}: {outcome:?}"
            );
            continue;
        }
        if name.contains("giant-image") {
            let Err(err) = outcome else {
                panic!("{name}: a 280 MP image was decoded");
            };
            assert_eq!(
                err.to_string(),
                "image too large: 20000x14000 is 280 MP, over the budget of 100 MP"
            );
            continue;
        }
        let rendered = outcome.unwrap_or_else(|err| panic!("{name}: {err}"));
        let (width, height) = (rendered.source_width, rendered.source_height);
        if let Some((_, upright)) = ROTATED_BY_EXIF.iter().find(|(n, _)| name.contains(n)) {
            assert_eq!((width, height), *upright, "{name} is upright");
        }
        assert_eq!(rendered.thumbnails.len(), 2, "{name}");
        for thumbnail in &rendered.thumbnails {
            let expected = fit(width, height, thumbnail.size);
            let decoded = image::load_from_memory(&thumbnail.bytes)
                .unwrap_or_else(|err| panic!("{name}: the thumbnail is not a JPEG: {err}"));
            assert_eq!(
                decoded.dimensions(),
                expected,
                "{name} at {}",
                thumbnail.size
            );
            assert_eq!((thumbnail.width, thumbnail.height), expected, "{name}");
        }
    }
}

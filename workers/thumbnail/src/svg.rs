//! SVG: drawn by resvg straight at the size the largest thumbnail needs, so a drawing that
//! claims any size costs at most the pixel budget.
//!
//! An SVG is a program more than a picture: before resvg sees it, its markup is walked as a
//! stream and refused if it declares a DTD (entities: "billion laughs"), nests deeper than
//! [`MAX_DEPTH`] (the tree conversion recurses) or has more than [`MAX_ELEMENTS`] elements.
//! Nothing it references is ever loaded: no file, no URL, no embedded image (every `href` of an
//! `<image>` resolves to nothing). Text is not drawn: no fonts ship with the function, and
//! the record counts the `<text>` elements left out.

use crate::decode::DecodeError;
use quick_xml::events::Event;
use quick_xml::Reader;
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{ImageHrefResolver, Options, Tree};

pub const MAX_DEPTH: usize = 256;
pub const MAX_ELEMENTS: usize = 200_000;

/// Whether `bytes` are an SVG document: its first element, past any XML declaration, document
/// type, comments and whitespace, is `<svg`.
pub fn is_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("<?") {
            match after.find("?>") {
                Some(end) => rest = &after[end + 2..],
                None => return false,
            }
        } else if let Some(after) = rest.strip_prefix("<!--") {
            match after.find("-->") {
                Some(end) => rest = &after[end + 3..],
                None => return false,
            }
        } else if let Some(after) = rest.strip_prefix("<!DOCTYPE") {
            // Told apart here, refused by `draw` (a DTD may define entities).
            let end = match (after.find('['), after.find('>')) {
                (Some(open), Some(close)) if open < close => after.find("]>").map(|end| end + 2),
                (_, close) => close.map(|end| end + 1),
            };
            match end {
                Some(end) => rest = &after[end..],
                None => return false,
            }
        } else {
            return rest.starts_with("<svg");
        }
    }
}

/// The drawing, rasterised with its longest edge at `longest_edge` pixels, and its own size
/// (rounded to whole pixels) and the number of `<text>` elements not drawn.
pub struct Drawn {
    pub pixels: Pixmap,
    pub width: u32,
    pub height: u32,
    pub text_elements: usize,
}

fn corrupt(detail: impl ToString) -> DecodeError {
    DecodeError::Corrupt {
        format: "SVG".into(),
        detail: detail.to_string(),
    }
}

/// What the markup walk found: how many `<text>` elements there are.
fn check_markup(bytes: &[u8]) -> Result<usize, DecodeError> {
    let mut reader = Reader::from_reader(bytes);
    let (mut depth, mut elements, mut texts) = (0usize, 0usize, 0usize);
    loop {
        let event = reader.read_event().map_err(|err| {
            corrupt(format!(
                "XML error at byte {}: {err}",
                reader.buffer_position()
            ))
        })?;
        let opened = match &event {
            Event::DocType(_) => {
                return Err(corrupt(
                    "declares a DTD: refused (entities could expand without bound)",
                ))
            }
            Event::Start(element) => {
                depth += 1;
                Some(element.local_name().as_ref() == "text")
            }
            Event::Empty(element) => Some(element.local_name().as_ref() == "text"),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                None
            }
            Event::Eof => return Ok(texts),
            _ => None,
        };
        if let Some(is_text) = opened {
            elements += 1;
            texts += usize::from(is_text);
            if elements > MAX_ELEMENTS {
                return Err(corrupt(format!("more than {MAX_ELEMENTS} elements")));
            }
            if depth > MAX_DEPTH {
                return Err(corrupt(format!(
                    "elements nest deeper than {MAX_DEPTH} levels"
                )));
            }
        }
    }
}

/// Draws `bytes` with its longest edge at `longest_edge` pixels, refusing a drawing whose
/// raster would exceed `max_pixels`.
pub fn draw(bytes: &[u8], longest_edge: u32, max_pixels: u64) -> Result<Drawn, DecodeError> {
    let text_elements = check_markup(bytes)?;
    let options = Options {
        resources_dir: None,
        image_href_resolver: ImageHrefResolver {
            resolve_data: Box::new(|_, _, _| None),
            resolve_string: Box::new(|_, _| None),
        },
        ..Options::default()
    };
    let tree = Tree::from_data(bytes, &options).map_err(corrupt)?;
    let size = tree.size();
    let (width, height) = (size.width(), size.height());
    let longest = width.max(height);
    if !(longest.is_finite() && longest > 0.0) {
        return Err(corrupt("the drawing has no size"));
    }
    let scale = longest_edge.max(1) as f32 / longest;
    let raster = |edge: f32| ((edge * scale).round() as u32).max(1);
    let (raster_width, raster_height) = (raster(width), raster(height));
    if u64::from(raster_width) * u64::from(raster_height) > max_pixels {
        return Err(DecodeError::OverBudget {
            width: raster_width,
            height: raster_height,
            budget: max_pixels,
        });
    }
    let mut pixels = Pixmap::new(raster_width, raster_height)
        .ok_or_else(|| corrupt("no raster of that size"))?;
    resvg::render(
        &tree,
        Transform::from_scale(raster_width as f32 / width, raster_height as f32 / height),
        &mut pixels.as_mut(),
    );
    Ok(Drawn {
        pixels,
        width: width.round().max(1.0) as u32,
        height: height.round().max(1.0) as u32,
        text_elements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_svg_is_told_by_its_first_element() {
        assert!(is_svg(b"<svg xmlns='http://www.w3.org/2000/svg'/>"));
        assert!(is_svg(
            b"\xef\xbb\xbf<?xml version='1.0'?>\n<!-- logo -->\n<svg width='1' height='1'/>"
        ));
        assert!(!is_svg(b"<html><svg/></html>"));
        assert!(!is_svg(b"<?xml version='1.0'?><note/>"));
    }
}

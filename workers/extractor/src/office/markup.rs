//! Reading the XML parts as a stream of opened elements, closed elements and text: no tree is
//! built, so a part costs its own bytes plus the text found. A DTD is refused (entities are
//! never defined, so none can expand: "billion laughs" ends here), nesting is bounded, and an
//! entity reference other than XML's five and character references is an error.

use super::Limits;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use std::borrow::Cow;
use std::collections::HashMap;

#[derive(Debug)]
pub enum XmlError {
    Limit(String),
    Malformed(String),
}

/// How a vocabulary marks text up, by local element names.
pub struct Markup {
    /// Text counts only inside these.
    pub text_in: &'static [&'static str],
    /// Each ends a line.
    pub paragraphs: &'static [&'static str],
    pub tabs: &'static [&'static str],
    pub line_breaks: &'static [&'static str],
    /// ODF's `text:s` (`c` spaces).
    pub spaces: &'static [&'static str],
}

/// WordprocessingML (`w:t` runs in `w:p` paragraphs).
pub const WORDPROCESSING: Markup = Markup {
    text_in: &["t"],
    paragraphs: &["p"],
    tabs: &["tab"],
    line_breaks: &["br", "cr"],
    spaces: &[],
};

/// DrawingML, the text of slides and notes (`a:t` in `a:p`).
pub const DRAWING: Markup = Markup {
    text_in: &["t"],
    paragraphs: &["p"],
    tabs: &[],
    line_breaks: &["br"],
    spaces: &[],
};

/// OpenDocument text (`text:p`, `text:h`).
pub const OPENDOCUMENT: Markup = Markup {
    text_in: &["p", "h"],
    paragraphs: &["p", "h"],
    tabs: &["tab"],
    line_breaks: &["line-break"],
    spaces: &["s"],
};

enum Item<'a> {
    Open(BytesStart<'a>, bool),
    Close(String),
    Text(Cow<'a, str>),
}

/// Calls `visit` for each element opened (with whether it is empty), closed and each run of
/// text, within `limits`.
fn walk<'a>(
    xml: &'a [u8],
    limits: &Limits,
    mut visit: impl FnMut(Item<'a>) -> Result<(), XmlError>,
) -> Result<(), XmlError> {
    let mut reader = Reader::from_reader(xml);
    let mut depth = 0usize;
    loop {
        let event = reader.read_event().map_err(|err| {
            XmlError::Malformed(format!(
                "XML error at byte {}: {err}",
                reader.buffer_position()
            ))
        })?;
        match event {
            Event::DocType(_) => {
                return Err(XmlError::Limit(
                    "declares a DTD: refused (entities are never expanded; no Office part has one)"
                        .into(),
                ))
            }
            Event::Start(element) => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(XmlError::Limit(format!(
                        "elements nest deeper than {} levels",
                        limits.max_depth
                    )));
                }
                visit(Item::Open(element, false))?;
            }
            Event::Empty(element) => visit(Item::Open(element, true))?,
            Event::End(element) => {
                depth = depth.saturating_sub(1);
                visit(Item::Close(element.local_name().as_ref().to_owned()))?;
            }
            Event::Text(text) => visit(Item::Text(text.xml10_content()))?,
            Event::CData(data) => visit(Item::Text(data.into_inner()))?,
            Event::GeneralRef(reference) => {
                let resolved = if reference.is_char_ref() {
                    reference
                        .resolve_char_ref()
                        .ok()
                        .flatten()
                        .map(|c| c.to_string())
                } else {
                    quick_xml::escape::resolve_predefined_entity(&reference).map(str::to_owned)
                };
                match resolved {
                    Some(text) => visit(Item::Text(Cow::Owned(text)))?,
                    None => {
                        return Err(XmlError::Malformed(format!(
                            "refers to an undefined entity &{};",
                            &*reference
                        )))
                    }
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

fn local(element: &BytesStart) -> String {
    element.local_name().as_ref().to_owned()
}

/// The part's text: paragraphs as lines, tabs and breaks kept.
pub fn text(xml: &[u8], markup: &Markup, limits: &Limits) -> Result<String, XmlError> {
    Ok(pages(xml, markup, "", limits)?.concat())
}

/// The text inside each `page` element (every text when `page` is empty), in order.
pub fn pages(
    xml: &[u8],
    markup: &Markup,
    page: &str,
    limits: &Limits,
) -> Result<Vec<String>, XmlError> {
    let mut pages: Vec<String> = if page.is_empty() {
        vec![String::new()]
    } else {
        Vec::new()
    };
    let mut in_page = page.is_empty();
    let mut in_text = 0usize;
    let is = |names: &[&str], name: &str| names.contains(&name);
    walk(xml, limits, |item| {
        match item {
            Item::Open(element, empty) => {
                let name = local(&element);
                if !page.is_empty() && name == page && !empty {
                    pages.push(String::new());
                    in_page = true;
                }
                let current = pages.last_mut().filter(|_| in_page);
                if let Some(current) = current {
                    if is(markup.tabs, &name) {
                        current.push('\t');
                    } else if is(markup.line_breaks, &name) {
                        current.push('\n');
                    } else if is(markup.spaces, &name) {
                        let count = element
                            .try_get_attribute("text:c")
                            .ok()
                            .flatten()
                            .and_then(|c| {
                                c.normalized_value(XmlVersion::Implicit1_0)
                                    .ok()?
                                    .parse::<usize>()
                                    .ok()
                            })
                            .unwrap_or(1)
                            .min(1024);
                        current.extend(std::iter::repeat_n(' ', count));
                    } else if is(markup.paragraphs, &name) && empty {
                        current.push('\n');
                    }
                }
                if !empty && is(markup.text_in, &name) {
                    in_text += 1;
                }
            }
            Item::Close(name) => {
                if is(markup.text_in, &name) {
                    in_text = in_text.saturating_sub(1);
                }
                if in_page && is(markup.paragraphs, &name) {
                    if let Some(current) = pages.last_mut() {
                        current.push('\n');
                    }
                }
                if !page.is_empty() && name == page {
                    in_page = false;
                }
            }
            Item::Text(text) => {
                if in_text > 0 && in_page {
                    if let Some(current) = pages.last_mut() {
                        current.push_str(&text);
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(pages)
}

/// The value of attribute `attribute` (as written, prefix included) of every `element`, in
/// document order.
pub fn attribute_values(
    xml: &[u8],
    element: &str,
    attribute: &str,
    limits: &Limits,
) -> Result<Vec<String>, XmlError> {
    let mut values = Vec::new();
    walk(xml, limits, |item| {
        if let Item::Open(start, _) = item {
            if start.local_name().as_ref() == element {
                let value = start
                    .try_get_attribute(attribute)
                    .map_err(|err| XmlError::Malformed(err.to_string()))?;
                if let Some(value) = value {
                    let value = value
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|err| XmlError::Malformed(err.to_string()))?;
                    values.push(value.into_owned());
                }
            }
        }
        Ok(())
    })?;
    Ok(values)
}

/// Local name -> trimmed text of the first element of that name holding only text (the
/// fields of `core.xml`, `app.xml`, `meta.xml`).
pub fn leaf_texts(xml: &[u8], limits: &Limits) -> Result<HashMap<String, String>, XmlError> {
    let mut fields = HashMap::new();
    let mut open: Option<(String, String)> = None;
    walk(xml, limits, |item| {
        match item {
            Item::Open(element, empty) => {
                open = (!empty).then(|| (local(&element), String::new()));
            }
            Item::Text(text) => {
                if let Some((_, value)) = open.as_mut() {
                    value.push_str(&text);
                }
            }
            Item::Close(_) => {
                if let Some((name, value)) = open.take() {
                    let value = value.trim();
                    if !value.is_empty() {
                        fields.entry(name).or_insert_with(|| value.to_owned());
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(fields)
}

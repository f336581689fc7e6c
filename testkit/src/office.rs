//! Office Open XML (ECMA-376) and OpenDocument (ODF 1.2) files built in memory with known text
//! and metadata: the parts each format's readers need, nothing from elsewhere.

use crate::archives::{zip, ZipStyle};

/// What a generated file says about itself.
#[derive(Clone, Debug)]
pub struct Properties {
    pub title: &'static str,
    pub author: &'static str,
    pub created: &'static str,
    pub modified: &'static str,
}

pub const PROPERTIES: Properties = Properties {
    title: "Quarterly report",
    author: "Ada Lovelace",
    created: "2026-01-02T03:04:05Z",
    modified: "2026-02-03T04:05:06Z",
};

/// `text` with XML's special characters escaped.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn core_xml(properties: &Properties) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{}</dc:title><dc:creator>{}</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">{}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{}</dcterms:modified></cp:coreProperties>"#,
        escape(properties.title),
        escape(properties.author),
        properties.created,
        properties.modified
    )
}

fn app_xml(counts: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>s3-triage testkit</Application>{counts}</Properties>"#
    )
}

fn content_types<P: AsRef<str>>(overrides: &[(P, &str)]) -> String {
    let overrides: String = overrides
        .iter()
        .map(|(part, kind)| {
            format!(
                r#"<Override PartName="/{}" ContentType="{kind}"/>"#,
                part.as_ref()
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>{overrides}<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#
    )
}

fn relationships<T: AsRef<str>>(targets: &[(&str, T)]) -> String {
    let relationships: String = targets
        .iter()
        .enumerate()
        .map(|(n, (kind, target))| {
            format!(
                r#"<Relationship Id="rId{}" Type="{kind}" Target="{}"/>"#,
                n + 1,
                target.as_ref()
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{relationships}</Relationships>"#
    )
}

const OFFICE_DOCUMENT: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument";
const CORE: &str =
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties";
const EXTENDED: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties";

fn package_rels(main: &str) -> String {
    relationships(&[
        (OFFICE_DOCUMENT, main),
        (CORE, "docProps/core.xml"),
        (EXTENDED, "docProps/app.xml"),
    ])
}

pub(crate) fn build(parts: Vec<(String, String)>) -> Vec<u8> {
    let entries: Vec<(&str, &[u8])> = parts
        .iter()
        .map(|(name, content)| (name.as_str(), content.as_bytes()))
        .collect();
    zip(&entries, ZipStyle::DEFLATE)
}

/// `document.xml` of a DOCX whose body is `body` (WordprocessingML).
pub fn docx_with_body(body: &str, properties: &Properties, pages: usize) -> Vec<u8> {
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}<w:sectPr/></w:body></w:document>"#
    );
    build(vec![
        (
            "[Content_Types].xml".into(),
            content_types(&[(
                "word/document.xml",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            )]),
        ),
        ("_rels/.rels".into(), package_rels("word/document.xml")),
        ("word/document.xml".into(), document),
        ("docProps/core.xml".into(), core_xml(properties)),
        (
            "docProps/app.xml".into(),
            app_xml(&format!("<Pages>{pages}</Pages>")),
        ),
    ])
}

/// A DOCX of `paragraphs` (each one `w:p`; a `\t` becomes `w:tab`).
pub fn docx(paragraphs: &[&str], properties: &Properties) -> Vec<u8> {
    let body: String = paragraphs
        .iter()
        .map(|paragraph| {
            let runs: Vec<String> = paragraph
                .split('\t')
                .map(|run| format!(r#"<w:t xml:space="preserve">{}</w:t>"#, escape(run)))
                .collect();
            format!("<w:p><w:r>{}</w:r></w:p>", runs.join("<w:tab/>"))
        })
        .collect();
    docx_with_body(&body, properties, 2)
}

/// A PPTX whose slides (title text, notes) are listed in `slides` order, stored under file
/// names in the reverse order: readers must follow the presentation's list, not the names.
pub fn pptx(slides: &[(&str, &str)], properties: &Properties) -> Vec<u8> {
    let count = slides.len();
    let mut parts = vec![
        ("_rels/.rels".into(), package_rels("ppt/presentation.xml")),
        ("docProps/core.xml".into(), core_xml(properties)),
        (
            "docProps/app.xml".into(),
            app_xml(&format!("<Slides>{count}</Slides>")),
        ),
    ];
    let mut overrides = vec![(
        "ppt/presentation.xml".to_owned(),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    )];
    let mut ids = String::new();
    let mut targets = Vec::new();
    for (n, (text, notes)) in slides.iter().enumerate() {
        let file = count - n;
        let slide = format!("ppt/slides/slide{file}.xml");
        let notes_part = format!("ppt/notesSlides/notesSlide{file}.xml");
        ids.push_str(&format!(
            r#"<p:sldId id="{}" r:id="rId{}"/>"#,
            256 + n,
            n + 1
        ));
        targets.push((
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide",
            format!("slides/slide{file}.xml"),
        ));
        let paragraphs = |text: &str| -> String {
            text.lines()
                .map(|line| format!("<a:p><a:r><a:t>{}</a:t></a:r></a:p>", escape(line)))
                .collect()
        };
        let shape = |text: &str| {
            format!(
                r#"<p:sp><p:txBody><a:bodyPr/>{}</p:txBody></p:sp>"#,
                paragraphs(text)
            )
        };
        let namespaces = r#"xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main""#;
        parts.push((
            slide.clone(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:sld {namespaces}><p:cSld><p:spTree>{}</p:spTree></p:cSld></p:sld>"#,
                shape(text)
            ),
        ));
        parts.push((
            format!("ppt/slides/_rels/slide{file}.xml.rels"),
            relationships(&[(
                "http://schemas.openxmlformats.org/officeDocument/2006/relationships/notesSlide",
                &format!("../notesSlides/notesSlide{file}.xml"),
            )]),
        ));
        parts.push((
            notes_part.clone(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:notes {namespaces}><p:cSld><p:spTree>{}</p:spTree></p:cSld></p:notes>"#,
                shape(notes)
            ),
        ));
        overrides.push((
            slide,
            "application/vnd.openxmlformats-officedocument.presentationml.slide+xml",
        ));
        overrides.push((
            notes_part,
            "application/vnd.openxmlformats-officedocument.presentationml.notesSlide+xml",
        ));
    }
    parts.push((
        "ppt/_rels/presentation.xml.rels".into(),
        relationships(&targets),
    ));
    parts.push((
        "ppt/presentation.xml".into(),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:presentation xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:sldIdLst>{ids}</p:sldIdLst></p:presentation>"#
        ),
    ));
    parts.push(("[Content_Types].xml".into(), content_types(&overrides)));
    build(parts)
}

/// A sheet: its name and rows of cells (a cell that parses as a number is written as one,
/// the others as shared strings).
pub type Sheet<'a> = (&'a str, &'a [&'a [&'a str]]);

/// An XLSX of `sheets`, with `padding` (raw XML) appended to its shared-strings table (to make
/// one as large as a test needs).
pub fn xlsx_with(sheets: &[Sheet], properties: &Properties, padding: &str) -> Vec<u8> {
    let mut strings: Vec<String> = Vec::new();
    let mut parts = vec![
        ("_rels/.rels".into(), package_rels("xl/workbook.xml")),
        ("docProps/core.xml".into(), core_xml(properties)),
        ("docProps/app.xml".into(), app_xml("")),
    ];
    let mut overrides = vec![(
        "xl/workbook.xml".to_owned(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    )];
    let mut listed = String::new();
    let mut targets = Vec::new();
    for (n, (name, rows)) in sheets.iter().enumerate() {
        let mut data = String::new();
        for (r, row) in rows.iter().enumerate() {
            data.push_str(&format!(r#"<row r="{}">"#, r + 1));
            for (c, cell) in row.iter().enumerate() {
                let reference = format!("{}{}", char::from(b'A' + c as u8), r + 1);
                if cell.parse::<f64>().is_ok() {
                    data.push_str(&format!(r#"<c r="{reference}"><v>{cell}</v></c>"#));
                } else {
                    strings.push((*cell).to_owned());
                    data.push_str(&format!(
                        r#"<c r="{reference}" t="s"><v>{}</v></c>"#,
                        strings.len() - 1
                    ));
                }
            }
            data.push_str("</row>");
        }
        let part = format!("xl/worksheets/sheet{}.xml", n + 1);
        parts.push((
            part.clone(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{data}</sheetData></worksheet>"#
            ),
        ));
        overrides.push((
            part,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
        ));
        listed.push_str(&format!(
            r#"<sheet name="{}" sheetId="{}" r:id="rId{}"/>"#,
            escape(name),
            n + 1,
            n + 1
        ));
        targets.push((
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet",
            format!("worksheets/sheet{}.xml", n + 1),
        ));
    }
    targets.push((
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings",
        "sharedStrings.xml".into(),
    ));
    parts.push(("xl/_rels/workbook.xml.rels".into(), relationships(&targets)));
    parts.push((
        "xl/workbook.xml".into(),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{listed}</sheets></workbook>"#
        ),
    ));
    let items: String = strings
        .iter()
        .map(|text| format!("<si><t>{}</t></si>", escape(text)))
        .collect();
    parts.push((
        "xl/sharedStrings.xml".into(),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{n}" uniqueCount="{n}">{items}{padding}</sst>"#,
            n = strings.len()
        ),
    ));
    overrides.push((
        "xl/sharedStrings.xml".into(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
    ));
    parts.push(("[Content_Types].xml".into(), content_types(&overrides)));
    build(parts)
}

pub fn xlsx(sheets: &[Sheet], properties: &Properties) -> Vec<u8> {
    xlsx_with(sheets, properties, "")
}

fn odf(mimetype: &str, body: &str, properties: &Properties, pages: Option<usize>) -> Vec<u8> {
    let namespaces = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0""#;
    let statistic = pages
        .map(|pages| format!(r#"<meta:document-statistic meta:page-count="{pages}"/>"#))
        .unwrap_or_default();
    let parts = vec![
        ("mimetype".to_owned(), mimetype.to_owned()),
        (
            "META-INF/manifest.xml".into(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest {namespaces} manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/></manifest:manifest>"#
            ),
        ),
        (
            "content.xml".into(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content {namespaces} office:version="1.2"><office:body>{body}</office:body></office:document-content>"#
            ),
        ),
        (
            "meta.xml".into(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta {namespaces} office:version="1.2"><office:meta><dc:title>{}</dc:title><meta:initial-creator>{}</meta:initial-creator><meta:creation-date>{}</meta:creation-date><dc:date>{}</dc:date>{statistic}</office:meta></office:document-meta>"#,
                escape(properties.title),
                escape(properties.author),
                properties.created.trim_end_matches('Z'),
                properties.modified.trim_end_matches('Z'),
            ),
        ),
    ];
    // ODF wants `mimetype` first and stored; the readers here accept it deflated too.
    build(parts)
}

fn odf_paragraphs(paragraphs: &[&str]) -> String {
    paragraphs
        .iter()
        .map(|paragraph| {
            let runs: Vec<String> = paragraph.split('\t').map(escape).collect();
            format!("<text:p>{}</text:p>", runs.join("<text:tab/>"))
        })
        .collect()
}

pub fn odt(paragraphs: &[&str], properties: &Properties) -> Vec<u8> {
    odf(
        "application/vnd.oasis.opendocument.text",
        &format!("<office:text>{}</office:text>", odf_paragraphs(paragraphs)),
        properties,
        Some(1),
    )
}

pub fn odp(slides: &[(&str, &str)], properties: &Properties) -> Vec<u8> {
    let pages: String = slides
        .iter()
        .enumerate()
        .map(|(n, (text, notes))| {
            format!(
                r#"<draw:page draw:name="page{}"><draw:frame><draw:text-box>{}</draw:text-box></draw:frame><presentation:notes><draw:frame><draw:text-box>{}</draw:text-box></draw:frame></presentation:notes></draw:page>"#,
                n + 1,
                odf_paragraphs(&text.lines().collect::<Vec<_>>()),
                odf_paragraphs(&[notes]),
            )
        })
        .collect();
    odf(
        "application/vnd.oasis.opendocument.presentation",
        &format!("<office:presentation>{pages}</office:presentation>"),
        properties,
        None,
    )
}

pub fn ods(sheets: &[Sheet], properties: &Properties) -> Vec<u8> {
    let tables: String = sheets
        .iter()
        .map(|(name, rows)| {
            let rows: String = rows
                .iter()
                .map(|row| {
                    let cells: String = row
                        .iter()
                        .map(|cell| match cell.parse::<f64>() {
                            Ok(_) => format!(
                                r#"<table:table-cell office:value-type="float" office:value="{cell}"><text:p>{cell}</text:p></table:table-cell>"#
                            ),
                            Err(_) => format!(
                                r#"<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
                                escape(cell)
                            ),
                        })
                        .collect();
                    format!("<table:table-row>{cells}</table:table-row>")
                })
                .collect();
            format!(r#"<table:table table:name="{}">{rows}</table:table>"#, escape(name))
        })
        .collect();
    odf(
        "application/vnd.oasis.opendocument.spreadsheet",
        &format!("<office:spreadsheet>{tables}</office:spreadsheet>"),
        properties,
        None,
    )
}

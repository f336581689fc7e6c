use super::*;
use testkit::archives::{zip, ZipStyle};
use testkit::office::{self as generate, PROPERTIES};

const LIMITS: Limits = Limits {
    max_entries: 1000,
    max_part_bytes: 1 << 20,
    max_total_bytes: 4 << 20,
    max_depth: 64,
};

fn extracted(bytes: &[u8]) -> DocumentText {
    extract(bytes, &LIMITS)
        .expect("readable")
        .expect("an Office or OpenDocument file")
}

fn refused(bytes: &[u8]) -> String {
    extract(bytes, &LIMITS).expect_err("refused").to_string()
}

fn expected_metadata() -> Metadata {
    Metadata {
        title: Some(PROPERTIES.title.into()),
        author: Some(PROPERTIES.author.into()),
        subject: None,
        created: Some(PROPERTIES.created.into()),
        modified: Some(PROPERTIES.modified.into()),
    }
}

#[test]
fn a_docx_gives_its_paragraphs_tabs_entities_and_properties() {
    let document = extracted(&generate::docx(
        &[
            "Revenue rose 12% in Q3.",
            "Region\tNorth & South",
            "Ünïcødé <ok>",
        ],
        &PROPERTIES,
    ));
    assert_eq!(document.format, Format::Docx);
    assert_eq!(
        document.text,
        "Revenue rose 12% in Q3.\nRegion\tNorth & South\nÜnïcødé <ok>\n"
    );
    assert_eq!(document.metadata, expected_metadata());
    assert_eq!(document.pages, Some(2));
}

#[test]
fn a_pptx_gives_its_slides_in_presentation_order_with_their_notes() {
    let document = extracted(&generate::pptx(
        &[
            ("Welcome\nAgenda for today", "Greet everyone"),
            ("Results", "Mention the 12% growth"),
            ("Questions", ""),
        ],
        &PROPERTIES,
    ));
    assert_eq!(document.format, Format::Pptx);
    assert_eq!(document.slides, Some(3));
    assert_eq!(
        document.text,
        "Slide 1\nWelcome\nAgenda for today\nNotes: Greet everyone\n\n\
         Slide 2\nResults\nNotes: Mention the 12% growth\n\n\
         Slide 3\nQuestions\n\n"
    );
    assert_eq!(document.metadata.title.as_deref(), Some(PROPERTIES.title));
}

#[test]
fn an_xlsx_gives_each_sheet_as_tab_separated_rows() {
    let document = extracted(&generate::xlsx(
        &[
            (
                "Sales",
                &[&["Region", "Units"], &["North", "12"], &["South", "7.5"]],
            ),
            ("Notes", &[&["checked by", "Grace"]]),
        ],
        &PROPERTIES,
    ));
    assert_eq!(document.format, Format::Xlsx);
    assert_eq!(document.sheets, ["Sales", "Notes"]);
    assert_eq!(
        document.text,
        "# Sales\nRegion\tUnits\nNorth\t12\nSouth\t7.5\n\n# Notes\nchecked by\tGrace\n\n"
    );
    assert_eq!(document.metadata.author.as_deref(), Some(PROPERTIES.author));
}

#[test]
fn opendocument_text_presentation_and_spreadsheet_read_like_their_office_twins() {
    let odt = extracted(&generate::odt(&["First paragraph.", "A\ttab"], &PROPERTIES));
    assert_eq!(odt.format, Format::Odt);
    assert_eq!(odt.text, "First paragraph.\nA\ttab\n");
    assert_eq!(odt.pages, Some(1));
    assert_eq!(odt.metadata.title.as_deref(), Some(PROPERTIES.title));
    assert_eq!(odt.metadata.author.as_deref(), Some(PROPERTIES.author));
    assert_eq!(odt.metadata.created.as_deref(), Some("2026-01-02T03:04:05"));

    let odp = extracted(&generate::odp(
        &[("Hello", "say hi"), ("Bye", "wave")],
        &PROPERTIES,
    ));
    assert_eq!(odp.format, Format::Odp);
    assert_eq!(odp.slides, Some(2));
    assert_eq!(odp.text, "Slide 1\nHello\nsay hi\n\nSlide 2\nBye\nwave\n\n");

    let ods = extracted(&generate::ods(
        &[("Budget", &[&["Item", "Cost"], &["Rent", "1200"]])],
        &PROPERTIES,
    ));
    assert_eq!(ods.format, Format::Ods);
    assert_eq!(ods.sheets, ["Budget"]);
    assert_eq!(ods.text, "# Budget\nItem\tCost\nRent\t1200\n\n");
}

#[test]
fn a_zip_that_is_no_document_is_not_taken_for_one() {
    let plain = zip(&[("notes.txt", b"hello")], ZipStyle::DEFLATE);
    assert_eq!(extract(&plain, &LIMITS), Ok(None));
}

#[test]
fn a_part_inflating_past_its_limit_is_refused_as_a_bomb() {
    // 8 MiB of one paragraph, a few KiB compressed.
    let body = format!("<w:p><w:r><w:t>{}</w:t></w:r></w:p>", "a".repeat(8 << 20));
    let bomb = generate::docx_with_body(&body, &PROPERTIES, 1);
    assert!(bomb.len() < 64 << 10, "{} bytes", bomb.len());
    let reason = refused(&bomb);
    assert!(
        reason.contains("word/document.xml inflates to") && reason.contains("decompression bomb"),
        "{reason}"
    );
}

#[test]
fn a_dtd_is_refused_so_no_entity_ever_expands() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"#;
    let bytes = zip(
        &[
            ("word/document.xml", laughs.as_bytes()),
            ("[Content_Types].xml", b"<Types/>"),
        ],
        ZipStyle::DEFLATE,
    );
    let reason = refused(&bytes);
    assert!(
        reason.contains("word/document.xml: declares a DTD"),
        "{reason}"
    );
    // Without a DTD, an undefined entity is an error, never text.
    let undefined =
        generate::docx_with_body("<w:p><w:r><w:t>&lol;</w:t></w:r></w:p>", &PROPERTIES, 1);
    assert!(refused(&undefined).contains("undefined entity &lol;"));
}

#[test]
fn deep_nesting_is_refused_before_it_costs_anything() {
    let body = format!("{}{}", "<w:sdt>".repeat(10_000), "</w:sdt>".repeat(10_000));
    let reason = refused(&generate::docx_with_body(&body, &PROPERTIES, 1));
    assert!(reason.contains("nest deeper than 64 levels"), "{reason}");
}

#[test]
fn an_outsized_shared_strings_table_is_refused_before_the_spreadsheet_reader_loads_it() {
    let padding = "<si><t>padding padding padding</t></si>".repeat(100_000);
    let bytes = generate::xlsx_with(&[("S", &[&["x"]])], &PROPERTIES, &padding);
    let reason = refused(&bytes);
    assert!(
        reason.contains("xl/sharedStrings.xml inflates to") && reason.contains("shared-strings"),
        "{reason}"
    );
}

#[test]
fn too_many_entries_damage_and_encryption_each_have_their_reason() {
    let names: Vec<String> = (0..1001).map(|n| format!("f{n}")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    assert!(refused(&zip(&entries, ZipStyle::STORED)).contains("1001 zip entries"));

    let docx = generate::docx(&["text"], &PROPERTIES);
    let truncated = &docx[..docx.len() / 2];
    assert!(refused(truncated).contains("not a readable Office file"));

    let mut ole2 = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole2.resize(4096, 0);
    assert_eq!(extract(&ole2, &LIMITS), Err(DocumentError::Ole2));

    let sealed = zip(
        &[("word/document.xml", b"<w:document/>"), ("x", b"")],
        ZipStyle {
            encrypted: true,
            ..ZipStyle::STORED
        },
    );
    assert!(
        refused(&sealed).contains("encrypted"),
        "{}",
        refused(&sealed)
    );
}

#[test]
fn relationship_targets_resolve_like_paths() {
    assert_eq!(
        resolve("ppt/", "slides/slide1.xml"),
        "ppt/slides/slide1.xml"
    );
    assert_eq!(
        resolve("ppt/slides/", "../notesSlides/notesSlide1.xml"),
        "ppt/notesSlides/notesSlide1.xml"
    );
    assert_eq!(
        resolve("ppt/", "/ppt/slides/slide9.xml"),
        "ppt/slides/slide9.xml"
    );
    assert_eq!(
        slide_rels("ppt/slides/slide3.xml"),
        "ppt/slides/_rels/slide3.xml.rels"
    );
}

#[test]
fn an_epub_gives_its_chapters_in_spine_order_and_its_package_metadata() {
    let document = extracted(&testkit::documents::epub(
        &[
            ("Arrival", &["The ship docked at dawn."]),
            ("Second day", &["Markets & harbours.", "Rain."]),
            ("Departure", &["They left at noon."]),
        ],
        &PROPERTIES,
    ));
    assert_eq!(document.format, Format::Epub);
    assert_eq!(
        document.text,
        "Arrival\nThe ship docked at dawn.\nSecond day\nMarkets & harbours.\nRain.\nDeparture\nThey left at noon.\n"
    );
    assert_eq!(document.chapters, Some(3));
    assert_eq!(document.metadata.title.as_deref(), Some(PROPERTIES.title));
    assert_eq!(document.metadata.author.as_deref(), Some(PROPERTIES.author));
    assert_eq!(
        document.metadata.created.as_deref(),
        Some(PROPERTIES.created)
    );
}

#[test]
fn an_epub_chapter_past_the_part_limit_is_a_bomb() {
    let chapter = format!("<p>{}</p>", "a".repeat(LIMITS.max_part_bytes as usize));
    let reason = refused(&testkit::documents::epub_with_chapters(
        &[chapter],
        &PROPERTIES,
    ));
    assert!(reason.contains("decompression bomb"), "{reason}");
}

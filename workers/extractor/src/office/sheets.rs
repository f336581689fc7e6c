//! Workbooks through calamine: each sheet, in workbook order, as tab-separated rows under its
//! name (what `xlsx2csv`-style converters give, and what PII and search read well).

use super::Format;
use calamine::{Data, Ods, Reader, Xlsx};
use std::fmt::Display;
use std::io::{Cursor, Read, Seek};

pub struct Workbook {
    pub names: Vec<String>,
    pub text: String,
}

pub fn workbook(bytes: &[u8], format: Format) -> Result<Workbook, String> {
    let cursor = Cursor::new(bytes);
    match format {
        Format::Ods => sheets(Ods::new(cursor).map_err(describe)?),
        _ => sheets(Xlsx::new(cursor).map_err(describe)?),
    }
}

fn describe(err: impl Display) -> String {
    format!("spreadsheet: {err}")
}

fn sheets<RS: Read + Seek, R: Reader<RS>>(mut workbook: R) -> Result<Workbook, String>
where
    R::Error: Display,
{
    let names = workbook.sheet_names();
    let mut text = String::new();
    for name in &names {
        let range = workbook.worksheet_range(name).map_err(describe)?;
        text.push_str(&format!("# {name}\n"));
        for row in range.rows() {
            let cells: Vec<String> = row.iter().map(cell).collect();
            text.push_str(cells.join("\t").trim_end_matches('\t'));
            text.push('\n');
        }
        text.push('\n');
    }
    Ok(Workbook { names, text })
}

/// A cell as text; tabs and line breaks inside it become spaces so rows stay rows.
fn cell(value: &Data) -> String {
    match value {
        Data::Empty => String::new(),
        other => other.to_string().replace(['\t', '\n', '\r'], " "),
    }
}

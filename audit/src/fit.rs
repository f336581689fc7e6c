//! Records that always fit. Workers copy free-form text from files into records (a PDF's
//! Title, a parser's error, an archive entry's name); a hostile file can make that text any
//! size. Every record is trimmed to what DynamoDB (400 KB per item) and SNS (256 KB per
//! message) accept, so it can always be written and announced: a record that could not be
//! would be retried to the DLQ with nothing recorded.

use serde_json::{Map, Value};

/// Longest free-form string a record keeps (a reason, a string in the details); longer ones
/// are cut at a character boundary and end with a marker saying how long they were.
pub const MAX_TEXT_BYTES: usize = 2048;
/// Most entries a list in the details keeps.
pub const MAX_LIST_ENTRIES: usize = 200;
/// Most the details may take, as JSON: with the rest of a record (a 1 KiB key, a few output
/// keys, a reason) far inside both limits.
pub const MAX_DETAILS_BYTES: usize = 96 * 1024;

/// `text` cut to [`MAX_TEXT_BYTES`], with a marker when it was cut.
pub fn fit_text(text: String) -> String {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let end = text.floor_char_boundary(MAX_TEXT_BYTES);
    format!("{}…[trimmed: {} bytes]", &text[..end], text.len())
}

/// `details` with every string and key fitted, lists shortened, and, when still over
/// [`MAX_DETAILS_BYTES`], its largest top-level entries replaced by a marker (named in
/// `trimmed`) until it fits.
pub fn fit_details(details: Value) -> Value {
    let mut fitted = fit_value(details);
    let Value::Object(entries) = &mut fitted else {
        return fitted;
    };
    let mut trimmed = Vec::new();
    while json_len(&Value::Object(entries.clone())) > MAX_DETAILS_BYTES {
        let largest = entries
            .iter()
            .filter(|(name, value)| !trimmed.contains(*name) && json_len(value) > 64)
            .max_by_key(|(_, value)| json_len(value))
            .map(|(name, value)| (name.clone(), json_len(value)));
        let Some((name, bytes)) = largest else { break };
        entries.insert(
            name.clone(),
            Value::String(format!("[trimmed: {bytes} bytes]")),
        );
        trimmed.push(name);
    }
    if !trimmed.is_empty() {
        entries.insert("trimmed".into(), trimmed.into());
    }
    fitted
}

fn fit_value(value: Value) -> Value {
    match value {
        Value::String(text) => Value::String(fit_text(text)),
        Value::Array(items) => {
            let total = items.len();
            let mut kept: Vec<Value> = items
                .into_iter()
                .take(MAX_LIST_ENTRIES)
                .map(fit_value)
                .collect();
            if total > MAX_LIST_ENTRIES {
                kept.push(Value::String(format!(
                    "[trimmed: {} more of {total}]",
                    total - MAX_LIST_ENTRIES
                )));
            }
            Value::Array(kept)
        }
        Value::Object(entries) => Value::Object(
            entries
                .into_iter()
                .take(MAX_LIST_ENTRIES)
                .map(|(name, value)| (fit_text(name), fit_value(value)))
                .collect::<Map<String, Value>>(),
        ),
        other => other,
    }
}

fn json_len(value: &Value) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX, |json| json.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_text_is_cut_on_a_character_boundary_with_a_marker() {
        assert_eq!(fit_text("short".into()), "short");
        let long = "é".repeat(MAX_TEXT_BYTES); // two bytes each
        let fitted = fit_text(long);
        assert!(fitted.ends_with(&format!("…[trimmed: {} bytes]", MAX_TEXT_BYTES * 2)));
        assert!(fitted.len() < MAX_TEXT_BYTES + 40);
    }

    #[test]
    fn details_of_any_size_fit_and_say_what_was_trimmed() {
        let title = "T".repeat(1 << 20);
        let pages: Vec<Value> = (0..5000).map(|n| json!({ "page": n })).collect();
        let fitted = fit_details(json!({
            "kind": "pdf",
            "info": { "Title": title, "Author": "someone" },
            "pages": pages,
        }));
        assert_eq!(fitted["kind"], "pdf");
        assert_eq!(fitted["info"]["Author"], "someone");
        let kept_title = fitted["info"]["Title"].as_str().expect("a string");
        assert!(kept_title.starts_with("TTTT"));
        assert!(
            kept_title.ends_with("…[trimmed: 1048576 bytes]"),
            "{kept_title:.40}"
        );
        assert_eq!(
            fitted["pages"].as_array().map(Vec::len),
            Some(MAX_LIST_ENTRIES + 1)
        );
        assert!(json_len(&fitted) <= MAX_DETAILS_BYTES);

        // Many fields each under the caps, together over the budget: the largest go.
        let wide: Map<String, Value> = (0..150)
            .map(|n| {
                (
                    format!("field{n}"),
                    Value::String("x".repeat(MAX_TEXT_BYTES)),
                )
            })
            .collect();
        let fitted = fit_details(Value::Object(wide));
        assert!(json_len(&fitted) <= MAX_DETAILS_BYTES);
        assert!(!fitted["trimmed"].as_array().expect("named").is_empty());
    }
}

//! Holding JSON documents to a published JSON Schema (draft 2020-12, formats checked) with the
//! `jsonschema` package of the emulator's pinned virtualenv: the reference implementation,
//! where a Rust validator would pull a second feature set of regex and serde_json into every
//! build.

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

const VALIDATE: &str = r#"
import json, sys
from jsonschema import Draft202012Validator
request = json.load(sys.stdin)
Draft202012Validator.check_schema(request["schema"])
validator = Draft202012Validator(request["schema"], format_checker=Draft202012Validator.FORMAT_CHECKER)
print(json.dumps([
    f"document {i}: /{'/'.join(map(str, error.absolute_path))}: {error.message}"
    for i, document in enumerate(request["documents"])
    for error in validator.iter_errors(document)
]))
"#;

/// What in `documents` breaks `schema` (a JSON Schema's text), one line per violation; panics
/// when the schema itself is not a valid draft 2020-12 schema.
pub fn violations(schema: &str, documents: &[Value]) -> Vec<String> {
    let python = emulator::python().expect("the emulator's virtualenv");
    let schema: Value = serde_json::from_str(schema).expect("the schema is JSON");
    let mut child = Command::new(python)
        .args(["-c", VALIDATE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    let request = json!({ "schema": schema, "documents": documents });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("request written");
    let output = child.wait_with_output().expect("python ends");
    assert!(
        output.status.success(),
        "validating failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("a JSON list of violations")
}

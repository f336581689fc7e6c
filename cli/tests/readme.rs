//! The README's layout table matches the tree: every folder it lists exists, every top-level
//! folder (and every worker and watchdog crate) is listed, and every file a row names exists
//! under its folder.

use regex::Regex;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// (folder, the rest of its row) for each row of the table under `## Layout`.
fn layout_rows() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let table = readme
        .split("\n## Layout\n")
        .nth(1)
        .expect("a ## Layout section")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    let row = Regex::new(r"^\| `([^`]+)/` \| (.*) \|$").expect("regex");
    table
        .lines()
        .filter_map(|line| row.captures(line))
        .map(|found| (found[1].to_owned(), found[2].to_owned()))
        .collect()
}

fn files_under(dir: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|name| name != "target") {
            files_under(&path, found);
        } else if let Some(name) = path.file_name().and_then(|name| name.to_str()) {
            found.insert(name.to_owned());
        }
    }
}

#[test]
fn the_layout_table_names_every_folder_and_only_files_that_exist() {
    let rows = layout_rows();
    assert!(rows.len() >= 10, "{rows:?}");
    let listed: BTreeSet<&str> = rows.iter().map(|(folder, _)| folder.as_str()).collect();
    let mut problems = Vec::new();
    let mut expected: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(root()).expect("root").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let tracked = !name.starts_with('.') && name != "target" && entry.path().is_dir();
        if tracked {
            expected.push(name);
        }
    }
    // Folders that group crates are listed crate by crate.
    const GROUPS: [&str; 2] = ["workers", "watchdog"];
    for group in GROUPS {
        for entry in std::fs::read_dir(root().join(group))
            .expect(group)
            .flatten()
        {
            if entry.path().is_dir() {
                expected.push(format!("{group}/{}", entry.file_name().to_string_lossy()));
            }
        }
    }
    for folder in &expected {
        if !GROUPS.contains(&folder.as_str()) && !listed.contains(folder.as_str()) {
            problems.push(format!("{folder}/ is not in the layout table"));
        }
    }
    let file =
        Regex::new(r"`([A-Za-z0-9_.-]+\.(?:rs|py|sh|json|tf|toml)|Dockerfile)`").expect("regex");
    for (folder, text) in &rows {
        let dir = root().join(folder);
        if !dir.is_dir() {
            problems.push(format!("{folder}/ is listed but does not exist"));
            continue;
        }
        let mut present = BTreeSet::new();
        files_under(&dir, &mut present);
        for named in file.captures_iter(text) {
            if !present.contains(&named[1]) {
                problems.push(format!(
                    "{folder}/: the table names {}, which is not there",
                    &named[1]
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "README.md layout:\n{}",
        problems.join("\n")
    );
}

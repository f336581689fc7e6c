//! The code side: what each binary reads and calls, derived from the workspace's source by
//! function-level reachability from the binary's crate (names resolved within the crate and
//! the workspace crates it depends on; a trait method's implementations in any crate the
//! binary links), SDK operations named by the SDK crates' own operation lists.

use regex::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

/// Configuration helper methods (`platform::config::Env`) whose first argument names the
/// variable they read; found in the source so a new helper is covered too.
const ENV_HELPER_FILE: &str = "platform/src/config.rs";

/// What a binary's code does, as far as terraform must allow it.
#[derive(Debug, Default)]
pub struct CodeFacts {
    /// `TRIAGE_*` variables the binary reads.
    pub reads: BTreeSet<String>,
    /// `TRIAGE_*` variables the binary sets for a process it starts (RunTask overrides).
    pub passes: BTreeSet<String>,
    /// IAM actions of the SDK operations the binary calls, with the chain of functions that
    /// leads to one call (for the message when terraform does not allow it).
    pub actions: BTreeMap<String, String>,
}

struct Item {
    name: String,
    crate_name: String,
    /// The module (file) defining it, as a path names it.
    module: String,
    /// The type whose `impl` block holds the function (`Recorder` for `Recorder::claim`).
    owner: Option<String>,
    /// Body text of a function; a constant's value.
    text: String,
    is_const: bool,
    /// Whether another crate can name it: declared `pub` (not `pub(crate)`), a trait
    /// implementation's method (as visible as its trait), or a constant.
    exported: bool,
    /// A method taking `self`: named only after `.` or a path.
    takes_self: bool,
}

pub struct Workspace {
    /// Items by name (several crates may define one name).
    items: HashMap<String, Vec<usize>>,
    all: Vec<Item>,
    /// Workspace crates each crate may name (itself and its direct workspace dependencies).
    visible: HashMap<String, BTreeSet<String>>,
    /// SDK services each crate depends on directly, with their operations (snake_case).
    services: HashMap<String, Vec<(String, BTreeSet<String>)>>,
    /// A call of a configuration helper (`platform::config::Env`), capturing the
    /// variable's name or the constant naming it.
    env_read: Regex,
    /// The crate each binary target belongs to.
    binaries: HashMap<String, String>,
    /// Methods declared without a body (trait methods), with the crates declaring each: a call
    /// reaches every implementation linked into the binary (`dyn Notifier` -> `SnsNotifier`).
    declared: HashMap<String, BTreeSet<String>>,
    /// Crates from outside the workspace the members depend on, as code names them.
    external: BTreeSet<String>,
}

static IDENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z_][A-Za-z0-9_]*").expect("regex"));
static FN_ITEM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u:\b)fn[ \t\r\n]+([a-z_][a-z0-9_]*)").expect("regex"));
static CONST_ITEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?-u:\b)const[ \t\r\n]+([A-Z][A-Z0-9_]*)[ \t\r\n]*:[ \t\r\n]*&(?:'static[ \t\r\n]+)?str[ \t\r\n]*=[ \t\r\n]*"([^"]*)""#)
        .expect("regex")
});
static IMPL_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u:\b)impl([^{;]*)\{").expect("regex"));
static STRING_LITERAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""(?:[^"\\]|\\.)*""#).expect("regex"));
/// A signature whose first parameter is `self` in any form (`&self`, `&'a mut self`, `self: ..`).
static SELF_PARAMETER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\([ \t\r\n]*(?:&[ \t\r\n]*(?:'[a-z_]+[ \t\r\n]+)?)?(?:mut[ \t\r\n]+)?self(?-u:\b)")
        .expect("regex")
});
static SDK_CALL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\.([a-z][a-z0-9_]*)\(\)").expect("regex"));
/// A name set for a started process (`KeyValuePair::builder().name(X)` in a RunTask override).
static PASSED_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\.name\([ \t\r\n]*([A-Z][A-Z0-9_]*|"[^"]*")"#).expect("regex"));
static ENV_LITERAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^TRIAGE_[A-Z0-9_]+$").expect("regex"));

/// Source without comments, raw strings emptied, braces in string literals and char literals
/// blanked (so none can unbalance a body); ordinary string literals are kept, since constant
/// values and `TRIAGE_*` names are read from them.
fn strip(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            i += rest.find("*/").map_or(rest.len(), |end| end + 2);
        } else if let Some(raw) = rest
            .strip_prefix('r')
            .filter(|after| after.starts_with('"') || after.starts_with('#'))
        {
            let hashes = raw.len() - raw.trim_start_matches('#').len();
            let close = format!("\"{}", "#".repeat(hashes));
            let body_start = 1 + hashes + 1;
            if raw[hashes..].starts_with('"') {
                let end = rest[body_start..]
                    .find(&close)
                    .map_or(rest.len(), |end| body_start + end + close.len());
                out.push_str("\"\"");
                i += end;
            } else {
                out.push('r');
                i += 1;
            }
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() {
                match rest.as_bytes()[j] {
                    b'\\' => j += 2,
                    b'"' => break,
                    _ => j += 1,
                }
            }
            // Keep the literal: constants and TRIAGE_ names are read from it.
            out.push_str(&rest[..(j + 1).min(rest.len())].replace(['{', '}'], " "));
            i += j + 1;
        } else if rest.starts_with('\'') && char_literal_len(rest).is_some() {
            out.push_str("' '");
            i += char_literal_len(rest).unwrap_or(1);
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Length of a char literal at the start of `text` ('x', '\n', '\u{..}'), if it is one and
/// not a lifetime.
fn char_literal_len(text: &str) -> Option<usize> {
    let inner = &text[1..];
    if let Some(escaped) = inner.strip_prefix('\\') {
        let end = escaped.find('\'')?;
        return Some(1 + 1 + end + 1);
    }
    let c = inner.chars().next()?;
    inner[c.len_utf8()..]
        .starts_with('\'')
        .then_some(1 + c.len_utf8() + 1)
}

/// The type an `impl` header (what follows `impl`) is for: `<F: Fn() -> X> Env<F>` -> `Env`,
/// `fmt::Display for ObjectKey` -> `ObjectKey`.
fn implemented_type(header: &str) -> Option<String> {
    let mut rest = header.trim_start();
    if rest.starts_with('<') {
        let mut depth = 0usize;
        let mut end = rest.len();
        for (at, c) in rest.char_indices() {
            match c {
                '<' => depth += 1,
                '>' if !rest[..at].ends_with('-') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = at + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    let target = rest.rsplit(" for ").next().unwrap_or(rest);
    IDENT
        .find_iter(target)
        .map(|ident| ident.as_str())
        .filter(|ident| ident.starts_with(char::is_uppercase))
        .last()
        .map(str::to_owned)
}

/// Whether the function whose `fn` keyword ends `before` is declared plainly `pub` (qualifiers
/// such as `async` between them), not `pub(crate)` or private.
fn declared_pub(before: &str) -> bool {
    let mut rest = before.trim_end();
    for qualifier in ["async", "const", "unsafe"] {
        rest = rest.strip_suffix(qualifier).unwrap_or(rest).trim_end();
    }
    rest.strip_suffix("pub")
        .is_some_and(|ahead| ahead.is_empty() || ahead.ends_with(char::is_whitespace))
}

/// Drops `#[cfg(test)]` items (test modules and test-only functions).
fn without_tests(source: &str) -> String {
    let mut out = source.to_owned();
    while let Some(at) = out.find("#[cfg(test)]") {
        let after = &out[at..];
        let Some(open) = after.find('{') else { break };
        let semicolon = after.find(';').unwrap_or(usize::MAX);
        let end = if semicolon < open {
            at + semicolon + 1
        } else {
            at + open + matching_brace(&after[open..]).unwrap_or(after.len() - open)
        };
        out.replace_range(at..end.min(out.len()), "");
    }
    out
}

/// Offset just past the brace closing the one `text` starts with.
fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

fn snake_to_pascal(name: &str) -> String {
    name.split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect()
}

/// The IAM actions an SDK operation needs (S3 names several operations by another action).
fn iam_actions(service: &str, operation: &str) -> Vec<String> {
    let prefix = match service {
        "aws-sdk-s3" => "s3",
        "aws-sdk-sns" => "sns",
        "aws-sdk-sqs" => "sqs",
        "aws-sdk-dynamodb" => "dynamodb",
        "aws-sdk-ecs" => "ecs",
        "aws-sdk-lambda" => "lambda",
        other => other.trim_start_matches("aws-sdk-"),
    };
    let actions: &[&str] = match (prefix, operation) {
        ("s3", "head_object") => &["s3:GetObject"],
        ("s3", "list_objects_v2") => &["s3:ListBucket"],
        ("s3", "list_object_versions") => &["s3:ListBucketVersions"],
        ("s3", "delete_objects") => &["s3:DeleteObject"],
        ("s3", "create_multipart_upload" | "upload_part" | "complete_multipart_upload") => {
            &["s3:PutObject"]
        }
        // The copy carries the source's tags (TaggingDirective COPY).
        ("s3", "copy_object") => &[
            "s3:GetObject",
            "s3:PutObject",
            "s3:GetObjectTagging",
            "s3:PutObjectTagging",
        ],
        ("lambda", "invoke") => &["lambda:InvokeFunction"],
        ("ecs", "run_task") => &["ecs:RunTask", "iam:PassRole"],
        ("sqs", "send_message_batch") => &["sqs:SendMessage"],
        _ => &[],
    };
    if actions.is_empty() {
        vec![format!("{prefix}:{}", snake_to_pascal(operation))]
    } else {
        actions.iter().map(|action| (*action).to_owned()).collect()
    }
}

/// The workspace's packages as built on this machine (other platforms' dependencies, which
/// were never downloaded, left out).
fn cargo_metadata(root: &Path) -> Value {
    let rustc = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc names its host");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata JSON")
}

fn sdk_operations(manifest: &str) -> BTreeSet<String> {
    let dir = Path::new(manifest)
        .parent()
        .expect("crate dir")
        .join("src/operation");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .flatten()
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect()
}

/// The regex of a call of any configuration helper, the helpers found in their source.
fn env_read_call(root: &Path) -> Regex {
    let helpers =
        strip(&std::fs::read_to_string(root.join(ENV_HELPER_FILE)).expect("config helper source"));
    let impl_env = Regex::new(r"impl<[^{]*> Env<F> \{").expect("regex");
    let mut names = BTreeSet::new();
    for found in impl_env.find_iter(&helpers) {
        let block = &helpers[found.end() - 1..];
        let block = &block[..matching_brace(block).unwrap_or(block.len())];
        names.extend(
            FN_ITEM
                .captures_iter(block)
                .map(|function| function[1].to_owned()),
        );
    }
    assert!(
        names.contains("required"),
        "no configuration helpers found in {ENV_HELPER_FILE}"
    );
    Regex::new(&format!(
        r#"\.({})(?:::<[^>]*>)?\([ \t\r\n]*([A-Z][A-Z0-9_]*|"[^"]*")"#,
        names.into_iter().collect::<Vec<_>>().join("|")
    ))
    .expect("regex")
}

impl Workspace {
    pub fn load(root: &Path) -> Self {
        let metadata = cargo_metadata(root);
        let members: BTreeSet<&str> = metadata["workspace_members"]
            .as_array()
            .expect("members")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let packages = metadata["packages"].as_array().expect("packages");
        let sdk_manifests: HashMap<&str, &str> = packages
            .iter()
            .filter_map(|package| {
                let name = package["name"].as_str()?;
                name.starts_with("aws-sdk-")
                    .then_some((name, package["manifest_path"].as_str()?))
            })
            .collect();
        let mut workspace = Workspace {
            items: HashMap::new(),
            all: Vec::new(),
            visible: HashMap::new(),
            services: HashMap::new(),
            env_read: env_read_call(root),
            binaries: HashMap::new(),
            declared: HashMap::new(),
            external: BTreeSet::new(),
        };
        let member_packages: Vec<&Value> = packages
            .iter()
            .filter(|package| {
                package["id"]
                    .as_str()
                    .is_some_and(|id| members.contains(id))
            })
            .collect();
        let member_names: BTreeSet<&str> = member_packages
            .iter()
            .filter_map(|package| package["name"].as_str())
            .collect();
        for package in member_packages {
            // Crates are named in code with underscores.
            let name = package["name"].as_str().expect("name").replace('-', "_");
            let deps: Vec<&str> = package["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|dep| dep["kind"].is_null())
                .filter_map(|dep| dep["name"].as_str())
                .collect();
            let mut visible: BTreeSet<String> = deps
                .iter()
                .filter(|dep| member_names.contains(*dep))
                .map(|dep| dep.replace('-', "_"))
                .collect();
            workspace.external.extend(
                deps.iter()
                    .filter(|dep| !member_names.contains(*dep))
                    .map(|dep| dep.replace('-', "_")),
            );
            visible.insert(name.clone());
            workspace.visible.insert(name.clone(), visible);
            workspace.services.insert(
                name.clone(),
                deps.iter()
                    .filter_map(|dep| {
                        sdk_manifests
                            .get(dep)
                            .map(|manifest| ((*dep).to_owned(), sdk_operations(manifest)))
                    })
                    .collect(),
            );
            for target in package["targets"].as_array().expect("targets") {
                let is_bin = target["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|kind| kind == "bin"));
                if is_bin {
                    if let Some(bin) = target["name"].as_str() {
                        workspace.binaries.insert(bin.to_owned(), name.clone());
                    }
                }
            }
            let manifest = package["manifest_path"].as_str().expect("manifest");
            let src = Path::new(manifest).parent().expect("dir").join("src");
            let mut files = Vec::new();
            rust_files(&src, &mut files);
            for file in files {
                let source = std::fs::read_to_string(&file).expect("source");
                // The module a file holds, as a path names it (`step::run`): its stem, or
                // its folder's name for a mod.rs.
                let stem = file
                    .file_stem()
                    .and_then(|stem| stem.to_str())
                    .unwrap_or("");
                let module = match stem {
                    "mod" => file
                        .parent()
                        .and_then(|dir| dir.file_name())
                        .and_then(|dir| dir.to_str())
                        .unwrap_or(""),
                    other => other,
                };
                workspace.add_items(&name, module, &without_tests(&strip(&source)));
            }
        }
        workspace
    }

    fn add_items(&mut self, crate_name: &str, module: &str, source: &str) {
        let impl_blocks: Vec<(usize, usize, String, bool)> = IMPL_BLOCK
            .captures_iter(source)
            .filter_map(|block| {
                let header = block.get(0)?;
                let body = &source[header.end() - 1..];
                let end = header.end() - 1 + matching_brace(body)?;
                let of_trait = block[1].contains(" for ");
                Some((header.start(), end, implemented_type(&block[1])?, of_trait))
            })
            .collect();
        for function in FN_ITEM.captures_iter(source) {
            let whole = function.get(0).expect("match");
            let after = &source[whole.end()..];
            let open = after.find('{');
            let semicolon = after.find(';');
            let Some(open) = open.filter(|open| semicolon.is_none_or(|semi| *open < semi)) else {
                self.declared
                    .entry(function[1].to_owned())
                    .or_default()
                    .insert(crate_name.to_owned());
                continue;
            };
            let takes_self = SELF_PARAMETER.is_match(&after[..open]);
            let body = &after[open..];
            let body = &body[..matching_brace(body).unwrap_or(body.len())];
            let at = whole.start();
            let block = impl_blocks
                .iter()
                .filter(|(start, end, _, _)| *start < at && at < *end)
                .max_by_key(|(start, _, _, _)| *start);
            let owner = block.map(|(_, _, owner, _)| owner.clone());
            let exported =
                block.is_some_and(|(_, _, _, of_trait)| *of_trait) || declared_pub(&source[..at]);
            self.push(
                &function[1],
                (crate_name, module),
                owner,
                body.to_owned(),
                (false, exported, takes_self),
            );
        }
        for constant in CONST_ITEM.captures_iter(source) {
            self.push(
                &constant[1],
                (crate_name, module),
                None,
                constant[2].to_owned(),
                (true, true, false),
            );
        }
    }

    fn push(
        &mut self,
        name: &str,
        (crate_name, module): (&str, &str),
        owner: Option<String>,
        text: String,
        (is_const, exported, takes_self): (bool, bool, bool),
    ) {
        self.items
            .entry(name.to_owned())
            .or_default()
            .push(self.all.len());
        self.all.push(Item {
            name: name.to_owned(),
            crate_name: crate_name.to_owned(),
            module: module.to_owned(),
            owner,
            text,
            is_const,
            exported,
            takes_self,
        });
    }

    /// The `TRIAGE_*` name a token stands for in `crate_name`: a literal, or a constant of
    /// that crate or of one it may name.
    fn variable_named(&self, token: &str, crate_name: &str) -> Vec<String> {
        let literal = token.trim_matches('"');
        if token.starts_with('"') {
            return ENV_LITERAL
                .is_match(literal)
                .then(|| literal.to_owned())
                .into_iter()
                .collect();
        }
        let names_variable = |index: &&usize| {
            let item = &self.all[**index];
            item.is_const && ENV_LITERAL.is_match(&item.text)
        };
        let candidates = self.items.get(token).map(Vec::as_slice).unwrap_or_default();
        let visible = &self.visible[crate_name];
        // The crate's own constant of that name if it names a variable (a crate may also have
        // an unrelated constant of the same name), else one of a crate it may name.
        let own: Vec<&usize> = candidates
            .iter()
            .filter(|index| self.all[**index].crate_name == crate_name)
            .filter(names_variable)
            .collect();
        let found = if own.is_empty() {
            candidates
                .iter()
                .filter(|index| visible.contains(&self.all[**index].crate_name))
                .filter(names_variable)
                .collect()
        } else {
            own
        };
        found
            .into_iter()
            .map(|index| self.all[*index].text.clone())
            .collect()
    }

    /// The items a name used in `crate_name` may stand for: that crate's own when it defines
    /// the name (a local `from_env` is not another crate's), else those of the crates it may
    /// name.
    fn resolve(&self, name: &str, crate_name: &str) -> Vec<usize> {
        let candidates = self.items.get(name).map(Vec::as_slice).unwrap_or_default();
        let own: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|index| self.all[*index].crate_name == crate_name)
            .collect();
        if !own.is_empty() {
            return own;
        }
        candidates
            .iter()
            .copied()
            .filter(|index| self.nameable(&self.all[*index], crate_name))
            .collect()
    }

    /// Whether code in `crate_name` can name `target`: its own, or exported by a crate it
    /// depends on.
    fn nameable(&self, target: &Item, crate_name: &str) -> bool {
        target.crate_name == crate_name
            || (target.exported && self.visible[crate_name].contains(&target.crate_name))
    }

    /// The workspace crates linked into a binary whose crate is `root`.
    fn linked(&self, root: &str) -> BTreeSet<String> {
        let mut linked = BTreeSet::from([root.to_owned()]);
        let mut queue = vec![root.to_owned()];
        while let Some(name) = queue.pop() {
            for dependency in self.visible.get(&name).into_iter().flatten() {
                if linked.insert(dependency.clone()) {
                    queue.push(dependency.clone());
                }
            }
        }
        linked
    }

    /// The implementations, among the crates `linked` into the binary, of `name` when it is a
    /// trait method declared in a crate `crate_name` may name.
    fn implementations(
        &self,
        name: &str,
        crate_name: &str,
        linked: &BTreeSet<String>,
    ) -> Vec<usize> {
        let visible = &self.visible[crate_name];
        let is_trait_method = self
            .declared
            .get(name)
            .is_some_and(|crates| crates.iter().any(|declaring| visible.contains(declaring)));
        if !is_trait_method {
            return Vec::new();
        }
        self.items
            .get(name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|index| linked.contains(&self.all[*index].crate_name))
            .collect()
    }

    /// Everything reachable from the binary's crate, by name.
    pub fn facts(&self, binary: &str) -> CodeFacts {
        let root_crate = &self.binaries[binary];
        let linked = self.linked(root_crate);
        let mut queue: Vec<usize> = (0..self.all.len())
            .filter(|index| &self.all[*index].crate_name == root_crate)
            .collect();
        let mut seen: BTreeSet<usize> = queue.iter().copied().collect();
        let mut parent: HashMap<usize, usize> = HashMap::new();
        let label =
            |index: usize| format!("{}::{}", self.all[index].crate_name, self.all[index].name);
        let chain = |mut index: usize, parent: &HashMap<usize, usize>| {
            let mut names = vec![label(index)];
            while let Some(up) = parent.get(&index) {
                index = *up;
                names.push(label(index));
            }
            names.reverse();
            names.join(" > ")
        };
        let mut facts = CodeFacts::default();
        while let Some(index) = queue.pop() {
            let item = &self.all[index];
            if item.is_const {
                continue;
            }
            for call in self.env_read.captures_iter(&item.text) {
                facts
                    .reads
                    .extend(self.variable_named(&call[2], &item.crate_name));
            }
            for call in PASSED_NAME.captures_iter(&item.text) {
                facts
                    .passes
                    .extend(self.variable_named(&call[1], &item.crate_name));
            }
            // Names inside string literals are text, not calls.
            let code = STRING_LITERAL.replace_all(&item.text, "\"\"");
            for call in SDK_CALL.captures_iter(&code) {
                for (service, operations) in &self.services[&item.crate_name] {
                    if operations.contains(&call[1]) {
                        for action in iam_actions(service, &call[1]) {
                            facts
                                .actions
                                .entry(action)
                                .or_insert_with(|| chain(index, &parent));
                        }
                    }
                }
            }
            for token in IDENT.find_iter(&code) {
                // `isolate::run(..)` names a module, not the function `isolate`.
                if code[token.end()..].starts_with("::") {
                    continue;
                }
                // `std::io::copy(..)` and `serde_json::from_str(..)` are the standard library's
                // and a dependency's, whatever we named alike.
                if in_external_crate(&code[..token.start()], &self.external) {
                    continue;
                }
                let mut targets = self.resolve(token.as_str(), &item.crate_name);
                targets.extend(self.implementations(token.as_str(), &item.crate_name, &linked));
                // `Recorder::claim` is `Recorder`'s, `step::run` the one of a module `step`,
                // whichever crate has it.
                let qualifier = code[..token.start()]
                    .strip_suffix("::")
                    .and_then(|path| IDENT.find_iter(path).last())
                    .map(|ident| ident.as_str())
                    .filter(|ident| !matches!(*ident, "self" | "super" | "crate"));
                if let Some(qualifier) = qualifier {
                    let qualified: Vec<usize> = self
                        .items
                        .get(token.as_str())
                        .into_iter()
                        .flatten()
                        .copied()
                        .filter(|index| {
                            let target = &self.all[*index];
                            if qualifier.starts_with(char::is_uppercase) {
                                target.owner.as_deref() == Some(qualifier)
                            } else {
                                target.module == qualifier
                                    && self.nameable(target, &item.crate_name)
                            }
                        })
                        .collect();
                    if !qualified.is_empty() {
                        targets = qualified;
                    }
                }
                // A method is reached by `.name(` or `Type::name`; a bare `item` is a variable,
                // and `.name` with no call (`self.scan.update(..)`) a field.
                let before = code[..token.start()].trim_end();
                let after = code[token.end()..].trim_start();
                if before.ends_with('.') && !after.starts_with('(') && !after.starts_with("::") {
                    continue;
                }
                let as_method = before.ends_with('.') || before.ends_with("::");
                targets.retain(|target| as_method || !self.all[*target].takes_self);
                for next in targets {
                    if seen.insert(next) {
                        parent.insert(next, index);
                        queue.push(next);
                    }
                }
            }
        }
        facts
    }
}

/// Whether the path just before an identifier (`... std::io::`) starts in the standard library.
fn in_external_crate(before: &str, external: &BTreeSet<String>) -> bool {
    let mut rest = before;
    let mut first = None;
    while let Some(path) = rest.strip_suffix("::") {
        let start = path
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |at| at + 1);
        first = Some(&path[start..]);
        rest = &path[..start];
    }
    first.is_some_and(|first| matches!(first, "std" | "core" | "alloc") || external.contains(first))
}

//! Terraform and the code agree: every environment variable a deployed binary reads is set on
//! its function or task, every AWS action its code calls is allowed by its role, and its role
//! allows nothing else beyond what running on its platform needs (logs, tracing, the
//! deployment key, its event source). Both sides are derived, not listed by hand: the code
//! side from the workspace's source (function-level reachability from each binary's crate,
//! SDK operations from the SDK crates' own operation lists), the terraform side from the
//! applied state of `envs/local` (`terraform show -json`).

use regex::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

/// Configuration helper methods (`notifications::config::Env`) whose first argument names the
/// variable they read; found in the source so a new helper is covered too.
const ENV_HELPER_FILE: &str = "notifications/src/config.rs";

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
    /// The type whose `impl` block holds the function (`Recorder` for `Recorder::claim`).
    owner: Option<String>,
    /// Body text of a function; a constant's value.
    text: String,
    is_const: bool,
}

struct Workspace {
    /// Items by name (several crates may define one name).
    items: HashMap<String, Vec<usize>>,
    all: Vec<Item>,
    /// Workspace crates each crate may name (itself and its direct workspace dependencies).
    visible: HashMap<String, BTreeSet<String>>,
    /// SDK services each crate depends on directly, with their operations (snake_case).
    services: HashMap<String, Vec<(String, BTreeSet<String>)>>,
    /// A call of a configuration helper (`notifications::config::Env`), capturing the
    /// variable's name or the constant naming it.
    env_read: Regex,
    /// The crate each binary target belongs to.
    binaries: HashMap<String, String>,
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
        ("s3", "create_multipart_upload" | "upload_part" | "complete_multipart_upload") => {
            &["s3:PutObject"]
        }
        ("s3", "copy_object") => &["s3:GetObject", "s3:PutObject"],
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
    fn load(root: &Path) -> Self {
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
                workspace.add_items(&name, &without_tests(&strip(&source)));
            }
        }
        workspace
    }

    fn add_items(&mut self, crate_name: &str, source: &str) {
        let impl_blocks: Vec<(usize, usize, String)> = IMPL_BLOCK
            .captures_iter(source)
            .filter_map(|block| {
                let header = block.get(0)?;
                let body = &source[header.end() - 1..];
                let end = header.end() - 1 + matching_brace(body)?;
                Some((header.start(), end, implemented_type(&block[1])?))
            })
            .collect();
        for function in FN_ITEM.captures_iter(source) {
            let whole = function.get(0).expect("match");
            let after = &source[whole.end()..];
            let open = after.find('{');
            let semicolon = after.find(';');
            let Some(open) = open.filter(|open| semicolon.is_none_or(|semi| *open < semi)) else {
                continue; // a declaration without a body
            };
            let body = &after[open..];
            let body = &body[..matching_brace(body).unwrap_or(body.len())];
            let at = whole.start();
            let owner = impl_blocks
                .iter()
                .filter(|(start, end, _)| *start < at && at < *end)
                .max_by_key(|(start, _, _)| *start)
                .map(|(_, _, owner)| owner.clone());
            self.push(&function[1], crate_name, owner, body.to_owned(), false);
        }
        for constant in CONST_ITEM.captures_iter(source) {
            self.push(&constant[1], crate_name, None, constant[2].to_owned(), true);
        }
    }

    fn push(
        &mut self,
        name: &str,
        crate_name: &str,
        owner: Option<String>,
        text: String,
        is_const: bool,
    ) {
        self.items
            .entry(name.to_owned())
            .or_default()
            .push(self.all.len());
        self.all.push(Item {
            name: name.to_owned(),
            crate_name: crate_name.to_owned(),
            owner,
            text,
            is_const,
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
        self.resolve(token, crate_name)
            .into_iter()
            .map(|index| &self.all[index])
            .filter(|item| item.is_const && ENV_LITERAL.is_match(&item.text))
            .map(|item| item.text.clone())
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
        let visible = &self.visible[crate_name];
        candidates
            .iter()
            .copied()
            .filter(|index| visible.contains(&self.all[*index].crate_name))
            .collect()
    }

    /// Everything reachable from the binary's crate, by name.
    fn facts(&self, binary: &str) -> CodeFacts {
        let root_crate = &self.binaries[binary];
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
                let qualifier = code[..token.start()]
                    .strip_suffix("::")
                    .and_then(|path| IDENT.find_iter(path).last())
                    .map(|ident| ident.as_str())
                    .filter(|ident| ident.starts_with(char::is_uppercase));
                let mut targets = self.resolve(token.as_str(), &item.crate_name);
                if let Some(owner) = qualifier {
                    let owned: Vec<usize> = self
                        .items
                        .get(token.as_str())
                        .into_iter()
                        .flatten()
                        .copied()
                        .filter(|index| self.all[*index].owner.as_deref() == Some(owner))
                        .collect();
                    if !owned.is_empty() {
                        targets = owned;
                    }
                }
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

/// One function or task as terraform deployed it.
#[derive(Debug)]
struct Deployed {
    name: String,
    binary: String,
    variables: BTreeMap<String, String>,
    /// Allowed actions (patterns such as `s3:Get*` kept as written).
    allowed: BTreeSet<String>,
    /// Actions its platform needs whatever the code does.
    platform: BTreeSet<String>,
}

fn terraform_state(root: &Path, state: &Path) -> Value {
    let output = Command::new(root.join("scripts/terraform.sh"))
        .arg(format!(
            "-chdir={}",
            root.join("terraform/envs/local").display()
        ))
        .args(["show", "-json"])
        .arg(state)
        .output()
        .expect("terraform show runs");
    assert!(
        output.status.success(),
        "terraform show: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("state JSON")
}

fn resources(module: &Value, found: &mut Vec<Value>) {
    for resource in module["resources"].as_array().into_iter().flatten() {
        found.push(resource.clone());
    }
    for child in module["child_modules"].as_array().into_iter().flatten() {
        resources(child, found);
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

fn policy_actions(policy: &str) -> BTreeSet<String> {
    let policy: Value = serde_json::from_str(policy).expect("policy JSON");
    policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|statement| statement["Effect"] == "Allow")
        .flat_map(|statement| strings(&statement["Action"]))
        .collect()
}

fn deployed(state: &Value) -> Vec<Deployed> {
    let mut all = Vec::new();
    resources(&state["values"]["root_module"], &mut all);
    let of_type = |kind: &str| -> Vec<&Value> {
        all.iter()
            .filter(|resource| resource["type"] == kind)
            .map(|resource| &resource["values"])
            .collect()
    };
    let role_policies: HashMap<String, BTreeSet<String>> = of_type("aws_iam_role_policy")
        .into_iter()
        .filter_map(|policy| {
            Some((
                policy["role"].as_str()?.to_owned(),
                policy_actions(policy["policy"].as_str()?),
            ))
        })
        .fold(HashMap::new(), |mut roles, (role, actions)| {
            roles.entry(role).or_default().extend(actions);
            roles
        });
    let role_name = |arn: &str| arn.rsplit('/').next().unwrap_or(arn).to_owned();
    let fed_by_queue: BTreeSet<String> = of_type("aws_lambda_event_source_mapping")
        .into_iter()
        .filter_map(|mapping| mapping["function_name"].as_str())
        .map(|arn| arn.rsplit(':').next().unwrap_or(arn).to_owned())
        .collect();
    let with_destination: BTreeSet<String> = of_type("aws_lambda_function_event_invoke_config")
        .into_iter()
        .filter(|config| {
            !config["destination_config"]
                .as_array()
                .is_none_or(Vec::is_empty)
        })
        .filter_map(|config| config["function_name"].as_str().map(str::to_owned))
        .collect();
    let mut units = Vec::new();
    for function in of_type("aws_lambda_function") {
        let name = function["function_name"].as_str().expect("name").to_owned();
        let mut platform: BTreeSet<String> = [
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "kms:Decrypt",
            "kms:GenerateDataKey",
        ]
        .map(str::to_owned)
        .into();
        if fed_by_queue.contains(&name) {
            platform.extend(
                [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ChangeMessageVisibility",
                ]
                .map(str::to_owned),
            );
        }
        if with_destination.contains(&name) {
            platform.insert("sqs:SendMessage".into());
        }
        units.push(Deployed {
            binary: function["tags"]["s3-triage:binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} has no s3-triage:binary tag"))
                .to_owned(),
            variables: function["environment"][0]["variables"]
                .as_object()
                .map(|variables| {
                    variables
                        .iter()
                        .map(|(name, value)| {
                            (name.clone(), value.as_str().unwrap_or_default().to_owned())
                        })
                        .collect()
                })
                .unwrap_or_default(),
            allowed: role_policies
                .get(&role_name(function["role"].as_str().expect("role")))
                .cloned()
                .unwrap_or_default(),
            platform,
            name,
        });
    }
    for task in of_type("aws_ecs_task_definition") {
        let containers: Value = serde_json::from_str(
            task["container_definitions"]
                .as_str()
                .expect("container definitions"),
        )
        .expect("containers JSON");
        for container in containers.as_array().into_iter().flatten() {
            units.push(Deployed {
                name: format!(
                    "{}/{}",
                    task["family"].as_str().unwrap_or("task"),
                    container["name"].as_str().unwrap_or("container")
                ),
                binary: container["dockerLabels"]["s3-triage:binary"]
                    .as_str()
                    .expect("s3-triage:binary label")
                    .to_owned(),
                variables: container["environment"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|pair| {
                        Some((
                            pair["name"].as_str()?.to_owned(),
                            pair["value"].as_str().unwrap_or_default().to_owned(),
                        ))
                    })
                    .collect(),
                allowed: role_policies
                    .get(&role_name(
                        task["task_role_arn"].as_str().expect("task role"),
                    ))
                    .cloned()
                    .unwrap_or_default(),
                platform: ["kms:Decrypt", "kms:GenerateDataKey"]
                    .map(str::to_owned)
                    .into(),
            });
        }
    }
    units
}

/// Actions the code calls only when a setting turns them on, which terraform grants only then:
/// (action, variable, whether its value turns the action on).
type Enabled = fn(&str) -> bool;
const GATED: &[(&str, &str, Enabled)] = &[
    // Quarantine deletes the upload only in move mode.
    ("s3:DeleteObject", "TRIAGE_QUARANTINE", |mode| {
        mode == "move"
    }),
    // Only a binary given a signature location lists it.
    ("s3:ListBucket", "TRIAGE_SIGNATURES_URI", |uri| {
        !uri.trim().is_empty()
    }),
];

/// Whether an IAM action pattern (`s3:Get*`) matches an action.
fn allows(pattern: &str, action: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => action
            .to_ascii_lowercase()
            .starts_with(&prefix.to_ascii_lowercase()),
        None => pattern.eq_ignore_ascii_case(action),
    }
}

/// Actions that come with one the code calls on a versioned bucket: reading, tagging or
/// deleting a specific version is a separate action.
fn with_version_variants(actions: &BTreeSet<String>) -> BTreeSet<String> {
    let mut all = actions.clone();
    for (base, version) in [
        ("s3:GetObject", "s3:GetObjectVersion"),
        ("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
        ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    ] {
        if actions.contains(base) {
            all.insert(version.to_owned());
        }
    }
    all
}

/// Every mismatch between the code and the applied terraform, one line each.
pub fn mismatches(root: &Path, state_file: &Path) -> (Vec<String>, String) {
    let workspace = Workspace::load(root);
    let units = deployed(&terraform_state(root, state_file));
    let mut problems = Vec::new();
    let mut summary = String::new();
    let binaries: BTreeSet<&str> = units.iter().map(|unit| unit.binary.as_str()).collect();
    let facts_by_binary: BTreeMap<&str, CodeFacts> = binaries
        .iter()
        .map(|binary| (*binary, workspace.facts(binary)))
        .collect();
    // Variables a binary hands to the processes it starts (the router's RunTask overrides).
    let passed: BTreeSet<&String> = facts_by_binary
        .values()
        .flat_map(|facts| &facts.passes)
        .collect();
    for unit in &units {
        let facts = &facts_by_binary[unit.binary.as_str()];
        summary.push_str(&format!(
            "{} ({}): reads {:?}; calls {:?}\n",
            unit.name,
            unit.binary,
            facts.reads,
            facts.actions.keys().collect::<Vec<_>>()
        ));
        for variable in &facts.reads {
            if !unit.variables.contains_key(variable) && !passed.contains(variable) {
                problems.push(format!(
                    "{}: the {} binary reads {variable}, which terraform does not set",
                    unit.name, unit.binary
                ));
            }
        }
        for variable in unit
            .variables
            .keys()
            .filter(|variable| variable.starts_with("TRIAGE_"))
        {
            if !facts.reads.contains(variable) {
                problems.push(format!(
                    "{}: terraform sets {variable}, which the {} binary never reads",
                    unit.name, unit.binary
                ));
            }
        }
        for (action, chain) in &facts.actions {
            let gated_off = GATED.iter().any(|(gated, variable, enabled)| {
                gated == action
                    && !enabled(unit.variables.get(*variable).map_or("", String::as_str))
            });
            if !gated_off && !unit.allowed.iter().any(|pattern| allows(pattern, action)) {
                problems.push(format!(
                    "{}: the {} binary calls {action}, which its role does not allow ({chain})",
                    unit.name, unit.binary
                ));
            }
        }
        let needed = with_version_variants(&facts.actions.keys().cloned().collect());
        for pattern in &unit.allowed {
            let used = needed
                .iter()
                .chain(&unit.platform)
                .any(|action| allows(pattern, action));
            if !used {
                problems.push(format!(
                    "{}: its role allows {pattern}, which neither the {} binary nor its platform uses",
                    unit.name, unit.binary
                ));
            }
        }
    }
    for expected in [
        "router",
        "thumbnail",
        "extractor",
        "compliance-checker",
        "large-file",
    ] {
        if !binaries.contains(expected) {
            problems.push(format!("no function or task runs the {expected} binary"));
        }
    }
    (problems, summary)
}

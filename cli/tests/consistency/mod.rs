//! Terraform and the code agree: every environment variable a deployed binary reads is set on
//! its function or task, every AWS action its code calls is allowed by its role, and its role
//! allows nothing else beyond what running on its platform needs (logs, tracing, the
//! deployment key, its event source). Both sides are derived, not listed by hand: the code
//! side from the workspace's source (function-level reachability from each binary's crate,
//! SDK operations from the SDK crates' own operation lists), the terraform side from the
//! applied state of `envs/local` (`terraform show -json`). [`sizing`] checks that the limits
//! add up, in that state and in every environment's values.

mod code;
pub mod sizing;
pub mod terraform;

use code::{CodeFacts, Workspace};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use terraform::{deployed, terraform_state};

/// Actions the code calls only when a setting turns them on, which terraform grants only then:
/// (action, variable, whether its value turns the action on).
type Enabled = fn(&str) -> bool;
const GATED: &[(&str, &str, Enabled)] = &[
    // Quarantine deletes the upload only in move mode.
    ("s3:DeleteObject", "TRIAGE_QUARANTINE", |mode| {
        mode == "move"
    }),
    // Only a binary given a signature location lists it (the router lists the uploads'
    // versions whatever it is given, and reads no such variable).
    ("s3:ListBucketVersions", "TRIAGE_SIGNATURES_URI", |uri| {
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
        ("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
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
                    && facts.reads.contains(*variable)
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
        "sweeper",
        "canary",
    ] {
        if !binaries.contains(expected) {
            problems.push(format!("no function or task runs the {expected} binary"));
        }
    }
    (problems, summary)
}

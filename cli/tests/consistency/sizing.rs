//! Limits that add up. Each function's settings must agree with each other and with what its
//! code does with them, or the failure is the worst kind: messages in a DLQ with no record.
//! The relations, for every queue-fed function and the thumbnail worker:
//! - the batch's work fits the timeout: every item of a batch, `concurrency` at a time, its
//!   work deadline plus its transfers, plus recording (the workers start an item only when it
//!   can finish, so an item that does not fit is handed back, received again, and after
//!   maxReceiveCount lands in the DLQ unprocessed);
//! - the concurrent items fit the memory: each item's parser child (its address space), its
//!   input and its parser's answer, plus the runtime;
//! - visibility timeout = 6 x timeout + batching window, claim lease between the timeout and
//!   the visibility timeout, event-source maximum concurrency within reserved concurrency.
//!
//! Checked on what `envs/local` applied (the wiring: each resource carries the value derived
//! for it) and on `modules/sizing` evaluated with every environment's tfvars.

use super::terraform::{all_resources, values_of};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use worker_common::deadline::RECORDING;

/// The Lambda runtime and the binary itself, besides the items.
const RUNTIME_MB: u64 = 128;
/// When Lambda makes the last retry of a failed async invocation: a minute after the first
/// attempt, then two more.
const LAST_ASYNC_RETRY_SECONDS: u64 = 60 + 120;
const MIB: u64 = 1 << 20;

/// One function's sizing, as `modules/sizing` outputs it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Sizing {
    pub memory_size: u64,
    pub timeout_seconds: u64,
    pub reserved_concurrency: u64,
    pub batch_size: u64,
    pub batching_window_seconds: u64,
    pub concurrency: u64,
    pub work_timeout_seconds: u64,
    pub work_memory_mb: u64,
    pub max_input_bytes: u64,
    pub queue_visibility_seconds: Option<u64>,
    pub maximum_concurrency: Option<u64>,
    pub claim_lease_seconds: u64,
}

/// What one item needs besides its work, by function: transfers as each worker reserves them.
fn transfer(function: &str) -> Duration {
    match function {
        "thumbnail" => thumbnail::handler::TRANSFER,
        "extractor" => extractor::config::TRANSFER,
        "compliance" => compliance::config::TRANSFER,
        _ => Duration::ZERO,
    }
}

/// Every relation `sizing` of `function` breaks, each naming the relation and its numbers.
/// `max_pixels` is the thumbnail worker's pixel budget (what its decode may allocate follows).
pub fn broken(function: &str, sizing: &Sizing, max_pixels: u64) -> Vec<String> {
    let s = sizing;
    let mut problems = Vec::new();
    let queue_fed = s.batch_size > 0;
    if queue_fed {
        let wanted = 6 * s.timeout_seconds + s.batching_window_seconds;
        match s.queue_visibility_seconds {
            Some(visibility) if visibility >= wanted => {}
            visibility => problems.push(format!(
                "{function}: the queue's visibility timeout must be at least 6 x timeout_seconds ({}) + batching window ({}) = {wanted} s, is {visibility:?}",
                s.timeout_seconds, s.batching_window_seconds
            )),
        }
        let visibility = s.queue_visibility_seconds.unwrap_or(0);
        if s.claim_lease_seconds >= visibility {
            problems.push(format!(
                "{function}: the claim lease ({} s) must end before the message comes back (visibility timeout {visibility} s)",
                s.claim_lease_seconds
            ));
        }
        if s.reserved_concurrency < 2 {
            problems.push(format!(
                "{function}: a queue-fed function needs reserved_concurrency of at least 2 (Lambda's SQS pollers cannot be held below 2), is {}",
                s.reserved_concurrency
            ));
        }
        match s.maximum_concurrency {
            Some(pollers) if pollers <= s.reserved_concurrency => {}
            pollers => problems.push(format!(
                "{function}: the event source's maximum concurrency ({pollers:?}) must be set and at most reserved_concurrency ({}), or a burst is throttled into the DLQ",
                s.reserved_concurrency
            )),
        }
    }
    // A function that records nothing (the canary) holds no claims.
    let claims = s.claim_lease_seconds > 0;
    // An invoked function that died holding a claim is taken over by a retry only once the
    // claim has expired: the last retry must come after that.
    if claims && !queue_fed && s.claim_lease_seconds >= LAST_ASYNC_RETRY_SECONDS {
        problems.push(format!(
            "{function}: the claim lease ({} s) must end before Lambda's last async retry ({LAST_ASYNC_RETRY_SECONDS} s after the first attempt), or an invocation that died holding it ends in the DLQ",
            s.claim_lease_seconds
        ));
    }
    if claims && s.claim_lease_seconds < s.timeout_seconds {
        problems.push(format!(
            "{function}: the claim lease ({} s) must outlive the invocation (timeout_seconds {})",
            s.claim_lease_seconds, s.timeout_seconds
        ));
    }
    if s.work_timeout_seconds > 0 {
        let concurrency = s.concurrency.max(1);
        let rounds = s.batch_size.max(1).div_ceil(concurrency);
        let transfer = transfer(function).as_secs();
        let needed = rounds * (s.work_timeout_seconds + transfer) + RECORDING.as_secs();
        if needed > s.timeout_seconds {
            problems.push(format!(
                "{function}: the batch's work must fit the function timeout: ceil(batch_size {} / concurrency {concurrency}) x (work_timeout_seconds {} + {transfer} s transfer) + {} s recording = {needed} s > timeout_seconds {}",
                s.batch_size.max(1), s.work_timeout_seconds, RECORDING.as_secs(), s.timeout_seconds
            ));
        }
    }
    let per_item_mb = match function {
        "thumbnail" => {
            Some((thumbnail::decode::decode_memory(max_pixels) + s.max_input_bytes).div_ceil(MIB))
        }
        "extractor" | "compliance" => {
            let answer = extractor::isolate::Limits::new(0, Duration::ZERO).max_output_bytes;
            Some(s.work_memory_mb + (s.max_input_bytes + answer).div_ceil(MIB))
        }
        _ => None,
    };
    if let Some(per_item) = per_item_mb {
        let needed = s.concurrency.max(1) * per_item + RUNTIME_MB;
        if needed > s.memory_size {
            problems.push(format!(
                "{function}: the concurrent items must fit the memory: concurrency {} x {per_item} MB per item (work_memory_mb {}, input and answer) + {RUNTIME_MB} MB runtime = {needed} MB > memory_size {}",
                s.concurrency.max(1), s.work_memory_mb, s.memory_size
            ));
        }
    }
    problems
}

/// `modules/sizing` evaluated with `tfvars` (every environment's file; undeclared variables
/// are only warned about), or with its defaults.
pub fn evaluated(root: &Path, tfvars: Option<&Path>) -> BTreeMap<String, Sizing> {
    let data_dir = tempfile_dir();
    let mut console = Command::new(root.join("scripts/terraform.sh"));
    console
        .arg(format!(
            "-chdir={}",
            root.join("terraform/modules/sizing").display()
        ))
        .args(["console", "-no-color"])
        // A state of its own: the console locks its state, and the tests evaluate at once.
        .arg(format!(
            "-state={}",
            data_dir.join("terraform.tfstate").display()
        ))
        .env("TF_DATA_DIR", &data_dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(tfvars) = tfvars {
        console.arg(format!("-var-file={}", tfvars.display()));
    }
    let mut child = console.spawn().expect("terraform console runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"jsonencode(local.functions)\n")
            .expect("expression written");
    }
    let output = child.wait_with_output().expect("terraform console ends");
    let _ = std::fs::remove_dir_all(&data_dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "terraform console over modules/sizing with {tfvars:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Warnings come first; the value is the last line, a quoted JSON string.
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.starts_with('"'))
        .unwrap_or_else(|| panic!("no value in {stdout}"));
    let json: String = serde_json::from_str(line).expect("a quoted string");
    serde_json::from_str(&json).expect("the sizing of every function")
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(testkit::resources::unique("sizing"));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// A number as the state holds it: a JSON number, or a string of one (environment variables).
fn number(value: &Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
}

/// The thumbnail worker's pixel budget when terraform does not set one.
fn default_max_pixels() -> u64 {
    thumbnail::render::RenderSettings::default().max_pixels
}

/// What `envs/local` applied, read back per function: each function's own resources (its
/// Lambda, event source mapping, queue, environment), so a derived value that was not wired
/// through breaks a relation. Keys are the sizing's function names (every checker is one
/// `compliance`).
pub fn applied(state: &Value) -> Vec<(String, Sizing, u64)> {
    let all = all_resources(state);
    let of_type = |kind: &str| values_of(&all, kind);
    let visibility: BTreeMap<&str, u64> = of_type("aws_sqs_queue")
        .into_iter()
        .filter_map(|queue| {
            Some((
                queue["arn"].as_str()?,
                number(&queue["visibility_timeout_seconds"])?,
            ))
        })
        .collect();
    let mappings: BTreeMap<String, &Value> = of_type("aws_lambda_event_source_mapping")
        .into_iter()
        .filter_map(|mapping| {
            let arn = mapping["function_name"].as_str()?;
            Some((arn.rsplit(':').next().unwrap_or(arn).to_owned(), mapping))
        })
        .collect();
    let mut found = Vec::new();
    for function in of_type("aws_lambda_function") {
        let name = function["function_name"].as_str().unwrap_or_default();
        let binary = function["tags"]["s3-triage:binary"]
            .as_str()
            .unwrap_or_default();
        let kind = match binary {
            "compliance-checker" => "compliance",
            other => other,
        };
        let variable = |name: &str| number(&function["environment"][0]["variables"][name]);
        let (concurrency, work_timeout, work_memory, max_input) = match kind {
            "thumbnail" => (
                None,
                variable(thumbnail::config::TIMEOUT_SECONDS),
                None,
                variable(thumbnail::config::MAX_BYTES),
            ),
            "extractor" => (
                variable(extractor::config::CONCURRENCY),
                variable(extractor::config::PARSE_TIMEOUT_SECONDS),
                variable(extractor::config::PARSE_MEMORY_MB),
                variable(extractor::config::MAX_BYTES),
            ),
            "compliance" => (
                variable(compliance::config::CONCURRENCY),
                variable(compliance::config::PARSE_TIMEOUT_SECONDS),
                variable(compliance::config::PARSE_MEMORY_MB),
                variable(compliance::config::MAX_HELD_BYTES),
            ),
            _ => (None, None, None, None),
        };
        let mapping = mappings.get(name);
        let sizing = Sizing {
            memory_size: number(&function["memory_size"]).unwrap_or(0),
            timeout_seconds: number(&function["timeout"]).unwrap_or(0),
            reserved_concurrency: number(&function["reserved_concurrent_executions"]).unwrap_or(0),
            batch_size: mapping.and_then(|m| number(&m["batch_size"])).unwrap_or(0),
            batching_window_seconds: mapping
                .and_then(|m| number(&m["maximum_batching_window_in_seconds"]))
                .unwrap_or(0),
            concurrency: concurrency.unwrap_or(1),
            work_timeout_seconds: work_timeout.unwrap_or(0),
            work_memory_mb: work_memory.unwrap_or(0),
            max_input_bytes: max_input.unwrap_or(0),
            queue_visibility_seconds: mapping
                .and_then(|m| m["event_source_arn"].as_str())
                .and_then(|arn| visibility.get(arn).copied()),
            maximum_concurrency: mapping
                .and_then(|m| number(&m["scaling_config"][0]["maximum_concurrency"])),
            claim_lease_seconds: variable(audit::settings::CLAIM_LEASE_SECONDS).unwrap_or(0),
        };
        let max_pixels = variable(thumbnail::config::MAX_PIXELS).unwrap_or_else(default_max_pixels);
        found.push((format!("{kind} ({name})"), sizing, max_pixels));
    }
    found
}

/// Every relation broken in what `envs/local` applied (and every function kind missing).
pub fn broken_in_applied(state: &Value) -> Vec<String> {
    let functions = applied(state);
    let missing = ["router", "thumbnail", "extractor", "compliance"]
        .into_iter()
        .filter(|kind| {
            !functions
                .iter()
                .any(|(function, ..)| function.starts_with(&format!("{kind} (")))
        })
        .map(|kind| format!("applied: no {kind} function found"));
    functions
        .iter()
        .flat_map(|(function, sizing, max_pixels)| {
            let kind = function.split(' ').next().unwrap_or_default();
            broken(kind, sizing, *max_pixels)
                .into_iter()
                .map(move |problem| format!("applied {function}: {problem}"))
        })
        .chain(missing)
        .collect()
}

/// The sweep must not end a record a delivery of its own can still finish: in what
/// `envs/local` applied, the sweeper's horizon (`TRIAGE_ABANDONED_AFTER_SECONDS`) outlasts each
/// queue-fed function's and the large-file task's last receive (visibility x maxReceiveCount)
/// plus its lease, and each invoked function's maximum event age plus its lease.
pub fn sweep_before_redelivery(state: &Value) -> Vec<String> {
    let all = all_resources(state);
    let of_type = |kind: &str| values_of(&all, kind);
    let functions = of_type("aws_lambda_function");
    let variable =
        |function: &Value, name: &str| number(&function["environment"][0]["variables"][name]);
    let Some(abandoned_after) = functions
        .iter()
        .find(|function| function["tags"]["s3-triage:binary"] == "sweeper")
        .and_then(|sweeper| variable(sweeper, sweeper::config::ABANDONED_AFTER_SECONDS))
    else {
        return vec!["applied: no sweeper function with its horizon".into()];
    };
    let lease = |name: &str| {
        functions
            .iter()
            .find(|function| function["function_name"] == name)
            .and_then(|function| variable(function, audit::settings::CLAIM_LEASE_SECONDS))
            .unwrap_or(0)
    };
    let short_name = |arn: &str| arn.rsplit(':').next().unwrap_or(arn).to_owned();
    let queues = of_type("aws_sqs_queue");
    // (visibility timeout, maxReceiveCount) of the queue `field` of which is `value`.
    let last_receive = |field: &str, value: &Value| {
        let queue = queues.iter().find(|queue| &queue[field] == value)?;
        let receives = queue["redrive_policy"]
            .as_str()
            .and_then(|policy| serde_json::from_str::<Value>(policy).ok())
            .and_then(|policy| number(&policy["maxReceiveCount"]))
            .unwrap_or(1);
        Some((
            number(&queue["visibility_timeout_seconds"]).unwrap_or(0),
            receives,
        ))
    };
    let mut horizons: Vec<(String, u64)> = Vec::new();
    for mapping in of_type("aws_lambda_event_source_mapping") {
        let function = short_name(mapping["function_name"].as_str().unwrap_or_default());
        let Some((visibility, receives)) = last_receive("arn", &mapping["event_source_arn"]) else {
            continue;
        };
        horizons.push((
            format!("{function}'s last receive ({visibility} s x {receives}) + lease"),
            visibility * receives + lease(&function),
        ));
    }
    for invoke in of_type("aws_lambda_function_event_invoke_config") {
        let function = short_name(invoke["function_name"].as_str().unwrap_or_default());
        let age = number(&invoke["maximum_event_age_in_seconds"]).unwrap_or(21_600);
        horizons.push((
            format!("{function}'s maximum event age ({age} s) + lease"),
            age + lease(&function),
        ));
    }
    for task in of_type("aws_ecs_task_definition") {
        let containers: Value =
            serde_json::from_str(task["container_definitions"].as_str().unwrap_or("[]"))
                .unwrap_or_default();
        for container in containers.as_array().into_iter().flatten() {
            let variable = |name: &str| {
                container["environment"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|pair| pair["name"] == name)
                    .map(|pair| pair["value"].clone())
            };
            let task_lease = variable(audit::settings::CLAIM_LEASE_SECONDS)
                .and_then(|value| number(&value))
                .unwrap_or(0);
            let (visibility, receives) = variable(large_file::config::QUEUE_URL)
                .and_then(|url| last_receive("url", &url))
                .unwrap_or((0, 0));
            horizons.push((
                format!(
                    "{}'s last receive ({visibility} s x {receives}) + lease",
                    task["family"].as_str().unwrap_or("task")
                ),
                visibility * receives + task_lease,
            ));
        }
    }
    let mut problems: Vec<String> = horizons
        .iter()
        .filter(|(_, horizon)| *horizon >= abandoned_after)
        .map(|(what, horizon)| {
            format!(
                "applied: the sweep ends claims older than {abandoned_after} s, but {what} = {horizon} s: a delivery that can still finish a record would find it ended"
            )
        })
        .collect();
    if horizons.len() < 5 {
        problems.push(format!(
            "applied: expected a horizon for the router, extractor, each checker, the thumbnail invoke and the task, found {horizons:?}"
        ));
    }
    problems
}

/// Every relation broken by `modules/sizing` with `tfvars`.
pub fn broken_in_environment(root: &Path, label: &str, tfvars: Option<&Path>) -> Vec<String> {
    evaluated(root, tfvars)
        .iter()
        .flat_map(|(function, sizing)| {
            broken(function, sizing, default_max_pixels())
                .into_iter()
                .map(move |problem| format!("{label}: {problem}"))
        })
        .collect()
}

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_environment_sizing_keeps_its_relations() {
    let root = root();
    let mut problems = broken_in_environment(&root, "defaults (envs/local)", None);
    for environment in ["dev", "staging", "prod"] {
        let tfvars = root.join(format!("terraform/envs/{environment}/terraform.tfvars"));
        problems.extend(broken_in_environment(&root, environment, Some(&tfvars)));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_timeout_changed_alone_breaks_a_named_relation_and_changed_with_its_work_does_not() {
    let root = root();
    let dir = tempfile_dir();
    let tfvars = dir.join("changed.tfvars");
    std::fs::write(
        &tfvars,
        "functions = { extractor = { timeout_seconds = 60 } }\n",
    )
    .expect("tfvars written");
    let problems = broken_in_environment(&root, "changed", Some(&tfvars));
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0]
            .starts_with("changed: extractor: the batch's work must fit the function timeout"),
        "{}",
        problems[0]
    );
    // The visibility timeout, pollers and lease follow the timeout by themselves.
    let derived = &evaluated(&root, Some(&tfvars))["extractor"];
    assert_eq!(derived.queue_visibility_seconds, Some(6 * 60 + 5));
    assert_eq!(derived.claim_lease_seconds, 120);

    std::fs::write(
        &tfvars,
        "functions = { extractor = { timeout_seconds = 60, batch_size = 2, work_timeout_seconds = 30 } }\n",
    )
    .expect("tfvars written");
    assert_eq!(
        broken_in_environment(&root, "changed", Some(&tfvars)),
        Vec::<String>::new()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

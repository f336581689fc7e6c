//! The terraform side: each deployed function and task (its binary, environment, the actions
//! its role allows and what its platform needs), read from `terraform show -json` of the
//! applied state.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

/// One function or task as terraform deployed it.
#[derive(Debug)]
pub struct Deployed {
    pub name: String,
    pub binary: String,
    pub variables: BTreeMap<String, String>,
    /// Allowed actions (patterns such as `s3:Get*` kept as written).
    pub allowed: BTreeSet<String>,
    /// Actions its platform needs whatever the code does.
    pub platform: BTreeSet<String>,
}

pub fn terraform_state(root: &Path, state: &Path) -> Value {
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

/// Every resource of the applied `state`, in any module.
pub fn all_resources(state: &Value) -> Vec<Value> {
    let mut all = Vec::new();
    resources(&state["values"]["root_module"], &mut all);
    all
}

/// The values of every resource of type `kind` among `all`.
pub fn values_of<'a>(all: &'a [Value], kind: &str) -> Vec<&'a Value> {
    all.iter()
        .filter(|resource| resource["type"] == kind)
        .map(|resource| &resource["values"])
        .collect()
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

pub fn deployed(state: &Value) -> Vec<Deployed> {
    let all = all_resources(state);
    let of_type = |kind: &str| values_of(&all, kind);
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

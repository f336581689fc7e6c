//! The router's configuration, read from the environment once at start-up.

use crate::dispatch::{Capacity, DispatchTargets, LargeTaskTarget};
use crate::fleet::Fleet;
use crate::policy::{RoutingPolicy, DEFAULT_LARGE_LIMIT};
use audit::RecorderSettings;
use platform::config::{ConfigError, Env};
use worker_common::outputs::Outputs;

pub const ROUTING_RULES: &str = "TRIAGE_ROUTING_RULES";
pub use platform::config::RESERVED_PREFIX;
pub const THUMBNAIL_FUNCTION: &str = "TRIAGE_THUMBNAIL_FUNCTION";
pub const EXTRACTOR_QUEUE_URL: &str = "TRIAGE_EXTRACTOR_QUEUE_URL";
pub const COMPLIANCE_TOPIC_ARN: &str = "TRIAGE_COMPLIANCE_TOPIC_ARN";
pub const LARGE_CLUSTER: &str = "TRIAGE_LARGE_CLUSTER";
pub const LARGE_TASK_DEFINITION: &str = "TRIAGE_LARGE_TASK_DEFINITION";
pub const LARGE_QUEUE_URL: &str = "TRIAGE_LARGE_QUEUE_URL";
pub const LARGE_MAX_TASKS: &str = "TRIAGE_LARGE_MAX_TASKS";
/// The same variable, and value, as the task's: the fleet is sized by what one task takes.
pub const LARGE_MESSAGES_PER_TASK: &str = "TRIAGE_LARGE_MESSAGES_PER_TASK";
pub const LARGE_SUBNETS: &str = "TRIAGE_LARGE_SUBNETS";
pub const LARGE_SECURITY_GROUPS: &str = "TRIAGE_LARGE_SECURITY_GROUPS";
pub const LARGE_ASSIGN_PUBLIC_IP: &str = "TRIAGE_LARGE_ASSIGN_PUBLIC_IP";
pub const LARGE_CAPACITY: &str = "TRIAGE_LARGE_CAPACITY";

/// The routing policy `TRIAGE_ROUTING_RULES` (the built-in table when unset),
/// `TRIAGE_RESERVED_PREFIX` and `TRIAGE_OUTPUT_BUCKETS` describe: what the router applies and
/// the canary routes by.
pub fn policy_from_env<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<RoutingPolicy, ConfigError> {
    let rules = match env.optional(ROUTING_RULES) {
        None => RoutingPolicy::default_rules(),
        Some(json) => {
            RoutingPolicy::parse_rules(&json).map_err(|err| env.invalid(ROUTING_RULES, err))?
        }
    };
    RoutingPolicy::with_outputs(rules, Outputs::from_env(env)?, DEFAULT_LARGE_LIMIT)
        .map_err(|err| env.invalid(ROUTING_RULES, err))
}

#[derive(Clone, Debug)]
pub struct RouterConfig {
    pub recorder: RecorderSettings,
    pub policy: RoutingPolicy,
    pub targets: DispatchTargets,
}

impl RouterConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let policy = policy_from_env(env)?;
        let targets = DispatchTargets {
            thumbnail_function: env
                .required(THUMBNAIL_FUNCTION, "the thumbnail Lambda's name or ARN")?,
            extractor_queue_url: env
                .required(EXTRACTOR_QUEUE_URL, "the extractor SQS queue's URL")?,
            compliance_topic_arn: env
                .required(COMPLIANCE_TOPIC_ARN, "the compliance SNS topic's ARN")?,
            large_task: LargeTaskTarget {
                queue_url: env.required(LARGE_QUEUE_URL, "the large-file SQS queue's URL")?,
                fleet: fleet_from_env(env)?,
                cluster: env.required(LARGE_CLUSTER, "the ECS cluster's name or ARN")?,
                family: env.required(
                    LARGE_TASK_DEFINITION,
                    "the large-file task definition's family",
                )?,
                subnets: env.list(
                    LARGE_SUBNETS,
                    "comma-separated subnet ids for the Fargate task",
                )?,
                security_groups: env.list(
                    LARGE_SECURITY_GROUPS,
                    "comma-separated security group ids for the Fargate task",
                )?,
                assign_public_ip: env.parsed_or(LARGE_ASSIGN_PUBLIC_IP, false)?,
                capacity: match env.optional(LARGE_CAPACITY) {
                    None => Capacity::OnDemand,
                    Some(text) => {
                        Capacity::parse(&text).map_err(|err| env.invalid(LARGE_CAPACITY, err))?
                    }
                },
            },
        };
        if targets.large_task.family.contains([':', '/']) {
            return Err(env.invalid(
                LARGE_TASK_DEFINITION,
                "expected the family alone (no revision, no ARN): tasks are counted by family",
            ));
        }
        Ok(Self {
            recorder: RecorderSettings::from_env(env, crate::handler::STAGE)?,
            policy,
            targets,
        })
    }
}

fn fleet_from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Fleet, ConfigError> {
    let max_tasks: u32 = env.parsed_or(LARGE_MAX_TASKS, 10)?;
    if !(1..=1000).contains(&max_tasks) {
        return Err(env.invalid(LARGE_MAX_TASKS, "expected 1 to 1000 tasks"));
    }
    let messages_per_task: u32 = env.parsed_or(LARGE_MESSAGES_PER_TASK, 1)?;
    if !(1..=10).contains(&messages_per_task) {
        return Err(env.invalid(LARGE_MESSAGES_PER_TASK, "expected 1 to 10 objects per task"));
    }
    Ok(Fleet {
        max_tasks,
        messages_per_task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn complete_env() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            (platform::config::ENVIRONMENT, "dev"),
            (audit::settings::AUDIT_TABLE, "audit"),
            (
                audit::settings::NOTIFICATIONS_TOPIC_ARN,
                "arn:aws:sns:eu-west-1:1:notifications",
            ),
            (THUMBNAIL_FUNCTION, "thumbnail"),
            (
                EXTRACTOR_QUEUE_URL,
                "https://sqs.eu-west-1.amazonaws.com/1/extractor",
            ),
            (COMPLIANCE_TOPIC_ARN, "arn:aws:sns:eu-west-1:1:compliance"),
            (LARGE_CLUSTER, "triage"),
            (LARGE_TASK_DEFINITION, "large-file"),
            (
                LARGE_QUEUE_URL,
                "https://sqs.eu-west-1.amazonaws.com/1/large",
            ),
            (LARGE_SUBNETS, "subnet-1, subnet-2"),
            (LARGE_SECURITY_GROUPS, "sg-1"),
        ])
    }

    fn load(vars: HashMap<&'static str, &'static str>) -> Result<RouterConfig, ConfigError> {
        RouterConfig::from_env(&Env::from_lookup(move |name| {
            vars.get(name).map(|v| v.to_string())
        }))
    }

    #[test]
    fn a_complete_environment_loads_with_default_rules() {
        let config = load(complete_env()).expect("valid");
        assert_eq!(config.targets.large_task.subnets, ["subnet-1", "subnet-2"]);
        assert_eq!(config.policy.rules().len(), 3);
        assert_eq!(config.recorder.worker, "router");
        assert_eq!(config.targets.large_task.capacity, Capacity::OnDemand);
        assert_eq!(
            config.targets.large_task.fleet,
            Fleet {
                max_tasks: 10,
                messages_per_task: 1
            }
        );
        let mut spot = complete_env();
        spot.insert(LARGE_CAPACITY, "spot");
        let spot = load(spot).expect("valid").targets.large_task.capacity;
        assert_eq!(spot, Capacity::Spot);
        assert_eq!(spot.providers(), ["FARGATE_SPOT", "FARGATE"]);
        let mut unknown = complete_env();
        unknown.insert(LARGE_CAPACITY, "cheap");
        let err = load(unknown).expect_err("unknown capacity").to_string();
        assert!(
            err.contains("TRIAGE_LARGE_CAPACITY") && err.contains("neither on-demand nor spot"),
            "{err}"
        );
    }

    #[test]
    fn errors_name_the_variable() {
        let mut vars = complete_env();
        vars.remove(EXTRACTOR_QUEUE_URL);
        assert!(load(vars)
            .expect_err("missing")
            .to_string()
            .contains("TRIAGE_EXTRACTOR_QUEUE_URL is not set"));

        let mut vars = complete_env();
        vars.insert(
            ROUTING_RULES,
            r#"[{"name":"all","prefix":"","tier":"large"}]"#,
        );
        let err = load(vars).expect_err("rule matches outputs").to_string();
        assert!(
            err.starts_with("environment variable TRIAGE_ROUTING_RULES="),
            "{err}"
        );
        assert!(err.contains("reserved prefix"), "{err}");

        for (name, value) in [
            (LARGE_MAX_TASKS, "0"),
            (LARGE_MESSAGES_PER_TASK, "11"),
            (LARGE_TASK_DEFINITION, "large-file:3"),
        ] {
            let mut vars = complete_env();
            vars.insert(name, value);
            let err = load(vars).expect_err("invalid").to_string();
            assert!(err.contains(name), "{err}");
        }
    }
}

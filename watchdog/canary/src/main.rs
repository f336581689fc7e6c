//! The canary Lambda, run on a schedule: one selftest ([`canary::selftest`]) against its own
//! deployment per invocation, its verdict published as the `CanaryMisses` metric (the tiers
//! that missed), which an alarm watches, and answered as JSON.

use anyhow::Context;
use canary::config::CanaryConfig;
use canary::selftest::Selftest;
use lambda_runtime::{service_fn, LambdaEvent};
use platform::config::Env;
use serde_json::Value;
use tracing::{info, warn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::init_json_logs();
    let config = CanaryConfig::from_env(&Env::process()).context("canary configuration")?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let environment = config.environment.clone();
    let selftest = Selftest {
        s3: aws_sdk_s3::Client::new(&aws),
        trail: audit::AuditTrail::new(aws_sdk_dynamodb::Client::new(&aws), &config.audit_table),
        bucket: config.bucket,
        policy: config.policy,
        tags: config.tags,
        timeout: config.timeout,
        // Every run would page the infected-verdicts alarm; the clean canary still needs every
        // check, the malware check included, to answer. `triage selftest` sends EICAR.
        eicar: false,
        large: None,
        keep: false,
    };
    let (selftest, environment) = (&selftest, environment.as_str());
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let report = selftest.run().await?;
        let missed = report.missed();
        platform::metrics::emit_canary(
            environment,
            report.tiers_missed(),
            chrono::Utc::now().timestamp_millis(),
        );
        if missed.is_empty() {
            info!(canaries = report.results.len(), "every tier answered");
        } else {
            warn!(missed = ?missed, "canaries missed");
        }
        if let Some(Err(cleanup)) = &report.removed {
            warn!(error = %cleanup, "the canaries could not all be removed");
        }
        Ok::<_, lambda_runtime::Error>(serde_json::to_value(&report)?)
    }))
    .await
}

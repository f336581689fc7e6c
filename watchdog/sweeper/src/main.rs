//! The sweeper Lambda, run on a schedule: each invocation ends the records abandoned longer
//! than `TRIAGE_ABANDONED_AFTER_SECONDS` ([`audit::sweep`]) and answers what it did.

use anyhow::Context;
use lambda_runtime::{service_fn, LambdaEvent};
use notifications::SnsNotifier;
use platform::config::Env;
use serde_json::Value;
use tracing::{info, warn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::init_json_logs();
    let config = sweeper::config::SweeperConfig::from_env(&Env::process())
        .context("sweeper configuration")?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let recorder = SnsNotifier::recorder(&aws, config.recorder);
    let (recorder, abandoned_after) = (&recorder, config.abandoned_after);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let report = audit::sweep::sweep(recorder, abandoned_after, chrono::Utc::now()).await?;
        if !report.unreadable.is_empty() {
            warn!(unreadable = ?report.unreadable, "items the sweep cannot read as records");
        }
        info!(
            abandoned = report.abandoned.len(),
            announced = report.announced.len(),
            moved = report.moved,
            "swept"
        );
        Ok::<_, lambda_runtime::Error>(serde_json::to_value(report)?)
    }))
    .await
}

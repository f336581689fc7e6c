//! The large-file task (ECS Fargate): configuration from the environment the task definition
//! and the router's RunTask override set, one object processed, then exit. SIGTERM (a task
//! stop, a Spot interruption) ends the pass early with a FAILED "interrupted" record.

use anyhow::Context;
use compliance::quarantine::VerdictWriter;
use large_file::config::TaskConfig;
use large_file::task::LargeFileTask;
use notifications::SnsNotifier;
use platform::config::Env;
use std::sync::Arc;
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;
use worker_common::s3::S3Store;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::init_json_logs();
    let config = TaskConfig::from_env(&Env::process()).context("large-file task configuration")?;
    let cancel = CancellationToken::new();
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let on_terminate = cancel.clone();
    tokio::spawn(async move {
        terminate.recv().await;
        tracing::warn!("SIGTERM received; stopping the pass");
        on_terminate.cancel();
    });
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::new(&aws);
    let checkers = config
        .pass_checkers(&s3)
        .await
        .context("loading the compliance checks")?;
    let store = S3Store { client: s3 };
    let task = LargeFileTask {
        verdicts: VerdictWriter::deployed(
            &aws,
            &config.recorder,
            store.clone(),
            &config.verdicts,
            &config.outputs,
        ),
        store,
        recorder: SnsNotifier::recorder(&aws, config.recorder.clone()),
        config,
        checkers: Arc::new(checkers),
    };
    let outcome = task.run(&cancel).await.context("recording the outcome")?;
    tracing::info!(?outcome, "done");
    Ok(())
}

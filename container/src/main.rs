//! The large-file task (ECS Fargate): configuration from the task definition's environment,
//! dispatches taken from the large-file queue until it stays empty for the idle time. SIGTERM
//! (a Spot interruption, a scale-in) stops the passes early: each records its progress and
//! gives its object back to the queue for another task.

use anyhow::Context;
use compliance::quarantine::VerdictWriter;
use large_file::config::TaskConfig;
use large_file::queue::{consume, SqsInbox};
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
        tracing::warn!("SIGTERM received; giving the objects in progress back to the queue");
        on_terminate.cancel();
    });
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::new(&aws);
    let checkers = config
        .pass_checkers(&s3)
        .await
        .context("loading the compliance checks")?;
    let store = S3Store { client: s3 };
    let inbox = SqsInbox {
        client: aws_sdk_sqs::Client::new(&aws),
        queue_url: config.queue.url.clone(),
    };
    let (queue, busy_retry) = (config.queue.clone(), config.recorder.claim_lease);
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
    let consumed = consume(&inbox, &queue, busy_retry, &cancel, |dispatch| {
        let (task, cancel) = (&task, &cancel);
        async move { task.run(&dispatch, cancel).await }
    })
    .await;
    tracing::info!(
        settled = consumed.settled,
        released = consumed.released,
        left = consumed.left,
        "done"
    );
    Ok(())
}

//! The thumbnail Lambda: configuration and clients are built once per container, then every
//! invocation goes to [`ThumbnailWorker::handle`].

use anyhow::Context;
use lambda_runtime::{service_fn, LambdaEvent};
use notifications::SnsNotifier;
use platform::config::Env;
use serde_json::Value;
use thumbnail::config::ThumbnailConfig;
use thumbnail::handler::ThumbnailWorker;
use worker_common::deadline::Invocation;
use worker_common::s3::S3Store;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::init_json_logs();
    let config = ThumbnailConfig::from_env(&Env::process()).context("thumbnail configuration")?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let worker = ThumbnailWorker {
        store: S3Store {
            client: aws_sdk_s3::Client::new(&aws),
        },
        recorder: SnsNotifier::recorder(&aws, config.recorder.clone()),
        config,
    };
    let worker = &worker;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        worker
            .handle(
                event.payload,
                Invocation::until_epoch_ms(event.context.deadline),
            )
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}

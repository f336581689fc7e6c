//! The thumbnail Lambda: configuration and clients are built once per container, then every
//! invocation goes to [`ThumbnailWorker::handle`].

use anyhow::Context;
use lambda_runtime::{service_fn, LambdaEvent};
use notifications::config::Env;
use notifications::Recorder;
use s3_io::S3Store;
use serde_json::Value;
use thumbnail::config::ThumbnailConfig;
use thumbnail::handler::ThumbnailWorker;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    notifications::init_json_logs();
    let config = ThumbnailConfig::from_env(&Env::process()).context("thumbnail configuration")?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let worker = ThumbnailWorker {
        store: S3Store {
            client: aws_sdk_s3::Client::new(&aws),
        },
        recorder: Recorder::new(
            aws_sdk_dynamodb::Client::new(&aws),
            aws_sdk_sns::Client::new(&aws),
            config.recorder.clone(),
        ),
        config,
    };
    let worker = &worker;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        worker
            .handle(event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}

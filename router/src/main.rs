//! The router Lambda: configuration and clients are built once per container, then every
//! invocation goes to [`Router::handle`].

use anyhow::Context;
use lambda_runtime::{service_fn, LambdaEvent};
use notifications::SnsNotifier;
use platform::config::Env;
use router::config::RouterConfig;
use router::dispatch::AwsDispatcher;
use router::handler::Router;
use router::versions::S3Versions;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::init_json_logs();
    let config = RouterConfig::from_env(&Env::process()).context("router configuration")?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dispatcher = AwsDispatcher {
        lambda: aws_sdk_lambda::Client::new(&aws),
        sqs: aws_sdk_sqs::Client::new(&aws),
        sns: aws_sdk_sns::Client::new(&aws),
        ecs: aws_sdk_ecs::Client::new(&aws),
        targets: config.targets,
    };
    let recorder = SnsNotifier::recorder(&aws, config.recorder);
    let versions = S3Versions {
        s3: aws_sdk_s3::Client::new(&aws),
    };
    let router = Router::new(config.policy, dispatcher, recorder, versions);
    let router = &router;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        router
            .handle(event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}

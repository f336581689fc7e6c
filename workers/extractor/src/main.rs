//! The extractor Lambda, and, started with `--parse-document`, the child process that parses
//! one PDF for it (see [`extractor::isolate`]).

use anyhow::Context;
use aws_lambda_events::sqs::SqsEvent;
use extractor::config::ExtractorConfig;
use extractor::handler::Extractor;
use extractor::isolate::run_as_child_if_started_as_one;
use lambda_runtime::{service_fn, LambdaEvent};
use notifications::SnsNotifier;
use platform::config::Env;
use worker_common::deadline::Invocation;
use worker_common::s3::S3Store;

fn main() -> Result<(), lambda_runtime::Error> {
    run_as_child_if_started_as_one();
    tokio::runtime::Runtime::new()?.block_on(lambda())
}

async fn lambda() -> Result<(), lambda_runtime::Error> {
    platform::init_json_logs();
    let config = ExtractorConfig::from_env(&Env::process()).context("extractor configuration")?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let extractor = Extractor {
        store: S3Store {
            client: aws_sdk_s3::Client::new(&aws),
        },
        recorder: SnsNotifier::recorder(&aws, config.recorder.clone()),
        config,
        parser: std::env::current_exe().context("locating this executable for the parser")?,
    };
    let extractor = &extractor;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let invocation = Invocation::until_epoch_ms(event.context.deadline);
        Ok::<_, lambda_runtime::Error>(extractor.handle_batch(event.payload, invocation).await)
    }))
    .await
}

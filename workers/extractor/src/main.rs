//! The extractor Lambda, and, started with `--parse-document`, the child process that parses
//! one PDF for it (see [`extractor::isolate`]).

use anyhow::Context;
use aws_lambda_events::sqs::SqsEvent;
use extractor::config::ExtractorConfig;
use extractor::handler::Extractor;
use extractor::isolate::{child_main, CHILD_ARG};
use lambda_runtime::{service_fn, LambdaEvent};
use notifications::config::Env;
use notifications::Recorder;
use s3_io::S3Store;

fn main() -> Result<(), lambda_runtime::Error> {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some(CHILD_ARG) {
        let max_stream_bytes = args.next().and_then(|n| n.parse().ok()).unwrap_or(64 << 20);
        std::process::exit(child_main(max_stream_bytes));
    }
    tokio::runtime::Runtime::new()?.block_on(lambda())
}

async fn lambda() -> Result<(), lambda_runtime::Error> {
    notifications::init_json_logs();
    let config = ExtractorConfig::from_env(&Env::process()).context("extractor configuration")?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let extractor = Extractor {
        store: S3Store {
            client: aws_sdk_s3::Client::new(&aws),
        },
        recorder: Recorder::new(
            aws_sdk_dynamodb::Client::new(&aws),
            aws_sdk_sns::Client::new(&aws),
            config.recorder.clone(),
        ),
        config,
        parser: std::env::current_exe().context("locating this executable for the parser")?,
    };
    let extractor = &extractor;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(extractor.handle_batch(event.payload).await)
    }))
    .await
}

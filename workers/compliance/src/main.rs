//! A compliance checker Lambda (`TRIAGE_CHECKER` says which), and, started with the
//! extractor's `--parse-document`, the child process that reads a PDF's text for the PII check.

use anyhow::Context;
use aws_lambda_events::sqs::SqsEvent;
use compliance::checker::pii::DocumentParser;
use compliance::config::{build_checker, CheckerConfig, CheckerResources};
use compliance::handler::{CheckerLambda, InUse};
use compliance::quarantine::VerdictWriter;
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
    let config = CheckerConfig::from_env(&Env::process()).context("checker configuration")?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::new(&aws);
    let checker = build_checker(
        config.checker,
        CheckerResources {
            s3: &s3,
            signatures_uri: config.signatures_uri.as_deref(),
            max_held_bytes: config.max_held_bytes,
            pdf_parser: Some(DocumentParser {
                program: std::env::current_exe()
                    .context("locating this executable for the parser")?,
                limits: config.parse,
            }),
        },
    )
    .await
    .context("building the checker")?;
    let store = S3Store { client: s3 };
    let lambda = CheckerLambda {
        recorder: SnsNotifier::recorder(&aws, config.recorder.clone()),
        verdicts: VerdictWriter::deployed(
            &aws,
            &config.recorder,
            store.clone(),
            &config.verdicts,
            &config.outputs,
        ),
        checker: InUse::new(checker),
        store,
        config,
    };
    let lambda = &lambda;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let invocation = Invocation::until_epoch_ms(event.context.deadline);
        Ok::<_, lambda_runtime::Error>(lambda.handle_batch(event.payload, invocation).await)
    }))
    .await
}

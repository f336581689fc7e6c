//! A compliance checker Lambda (`TRIAGE_CHECKER` says which), and, started with the
//! extractor's `--parse-document`, the child process that reads a PDF's text for the PII check.

use anyhow::Context;
use aws_lambda_events::sqs::SqsEvent;
use compliance::checker::content::ContentChecker;
use compliance::checker::malware::MalwareChecker;
use compliance::checker::pii::PiiChecker;
use compliance::checker::Checker;
use compliance::config::CheckerConfig;
use compliance::content::ContentPolicy;
use compliance::handler::CheckerLambda;
use compliance::quarantine::Quarantine;
use compliance::scan::Scanner;
use compliance::signature_store;
use compliance::verdict::VERDICT_STAGE;
use extractor::isolate::{child_main, Limits, CHILD_ARG};
use lambda_runtime::{service_fn, LambdaEvent};
use notifications::config::Env;
use notifications::{Recorder, RecorderSettings};
use s3_io::S3Store;
use std::time::Duration;

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
    let config = CheckerConfig::from_env(&Env::process()).context("checker configuration")?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::new(&aws);
    let checker = build_checker(&config, &s3).await?;
    let recorder = |settings: RecorderSettings| {
        Recorder::new(
            aws_sdk_dynamodb::Client::new(&aws),
            aws_sdk_sns::Client::new(&aws),
            settings,
        )
    };
    let store = S3Store { client: s3 };
    let lambda = CheckerLambda {
        recorder: recorder(config.recorder.clone()),
        verdicts: recorder(RecorderSettings {
            worker: VERDICT_STAGE.into(),
            ..config.recorder.clone()
        }),
        checker,
        quarantine: Quarantine {
            store: store.clone(),
            mode: config.quarantine,
            reserved_prefix: config.reserved_prefix.clone(),
        },
        store,
        config,
    };
    let lambda = &lambda;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(lambda.handle_batch(event.payload).await)
    }))
    .await
}

/// The configured checker, with what it loads once per cold start.
async fn build_checker(
    config: &CheckerConfig,
    s3: &aws_sdk_s3::Client,
) -> anyhow::Result<Box<dyn Checker>> {
    Ok(match config.checker {
        "malware" => {
            let uri = config.signatures_uri.as_deref().unwrap_or_default();
            let (set, signatures) = signature_store::load(s3, uri).await?;
            tracing::info!(%signatures, "signatures loaded");
            Box::new(MalwareChecker {
                scanner: Scanner::new(set)?,
                signatures,
            })
        }
        "content" => Box::new(ContentChecker {
            policy: ContentPolicy::default(),
            max_archive_bytes: config.max_held_bytes,
        }),
        _ => Box::new(PiiChecker {
            parser: std::env::current_exe().context("locating this executable for the parser")?,
            limits: Limits {
                memory_bytes: 1 << 30,
                timeout: Duration::from_secs(60),
                max_stream_bytes: 64 << 20,
            },
            max_pdf_bytes: config.max_held_bytes,
        }),
    })
}

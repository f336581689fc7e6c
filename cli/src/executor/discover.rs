//! Reads back what terraform declared on the emulator: functions (with their environment and
//! the binary that implements them) and the SQS event source mappings that feed them.

use super::lambda::{AsyncInvokeConfig, FunctionSpec};
use super::sqs::SqsEventSource;
use aws_sdk_lambda::types::FunctionResponseType;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The function tag that names the workspace binary implementing a function.
pub const BINARY_TAG: &str = "s3-triage:binary";

#[derive(Debug, Default)]
pub struct Declared {
    pub functions: Vec<FunctionSpec>,
    /// (function name, event source) pairs.
    pub sqs_sources: Vec<(String, SqsEventSource)>,
    /// Functions without a binary tag, which nothing can run.
    pub skipped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("reading {what} from the emulator failed: {message}")]
pub struct DiscoverError {
    pub what: &'static str,
    pub message: String,
}

fn failed<E: std::error::Error + 'static, R: std::fmt::Debug>(
    what: &'static str,
) -> impl FnOnce(aws_sdk_lambda::error::SdkError<E, R>) -> DiscoverError {
    move |err| DiscoverError {
        what,
        message: aws_sdk_lambda::error::DisplayErrorContext(&err).to_string(),
    }
}

/// Everything declared, with each function's binary looked up in `binaries` and `runtime_env`
/// (endpoint, credentials, region: what Lambda itself would provide) added to its environment.
pub async fn discover(
    lambda: &aws_sdk_lambda::Client,
    sqs: &aws_sdk_sqs::Client,
    binaries: &Path,
    runtime_env: &BTreeMap<String, String>,
) -> Result<Declared, DiscoverError> {
    let mut declared = Declared::default();
    let mut pages = lambda.list_functions().into_paginator().items().send();
    while let Some(function) = pages.next().await {
        let function = function.map_err(failed("functions"))?;
        let (Some(name), Some(arn)) = (function.function_name(), function.function_arn()) else {
            continue;
        };
        let tags = lambda
            .list_tags()
            .resource(arn)
            .send()
            .await
            .map_err(failed("function tags"))?;
        let Some(binary) = tags.tags().and_then(|tags| tags.get(BINARY_TAG)) else {
            declared.skipped.push(name.to_owned());
            continue;
        };
        let program = binaries.join(binary);
        if !program.is_file() {
            return Err(DiscoverError {
                what: "function binary",
                message: format!(
                    "{name} runs the {binary} binary, which is not in {}: build it (cargo build --workspace --bins)",
                    binaries.display()
                ),
            });
        }
        let mut environment = variables(function.environment());
        environment.extend(runtime_env.clone());
        let async_invoke = async_invoke_config(lambda, name).await?;
        declared.functions.push(FunctionSpec {
            name: name.to_owned(),
            binary: program,
            environment,
            timeout: Duration::from_secs(
                function.timeout().unwrap_or(3).max(1).unsigned_abs().into(),
            ),
            memory_mb: function.memory_size().unwrap_or(128).unsigned_abs(),
            async_invoke,
        });
    }

    let mappings = lambda
        .list_event_source_mappings()
        .send()
        .await
        .map_err(failed("event source mappings"))?;
    for mapping in mappings.event_source_mappings() {
        let (Some(source_arn), Some(function_arn)) =
            (mapping.event_source_arn(), mapping.function_arn())
        else {
            continue;
        };
        if !super::sqs::is_queue_arn(source_arn) {
            continue;
        }
        let Some(function) = declared
            .functions
            .iter()
            .find(|f| function_arn.ends_with(&format!(":{}", f.name)))
        else {
            continue;
        };
        let queue_url = super::sqs::queue_url(sqs, source_arn)
            .await
            .map_err(|message| DiscoverError {
                what: "queue URL",
                message,
            })?;
        declared.sqs_sources.push((
            function.name.clone(),
            SqsEventSource {
                queue_url,
                queue_arn: source_arn.to_owned(),
                batch_size: mapping.batch_size().unwrap_or(10),
                report_batch_item_failures: mapping
                    .function_response_types()
                    .contains(&FunctionResponseType::ReportBatchItemFailures),
            },
        ));
    }
    Ok(declared)
}

/// Every function's environment variables as declared now (after any
/// `UpdateFunctionConfiguration`), without what Lambda itself provides, by function name.
pub async fn declared_variables(
    lambda: &aws_sdk_lambda::Client,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, DiscoverError> {
    let mut declared = BTreeMap::new();
    let mut pages = lambda.list_functions().into_paginator().items().send();
    while let Some(function) = pages.next().await {
        let function = function.map_err(failed("functions"))?;
        if let Some(name) = function.function_name() {
            declared.insert(name.to_owned(), variables(function.environment()));
        }
    }
    Ok(declared)
}

fn variables(
    environment: Option<&aws_sdk_lambda::types::EnvironmentResponse>,
) -> BTreeMap<String, String> {
    environment
        .and_then(|e| e.variables())
        .map(|vars| vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The function's event invoke config, or AWS's defaults when it has none.
async fn async_invoke_config(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
) -> Result<AsyncInvokeConfig, DiscoverError> {
    let config = match lambda
        .get_function_event_invoke_config()
        .function_name(function)
        .send()
        .await
    {
        Ok(config) => config,
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Ok(AsyncInvokeConfig::default());
        }
        Err(err) => return Err(failed("event invoke config")(err)),
    };
    Ok(AsyncInvokeConfig {
        maximum_retry_attempts: config.maximum_retry_attempts().map_or(2, i32::unsigned_abs),
        on_failure_queue_arn: config
            .destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination())
            .filter(|arn| super::sqs::is_queue_arn(arn))
            .map(String::from),
    })
}

//! The Lambda `Invoke` API, served for the executor's functions (the emulator accepts Invoke but
//! runs nothing). Function processes get `AWS_ENDPOINT_URL_LAMBDA` pointing here, so their SDK
//! clients reach it while every other service still goes to the emulator.
//!
//! Asynchronous invokes (`X-Amz-Invocation-Type: Event`) follow AWS's semantics: answered 202 at
//! once, retried `maximum_retry_attempts` times on failure, then sent to the on-failure
//! destination queue as an invocation record.

use super::lambda::{FunctionHost, InvokeError};
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

struct ApiState {
    functions: BTreeMap<String, Arc<FunctionHost>>,
    sqs: aws_sdk_sqs::Client,
    /// Wait before retry n is n times this (AWS waits about a minute, then two).
    retry_delay: Duration,
}

pub struct InvokeApi {
    server: JoinHandle<()>,
}

impl InvokeApi {
    /// Serves on `listener` (bound first, so functions can be told its address).
    pub fn serve(
        listener: TcpListener,
        functions: BTreeMap<String, Arc<FunctionHost>>,
        sqs: aws_sdk_sqs::Client,
        retry_delay: Duration,
    ) -> Self {
        let state = Arc::new(ApiState {
            functions,
            sqs,
            retry_delay,
        });
        let routes = Router::new()
            .route("/2015-03-31/functions/{function}/invocations", post(invoke))
            .with_state(state);
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, routes).await {
                eprintln!("[executor] Invoke API stopped: {err}");
            }
        });
        Self { server }
    }
}

impl Drop for InvokeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `name`, `name:qualifier` or a function ARN, to the bare name.
fn function_name(identifier: &str) -> &str {
    match identifier.strip_prefix("arn:") {
        Some(_) => identifier.split(':').nth(6).unwrap_or(identifier),
        None => identifier.split(':').next().unwrap_or(identifier),
    }
}

async fn invoke(
    State(state): State<Arc<ApiState>>,
    UrlPath(function): UrlPath<String>,
    headers: HeaderMap,
    payload: Bytes,
) -> Response {
    let name = function_name(&function);
    let Some(host) = state.functions.get(name).cloned() else {
        let body = json!({"Type": "User", "message": format!("Function not found: {function}")});
        return (
            StatusCode::NOT_FOUND,
            [("x-amzn-ErrorType", "ResourceNotFoundException")],
            body.to_string(),
        )
            .into_response();
    };
    let invocation_type = headers
        .get("x-amz-invocation-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("RequestResponse");
    match invocation_type {
        "Event" => {
            tokio::spawn(invoke_async(state, host, payload));
            StatusCode::ACCEPTED.into_response()
        }
        "DryRun" => StatusCode::NO_CONTENT.into_response(),
        _ => match host.invoke(payload).await {
            Ok(body) => (
                StatusCode::OK,
                [("x-amz-executed-version", "$LATEST")],
                body,
            )
                .into_response(),
            Err(err) => (
                StatusCode::OK,
                [("x-amz-function-error", "Unhandled")],
                error_payload(&err).to_string(),
            )
                .into_response(),
        },
    }
}

async fn invoke_async(state: Arc<ApiState>, host: Arc<FunctionHost>, payload: Bytes) {
    let config = host.spec().async_invoke.clone();
    let attempts = config.maximum_retry_attempts + 1;
    let mut last_error = None;
    for attempt in 1..=attempts {
        match host.invoke(payload.clone()).await {
            Ok(_) => return,
            Err(err) => {
                eprintln!(
                    "[executor] {} async attempt {attempt}/{attempts}: {err}",
                    host.name()
                );
                last_error = Some(err);
            }
        }
        if attempt < attempts {
            tokio::time::sleep(state.retry_delay * attempt).await;
        }
    }
    let Some(queue_arn) = config.on_failure_queue_arn else {
        eprintln!("[executor] {}: retries exhausted and no on-failure destination; the event is dropped, as on AWS", host.name());
        return;
    };
    let record = json!({
        "version": "1.0",
        "timestamp": Utc::now().to_rfc3339(),
        "requestContext": {
            "requestId": format!("{}-async", host.name()),
            "functionArn": format!("{}:$LATEST", host.function_arn()),
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": serde_json::from_slice::<Value>(&payload).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&payload).into_owned())),
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": last_error.as_ref().map(error_payload),
    });
    if let Err(err) = send_to_queue(&state.sqs, &queue_arn, record.to_string()).await {
        eprintln!(
            "[executor] {}: could not deliver to the on-failure destination {queue_arn}: {err}",
            host.name()
        );
    }
}

async fn send_to_queue(
    sqs: &aws_sdk_sqs::Client,
    queue_arn: &str,
    body: String,
) -> Result<(), String> {
    let url = super::sqs::queue_url(sqs, queue_arn).await?;
    sqs.send_message()
        .queue_url(url)
        .message_body(body)
        .send()
        .await
        .map_err(|err| aws_sdk_sqs::error::DisplayErrorContext(&err).to_string())?;
    Ok(())
}

/// The error document Lambda returns for a failed invocation.
fn error_payload(err: &InvokeError) -> Value {
    match err {
        InvokeError::Function {
            error_type,
            message,
            ..
        } => json!({"errorType": error_type, "errorMessage": message}),
        InvokeError::Crashed { .. } | InvokeError::Spawn { .. } => {
            json!({"errorType": "Runtime.ExitError", "errorMessage": err.to_string()})
        }
        InvokeError::Timeout { .. } => {
            json!({"errorType": "Sandbox.Timedout", "errorMessage": err.to_string()})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::function_name;

    #[test]
    fn function_identifiers_come_in_three_forms() {
        assert_eq!(function_name("thumbnail"), "thumbnail");
        assert_eq!(function_name("thumbnail:$LATEST"), "thumbnail");
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:thumbnail:prod"),
            "thumbnail"
        );
    }
}

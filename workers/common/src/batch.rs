//! SQS batches, for the workers a queue feeds: each message on its own, a few at a time, and
//! a partial batch response naming only the messages worth retrying.
//!
//! A message whose object cannot be processed is recorded FAILED by its step and
//! acknowledged: retrying changes nothing. Only faults that may pass (throttling, a concurrent
//! delivery, a child process that could not start) and bodies that are not dispatches leave
//! the message for redelivery; after maxReceiveCount the queue moves it to its DLQ.

use crate::step::StepError;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use futures::stream::{self, StreamExt};
use std::future::Future;
use tracing::warn;

/// Handles every message of `batch` with `handle` (its body), `concurrency` at a time.
pub async fn handle_batch<F, Fut>(
    batch: SqsEvent,
    concurrency: usize,
    handle: F,
) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), StepError>>,
{
    let handle = &handle;
    let outcomes: Vec<(Option<String>, Result<(), StepError>)> = stream::iter(batch.records)
        .map(|message| async move {
            let outcome = handle(message.body.unwrap_or_default()).await;
            (message.message_id, outcome)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    for (message_id, outcome) in outcomes {
        if let Err(err) = outcome {
            warn!(message_id = message_id.as_deref(), error = %err, "left for redelivery");
            response.add_failure(message_id.unwrap_or_default());
        }
    }
    response
}

//! SQS batches, for the workers a queue feeds: each message on its own, a few at a time, and
//! a partial batch response naming only the messages worth retrying.
//!
//! A message whose object cannot be processed is recorded FAILED by its step and
//! acknowledged: retrying changes nothing. Only faults that may pass (throttling, a concurrent
//! delivery, a child process that could not start) and bodies that are not dispatches leave
//! the message for redelivery; after maxReceiveCount the queue moves it to its DLQ. So do the
//! messages the invocation had no time left to start: one that started is always recorded
//! before the deadline, so a timeout never takes a whole batch, finished items included.

use crate::deadline::Invocation;
use crate::step::StepError;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use futures::stream::{self, StreamExt};
use std::future::Future;
use std::time::Duration;
use tracing::warn;

/// How a batch spends its invocation: `concurrency` messages at a time, each started only
/// while `invocation` has `item` (the most one message can take) left besides recording.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub concurrency: usize,
    pub invocation: Invocation,
    pub item: Duration,
}

/// Handles every message of `batch` with `handle` (its body), as `pace` allows.
pub async fn handle_batch<F, Fut>(batch: SqsEvent, pace: Pace, handle: F) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), StepError>>,
{
    let handle = &handle;
    let outcomes: Vec<(Option<String>, Result<(), StepError>)> = stream::iter(batch.records)
        .map(|message| async move {
            // Checked when the message's turn comes, not when the batch arrives.
            if !pace.invocation.fits(pace.item) {
                let left = pace.invocation.remaining();
                return (message.message_id, Err(StepError::NotStarted { left }));
            }
            let outcome = handle(message.body.unwrap_or_default()).await;
            (message.message_id, outcome)
        })
        .buffer_unordered(pace.concurrency.max(1))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadline::RECORDING;
    use serde_json::json;

    fn batch(count: usize) -> SqsEvent {
        let records: Vec<_> = (0..count)
            .map(|n| json!({ "messageId": format!("m{n}"), "body": n.to_string() }))
            .collect();
        serde_json::from_value(json!({ "Records": records })).expect("an SQS event")
    }

    #[tokio::test]
    async fn messages_without_time_left_to_finish_are_handed_back_unstarted() {
        let item = Duration::from_millis(400);
        let pace = Pace {
            concurrency: 2,
            // Room for two rounds of two and a little: the fifth and sixth must not start.
            invocation: Invocation::lasting(RECORDING + item * 2 + item / 2),
            item,
        };
        let started = std::sync::Mutex::new(Vec::new());
        let response = handle_batch(batch(6), pace, |body| {
            started.lock().expect("not poisoned").push(body);
            async move {
                tokio::time::sleep(item).await;
                Ok(())
            }
        })
        .await;
        let mut started = started.into_inner().expect("not poisoned");
        started.sort();
        assert_eq!(started, ["0", "1", "2", "3"]);
        let mut handed_back: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|failure| failure.item_identifier.clone())
            .collect();
        handed_back.sort();
        assert_eq!(handed_back, ["m4", "m5"]);
    }
}

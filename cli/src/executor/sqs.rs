//! An SQS event source mapping, as Lambda runs it: receive a batch, invoke the function with an
//! SQS event, delete what succeeded. Failed messages are left alone, so the queue's visibility
//! timeout redelivers them and its redrive policy moves them to the DLQ.

use super::lambda::{FunctionHost, InvokeError};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use serde_json::{json, Value};
use std::collections::HashSet;

#[derive(Clone, Debug)]
pub struct SqsEventSource {
    pub queue_url: String,
    pub queue_arn: String,
    pub batch_size: i32,
    /// `FunctionResponseTypes = ["ReportBatchItemFailures"]`: the function names failures.
    pub report_batch_item_failures: bool,
}

/// What one poll did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PollReport {
    pub received: usize,
    pub deleted: usize,
    pub failed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("SQS {operation} on {queue} failed: {message}")]
    Sqs {
        operation: &'static str,
        queue: String,
        message: String,
    },
}

impl SqsEventSource {
    /// One receive -> invoke -> delete round. Waits up to `wait_seconds` for messages.
    pub async fn poll_once(
        &self,
        sqs: &aws_sdk_sqs::Client,
        function: &FunctionHost,
        wait_seconds: i32,
    ) -> Result<PollReport, PollError> {
        let received = sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size.clamp(1, 10))
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|err| self.sqs_error("ReceiveMessage", &err))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(PollReport::default());
        }
        let event =
            json!({ "Records": messages.iter().map(|m| self.record(m)).collect::<Vec<_>>() });
        let all_ids = || {
            messages
                .iter()
                .filter_map(|m| m.message_id.clone())
                .collect()
        };
        let failed: HashSet<String> = match function.invoke(event.to_string()).await {
            Ok(response) if self.report_batch_item_failures => {
                reported_failures(&response).unwrap_or_else(all_ids)
            }
            Ok(_) => HashSet::new(),
            Err(err) => {
                log_invoke_error(function.name(), &err);
                all_ids()
            }
        };
        let succeeded: Vec<&Message> = messages
            .iter()
            .filter(|m| m.message_id.as_ref().is_some_and(|id| !failed.contains(id)))
            .collect();
        if !succeeded.is_empty() {
            let entries = succeeded.iter().enumerate().filter_map(|(index, message)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .receipt_handle(message.receipt_handle.clone().unwrap_or_default())
                    .build()
                    .ok()
            });
            sqs.delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries.collect()))
                .send()
                .await
                .map_err(|err| self.sqs_error("DeleteMessageBatch", &err))?;
        }
        eprintln!(
            "[executor] {}: batch of {} from {}: {} done, {} left for redelivery",
            function.name(),
            messages.len(),
            self.queue_arn,
            succeeded.len(),
            messages.len() - succeeded.len()
        );
        Ok(PollReport {
            received: messages.len(),
            deleted: succeeded.len(),
            failed: messages.len() - succeeded.len(),
        })
    }

    /// The record Lambda puts in an SQS event for one message.
    fn record(&self, message: &Message) -> Value {
        let attributes: serde_json::Map<String, Value> = message
            .attributes
            .iter()
            .flatten()
            .map(|(name, value)| (name.as_str().to_owned(), Value::String(value.clone())))
            .collect();
        json!({
            "messageId": message.message_id,
            "receiptHandle": message.receipt_handle,
            "body": message.body,
            "attributes": attributes,
            "messageAttributes": {},
            "md5OfBody": message.md5_of_body,
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": emulator::REGION,
        })
    }

    fn sqs_error<E: std::error::Error + 'static>(
        &self,
        operation: &'static str,
        err: &aws_sdk_sqs::error::SdkError<E, aws_sdk_sqs::config::http::HttpResponse>,
    ) -> PollError {
        PollError::Sqs {
            operation,
            queue: self.queue_url.clone(),
            message: aws_sdk_sqs::error::DisplayErrorContext(err).to_string(),
        }
    }
}

/// Message ids named in a partial batch response. `None` (the whole batch failed) when the
/// response is not one, as Lambda treats it; an empty or `{}` response is full success.
fn reported_failures(response: &[u8]) -> Option<HashSet<String>> {
    if response.is_empty() {
        return Some(HashSet::new());
    }
    let parsed: Value = serde_json::from_slice(response).ok()?;
    match parsed.get("batchItemFailures") {
        None | Some(Value::Null) if parsed.is_object() || parsed.is_null() => Some(HashSet::new()),
        Some(Value::Array(failures)) => failures
            .iter()
            .map(|f| {
                f.get("itemIdentifier")
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty())
                    .map(String::from)
            })
            .collect(),
        _ => None,
    }
}

pub fn is_queue_arn(arn: &str) -> bool {
    arn.starts_with("arn:") && arn.split(':').nth(2) == Some("sqs")
}

/// The URL of the queue `arn:<partition>:sqs:<region>:<account>:<name>` names.
pub async fn queue_url(sqs: &aws_sdk_sqs::Client, arn: &str) -> Result<String, String> {
    let ["arn", _, "sqs", _, account, name] = arn.splitn(6, ':').collect::<Vec<_>>()[..] else {
        return Err(format!("{arn} is not an SQS queue ARN"));
    };
    sqs.get_queue_url()
        .queue_name(name)
        .queue_owner_aws_account_id(account)
        .send()
        .await
        .map_err(|err| aws_sdk_sqs::error::DisplayErrorContext(&err).to_string())?
        .queue_url
        .ok_or_else(|| format!("GetQueueUrl returned no URL for {arn}"))
}

fn log_invoke_error(function: &str, err: &InvokeError) {
    eprintln!("[executor] {function}: {err}; the batch is left for redelivery");
}

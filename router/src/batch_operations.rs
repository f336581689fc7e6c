//! S3 Batch Operations invoking the router: a job over an inventory manifest hands it tasks
//! (a key and version each) and reads a result per task into its completion report. The
//! router answers each task as it routes an upload, so a job at AWS's scale takes the same
//! path as `triage backfill`.
//!
//! The types are ours because `aws_lambda_events`'s lack schema 2.0's `s3Bucket` (2.0 names
//! the bucket, 1.0 its ARN).

use object_events::{KeyError, ObjectKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One invocation: schema 1.0 or 2.0.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInvocation {
    pub invocation_schema_version: String,
    pub invocation_id: String,
    pub job: Job,
    pub tasks: Vec<Task>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub task_id: String,
    /// Form-encoded, as in the manifest and in S3 event notifications.
    pub s3_key: String,
    #[serde(default)]
    pub s3_version_id: Option<String>,
    #[serde(default)]
    pub s3_bucket: Option<String>,
    #[serde(default)]
    pub s3_bucket_arn: Option<String>,
}

impl Task {
    /// The task's bucket: named (2.0) or the last part of its ARN (1.0, which may carry a
    /// region and account, `arn:aws:s3:us-east-1:123456789012:bucket`).
    pub fn bucket(&self) -> Option<&str> {
        self.s3_bucket
            .as_deref()
            .or_else(|| self.s3_bucket_arn.as_deref()?.rsplit(':').next())
            .filter(|bucket| !bucket.is_empty())
    }

    pub fn key(&self) -> Result<ObjectKey, KeyError> {
        ObjectKey::from_event_encoding(&self.s3_key)
    }

    /// The version the task names; a manifest of an unversioned bucket may say "null".
    pub fn version_id(&self) -> Option<&str> {
        self.s3_version_id
            .as_deref()
            .filter(|id| !id.is_empty() && *id != "null")
    }
}

/// Whether a payload is a Batch Operations invocation rather than an S3, SNS or SQS event.
pub fn is_invocation(event: &Value) -> bool {
    event.get("invocationSchemaVersion").is_some() && event.get("tasks").is_some()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResultCode {
    Succeeded,
    /// Batch Operations retries the task.
    TemporaryFailure,
    PermanentFailure,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    pub task_id: String,
    pub result_code: ResultCode,
    pub result_string: String,
}

impl TaskResult {
    pub fn new(task: &Task, result_code: ResultCode, result_string: impl Into<String>) -> Self {
        Self {
            task_id: task.task_id.clone(),
            result_code,
            result_string: result_string.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobResponse {
    pub invocation_schema_version: String,
    pub treat_missing_keys_as: ResultCode,
    pub invocation_id: String,
    pub results: Vec<TaskResult>,
}

impl JobInvocation {
    /// The answer, in the schema the job asked in. A task with no result (none should be left)
    /// counts as missing: a permanent failure, not a silent success.
    pub fn respond(&self, results: Vec<TaskResult>) -> JobResponse {
        JobResponse {
            invocation_schema_version: self.invocation_schema_version.clone(),
            treat_missing_keys_as: ResultCode::PermanentFailure,
            invocation_id: self.invocation_id.clone(),
            results,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/../samples/events/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("fixture");
        serde_json::from_str(&text).expect("fixture is JSON")
    }

    #[test]
    fn both_schemas_name_the_bucket_key_and_version() {
        for (name, version) in [
            ("batch-operations-1.0.json", Some("1")),
            ("batch-operations-2.0.json", None),
        ] {
            let event = fixture(name);
            assert!(is_invocation(&event), "{name}");
            let invocation: JobInvocation = serde_json::from_value(event).expect(name);
            let [task] = invocation.tasks.as_slice() else {
                panic!("{name}: one task expected");
            };
            assert_eq!(task.bucket(), Some("amzn-s3-demo-bucket"), "{name}");
            assert_eq!(task.key().expect("key").as_str(), "customerImage1.jpg");
            assert_eq!(task.version_id(), version, "{name}");
        }
    }

    #[test]
    fn keys_are_form_decoded_and_a_null_version_names_none() {
        let task: Task = serde_json::from_value(serde_json::json!({
            "taskId": "t1", "s3Key": "uploads/a+b%C3%A9.pdf", "s3VersionId": "null",
            "s3BucketArn": "arn:aws:s3:::uploads-bucket"
        }))
        .expect("task");
        assert_eq!(task.key().expect("key").as_str(), "uploads/a bé.pdf");
        assert_eq!(task.bucket(), Some("uploads-bucket"));
        assert_eq!(task.version_id(), None);
    }

    #[test]
    fn the_response_answers_in_the_schema_asked_with_missing_results_failed() {
        let invocation: JobInvocation =
            serde_json::from_value(fixture("batch-operations-2.0.json")).expect("invocation");
        let result = TaskResult::new(&invocation.tasks[0], ResultCode::Succeeded, "ROUTED");
        let response = serde_json::to_value(invocation.respond(vec![result])).expect("json");
        assert_eq!(
            response,
            serde_json::json!({
                "invocationSchemaVersion": "2.0",
                "treatMissingKeysAs": "PermanentFailure",
                "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
                "results": [{
                    "taskId": "dGFza2lkZ29lc2hlcmUK",
                    "resultCode": "Succeeded",
                    "resultString": "ROUTED"
                }]
            })
        );
    }

    #[test]
    fn s3_and_sqs_events_are_not_invocations() {
        assert!(!is_invocation(&fixture("s3-put.json")));
        assert!(!is_invocation(&fixture("sqs-s3-put.json")));
    }
}

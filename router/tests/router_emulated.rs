//! The router handler end to end against the emulator: real DynamoDB, SQS and SNS over HTTP.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use emulator::Emulator;
use notifications::table;
use notifications::{Recorder, RecorderSettings};
use object_events::{Dispatch, Tier};
use router::dispatch::{AwsDispatcher, DispatchTargets, LargeTaskTarget};
use router::handler::Router;
use router::policy::{RoutingPolicy, DEFAULT_LARGE_LIMIT, DEFAULT_RESERVED_PREFIX};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

struct Stack {
    router: Router<AwsDispatcher>,
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    table: String,
    extractor_queue: String,
    compliance_queue: String,
}

fn unique(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

async fn stack() -> Stack {
    let config = Emulator::shared()
        .expect("emulator starts")
        .sdk_config()
        .await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let table = unique("audit");
    table::create_table(&dynamodb, &table).await.expect("table");
    let create_queue = |name: String| {
        let sqs = sqs.clone();
        async move {
            sqs.create_queue()
                .queue_name(name)
                .send()
                .await
                .expect("queue")
                .queue_url
                .expect("url")
        }
    };
    let create_topic = |name: String| {
        let sns = sns.clone();
        async move {
            sns.create_topic()
                .name(name)
                .send()
                .await
                .expect("topic")
                .topic_arn
                .expect("arn")
        }
    };
    let extractor_queue = create_queue(unique("extractor")).await;
    let compliance_queue = create_queue(unique("compliance-checker")).await;
    let compliance_topic = create_topic(unique("compliance")).await;
    let notifications_topic = create_topic(unique("notifications")).await;
    let compliance_queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&compliance_queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("attributes")
        .attributes
        .and_then(|mut a| a.remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .expect("arn");
    sns.subscribe()
        .topic_arn(&compliance_topic)
        .protocol("sqs")
        .endpoint(compliance_queue_arn)
        .attributes("RawMessageDelivery", "true")
        .attributes("FilterPolicy", r#"{"content_kind":["pdf"]}"#)
        .send()
        .await
        .expect("subscribed");

    let dispatcher = AwsDispatcher {
        lambda: aws_sdk_lambda::Client::new(&config),
        sqs: sqs.clone(),
        sns: sns.clone(),
        ecs: aws_sdk_ecs::Client::new(&config),
        targets: DispatchTargets {
            thumbnail_function: "thumbnail-not-deployed-in-this-test".into(),
            extractor_queue_url: extractor_queue.clone(),
            compliance_topic_arn: compliance_topic,
            large_task: LargeTaskTarget {
                cluster: "not-deployed".into(),
                task_definition: "not-deployed".into(),
                container: "large-file".into(),
                subnets: vec!["subnet-0".into()],
                security_groups: vec!["sg-0".into()],
                assign_public_ip: false,
            },
        },
    };
    let recorder = Recorder::new(
        dynamodb.clone(),
        sns,
        RecorderSettings {
            table: table.clone(),
            topic_arn: notifications_topic,
            worker: "router".into(),
            environment: "test".into(),
            retention: Duration::from_secs(3600),
            claim_lease: Duration::from_secs(60),
        },
    );
    let policy = RoutingPolicy::new(
        RoutingPolicy::default_rules(),
        DEFAULT_RESERVED_PREFIX,
        DEFAULT_LARGE_LIMIT,
    )
    .expect("default policy");
    Stack {
        router: Router::new(policy, dispatcher, recorder),
        dynamodb,
        sqs,
        table,
        extractor_queue,
        compliance_queue,
    }
}

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../samples/events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture JSON")
}

/// An S3 put event for `raw_key` (as S3 encodes it), version `version`, `size` bytes.
fn s3_event(raw_key: &str, version: &str, size: u64) -> Value {
    let mut event = fixture("s3-put.json");
    let object = &mut event["Records"][0]["s3"]["object"];
    object["key"] = json!(raw_key);
    object["versionId"] = json!(version);
    object["size"] = json!(size);
    event
}

fn sqs_batch(bodies: &[(&str, String)]) -> SqsEvent {
    let records: Vec<Value> = bodies
        .iter()
        .map(|(id, body)| json!({"eventSource": "aws:sqs", "messageId": id, "body": body}))
        .collect();
    serde_json::from_value(json!({ "Records": records })).expect("SQS event")
}

fn failed_ids(response: &SqsBatchResponse) -> Vec<String> {
    let mut ids: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    ids.sort();
    ids
}

async fn receive_all(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let batch = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive")
            .messages
            .unwrap_or_default();
        if batch.is_empty() {
            return bodies;
        }
        for message in batch {
            bodies.push(message.body.unwrap_or_default());
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle.unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
    }
}

async fn audit_items(stack: &Stack) -> Vec<HashMap<String, String>> {
    let items = stack
        .dynamodb
        .scan()
        .table_name(&stack.table)
        .send()
        .await
        .expect("scan")
        .items;
    items
        .unwrap_or_default()
        .into_iter()
        .map(|item| {
            item.into_iter()
                .filter_map(|(name, value)| value.as_s().ok().map(|s| (name, s.clone())))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn duplicate_deliveries_route_and_dispatch_once() {
    let stack = stack().await;
    let event = s3_event("uploads/documents/Q3+report+%2B+notes.pdf", "v1", 2048).to_string();
    for delivery in ["m-1", "m-2", "m-3"] {
        let response = stack
            .router
            .handle_sqs(sqs_batch(&[(delivery, event.clone())]))
            .await
            .expect("handled");
        assert!(failed_ids(&response).is_empty(), "{delivery}: {response:?}");
    }

    let dispatched = receive_all(&stack.sqs, &stack.extractor_queue).await;
    assert_eq!(dispatched.len(), 1, "{dispatched:?}");
    let dispatch: Dispatch = serde_json::from_str(&dispatched[0]).expect("dispatch message");
    assert_eq!(dispatch.tier, Tier::Document);
    assert_eq!(dispatch.rule, "documents");
    assert_eq!(
        dispatch.object.key.as_str(),
        "uploads/documents/Q3 report + notes.pdf"
    );
    assert_eq!(dispatch.object.version_id.as_deref(), Some("v1"));

    let items = audit_items(&stack).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(item["status"], "ROUTED");
    assert_eq!(item["tier"], "document");
    assert_eq!(item["stage"], "router");
    assert_eq!(item["key"], "uploads/documents/Q3 report + notes.pdf");
    assert_eq!(item["correlation_id"], dispatch.correlation_id.as_str());
    assert_eq!(item["delivery"], "notified");
}

#[tokio::test]
async fn duplicates_inside_one_batch_are_retried_not_dispatched_twice() {
    let stack = stack().await;
    let event = s3_event("uploads/documents/dup.pdf", "v1", 10).to_string();
    let batch = || {
        sqs_batch(&[
            ("a", event.clone()),
            ("b", event.clone()),
            ("c", event.clone()),
        ])
    };
    let first = stack.router.handle_sqs(batch()).await.expect("handled");
    // One delivery wins the claim; the others find it in progress and ask to be retried.
    assert_eq!(failed_ids(&first).len(), 2, "{first:?}");
    let retry = stack.router.handle_sqs(batch()).await.expect("handled");
    assert!(failed_ids(&retry).is_empty(), "{retry:?}");
    assert_eq!(
        receive_all(&stack.sqs, &stack.extractor_queue).await.len(),
        1
    );
    assert_eq!(audit_items(&stack).await.len(), 1);
}

#[tokio::test]
async fn two_versions_of_one_key_are_two_routes() {
    let stack = stack().await;
    let v1 = s3_event("uploads/documents/a.pdf", "v1", 10).to_string();
    let v2 = s3_event("uploads/documents/a.pdf", "v2", 10).to_string();
    let response = stack
        .router
        .handle_sqs(sqs_batch(&[("1", v1), ("2", v2)]))
        .await
        .expect("handled");
    assert!(failed_ids(&response).is_empty());
    assert_eq!(
        receive_all(&stack.sqs, &stack.extractor_queue).await.len(),
        2
    );
    assert_eq!(audit_items(&stack).await.len(), 2);
}

#[tokio::test]
async fn a_malformed_body_fails_alone_while_the_rest_of_the_batch_is_routed() {
    let stack = stack().await;
    let batch = sqs_batch(&[
        (
            "good",
            s3_event("uploads/compliance/contract.pdf", "v1", 99).to_string(),
        ),
        ("malformed", "this is not json {".into()),
        (
            "unidentifiable",
            json!({"Records": [{"eventName": "ObjectCreated:Put", "s3": {}}]}).to_string(),
        ),
        ("test-event", fixture("s3-test-event.json").to_string()),
        (
            "empty",
            s3_event("uploads/images/empty.png", "v1", 0).to_string(),
        ),
        ("elsewhere", s3_event("other/x.png", "v1", 5).to_string()),
    ]);
    let response = stack.router.handle_sqs(batch).await.expect("handled");
    assert_eq!(failed_ids(&response), ["malformed", "unidentifiable"]);

    let checks = receive_all(&stack.sqs, &stack.compliance_queue).await;
    assert_eq!(checks.len(), 1);
    let dispatch: Dispatch = serde_json::from_str(&checks[0]).expect("dispatch");
    assert_eq!(dispatch.tier, Tier::Compliance);
    assert_eq!(
        dispatch.object.key.as_str(),
        "uploads/compliance/contract.pdf"
    );

    let mut statuses: Vec<(String, String, Option<String>)> = audit_items(&stack)
        .await
        .into_iter()
        .map(|item| {
            (
                item["key"].clone(),
                item["status"].clone(),
                item.get("reason").cloned(),
            )
        })
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            (
                "other/x.png".into(),
                "IGNORED".into(),
                Some("key matches no routing rule".into())
            ),
            (
                "uploads/compliance/contract.pdf".into(),
                "ROUTED".into(),
                None
            ),
            (
                "uploads/images/empty.png".into(),
                "REJECTED".into(),
                Some("empty object (0 bytes)".into())
            ),
        ]
    );
}

#[tokio::test]
async fn a_dispatch_failure_is_retried_and_the_claim_released() {
    let stack = stack().await;
    // No thumbnail function exists in this emulator: Invoke fails with ResourceNotFound.
    let event = s3_event("uploads/images/cat.jpg", "v1", 10).to_string();
    let response = stack
        .router
        .handle_sqs(sqs_batch(&[("m", event.clone())]))
        .await
        .expect("handled");
    assert_eq!(failed_ids(&response), ["m"]);
    let items = audit_items(&stack).await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["delivery"], "claimed",
        "not notified until dispatched"
    );
    // Released: the redelivery tries again at once instead of waiting out the lease.
    let again = stack
        .router
        .handle_sqs(sqs_batch(&[("m", event)]))
        .await
        .expect("handled");
    assert_eq!(failed_ids(&again), ["m"]);
}

#[tokio::test]
async fn direct_s3_events_are_handled_too() {
    let stack = stack().await;
    let outcome = stack
        .router
        .handle(s3_event("uploads/documents/direct.pdf", "v1", 10))
        .await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(
        receive_all(&stack.sqs, &stack.extractor_queue).await.len(),
        1
    );
    let malformed = stack.router.handle(json!({"hello": "world"})).await;
    assert!(malformed.is_err());
}

//! The router handler end to end against the emulator: real DynamoDB, SQS and SNS over HTTP.

use audit::table;
use audit::RecorderSettings;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_ecs::types::DesiredStatus;
use notifications::SnsNotifier;
use object_events::{Dispatch, Tier};
use router::dispatch::{AwsDispatcher, Capacity, DispatchTargets, LargeTaskTarget};
use router::fleet::Fleet;
use router::handler::Router;
use router::policy::{RoutingPolicy, DEFAULT_LARGE_LIMIT, DEFAULT_RESERVED_PREFIX};
use router::versions::S3Versions;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use testkit::resources::{ecs_tasks, unique, TestResources};

struct Stack {
    router: Router<AwsDispatcher>,
    aws: TestResources,
    dynamodb: aws_sdk_dynamodb::Client,
    lambda: aws_sdk_lambda::Client,
    ecs: aws_sdk_ecs::Client,
    thumbnail_function: String,
    cluster: String,
    large_queue: String,
    table: String,
    extractor_queue: String,
    compliance_queue: String,
}

/// A cluster and Fargate task definition for the large tier, in the default VPC's first
/// subnet, and its queue: at most 3 tasks, 2 objects each.
async fn large_task(aws: &TestResources, ecs: &aws_sdk_ecs::Client) -> LargeTaskTarget {
    use aws_sdk_ecs::types::{Compatibility, ContainerDefinition, NetworkMode};
    let cluster = unique("triage");
    ecs.create_cluster()
        .cluster_name(&cluster)
        .capacity_providers("FARGATE")
        .capacity_providers("FARGATE_SPOT")
        .send()
        .await
        .expect("cluster");
    ecs.register_task_definition()
        .family("large-file")
        .requires_compatibilities(Compatibility::Fargate)
        .network_mode(NetworkMode::Awsvpc)
        .cpu("1024")
        .memory("2048")
        .container_definitions(
            ContainerDefinition::builder()
                .name("large-file")
                .image("large-file:test")
                .memory(2048)
                .build(),
        )
        .send()
        .await
        .expect("task definition");
    let subnet = aws.emulator.default_subnet().expect("a default subnet");
    LargeTaskTarget {
        queue_url: aws.queue("large").await,
        fleet: Fleet {
            max_tasks: 3,
            messages_per_task: 2,
        },
        cluster,
        family: "large-file".into(),
        subnets: vec![subnet.to_owned()],
        security_groups: vec!["sg-0".into()],
        assign_public_ip: false,
        capacity: Capacity::Spot,
    }
}

async fn stack() -> Stack {
    let aws = TestResources::new().await;
    let lambda = aws_sdk_lambda::Client::new(&aws.config);
    let ecs = aws_sdk_ecs::Client::new(&aws.config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws.config);
    let thumbnail_function = aws.function("thumbnail").await;
    let large_task = large_task(&aws, &ecs).await;
    let (cluster, large_queue) = (large_task.cluster.clone(), large_task.queue_url.clone());
    let table = unique("audit");
    table::create_table(&dynamodb, &table).await.expect("table");
    let extractor_queue = aws.queue("extractor").await;
    let compliance_topic = aws.topic("compliance").await;
    let notifications_topic = aws.topic("notifications").await;
    let compliance_queue = aws
        .subscribed_queue(
            &compliance_topic,
            &[
                ("RawMessageDelivery", "true"),
                ("FilterPolicy", r#"{"content_kind":["pdf"]}"#),
            ],
        )
        .await;

    let dispatcher = AwsDispatcher {
        lambda: lambda.clone(),
        sqs: aws.sqs.clone(),
        sns: aws.sns.clone(),
        ecs: ecs.clone(),
        targets: DispatchTargets {
            thumbnail_function: thumbnail_function.clone(),
            extractor_queue_url: extractor_queue.clone(),
            compliance_topic_arn: compliance_topic,
            large_task,
        },
    };
    let recorder = SnsNotifier::recorder(
        &aws.config,
        RecorderSettings {
            table: table.clone(),
            topic_arn: notifications_topic,
            worker: "router".into(),
            environment: "test".into(),
            retention: Duration::from_secs(3600),
            claim_lease: Duration::from_secs(60),
            emit_metrics: false,
        },
    );
    let policy = RoutingPolicy::new(
        RoutingPolicy::default_rules(),
        DEFAULT_RESERVED_PREFIX,
        DEFAULT_LARGE_LIMIT,
    )
    .expect("default policy");
    Stack {
        router: Router::new(
            policy,
            dispatcher,
            recorder,
            S3Versions {
                s3: aws_sdk_s3::Client::new(&aws.config),
            },
        ),
        aws,
        dynamodb,
        lambda,
        ecs,
        thumbnail_function,
        cluster,
        large_queue,
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

/// (key, `field`, reason) of every audit item, sorted.
async fn audit_summary(stack: &Stack, field: &str) -> Vec<(String, String, Option<String>)> {
    let mut summary: Vec<_> = audit_items(stack)
        .await
        .into_iter()
        .map(|item| {
            (
                item["key"].clone(),
                item[field].clone(),
                item.get("reason").cloned(),
            )
        })
        .collect();
    summary.sort();
    summary
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

    let dispatched = stack.aws.drain(&stack.extractor_queue).await;
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
async fn duplicates_inside_one_batch_are_dispatched_once() {
    let stack = stack().await;
    let event = s3_event("uploads/documents/dup.pdf", "v1", 10).to_string();
    let batch = || {
        sqs_batch(&[
            ("a", event.clone()),
            ("b", event.clone()),
            ("c", event.clone()),
        ])
    };
    // The first copy is routed; the copies share its outcome instead of racing it.
    let first = stack.router.handle_sqs(batch()).await.expect("handled");
    assert!(failed_ids(&first).is_empty(), "{first:?}");
    let redelivered = stack.router.handle_sqs(batch()).await.expect("handled");
    assert!(failed_ids(&redelivered).is_empty(), "{redelivered:?}");
    assert_eq!(stack.aws.drain(&stack.extractor_queue).await.len(), 1);
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
    assert_eq!(stack.aws.drain(&stack.extractor_queue).await.len(), 2);
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

    let checks = stack.aws.drain(&stack.compliance_queue).await;
    assert_eq!(checks.len(), 1);
    let dispatch: Dispatch = serde_json::from_str(&checks[0]).expect("dispatch");
    assert_eq!(dispatch.tier, Tier::Compliance);
    assert_eq!(
        dispatch.object.key.as_str(),
        "uploads/compliance/contract.pdf"
    );

    let statuses = audit_summary(&stack, "status").await;
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
    // With the thumbnail function gone, Invoke fails with ResourceNotFound.
    stack
        .lambda
        .delete_function()
        .function_name(&stack.thumbnail_function)
        .send()
        .await
        .expect("deleted");
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
    assert_eq!(stack.aws.drain(&stack.extractor_queue).await.len(), 1);
    let malformed = stack.router.handle(json!({"hello": "world"})).await;
    assert!(malformed.is_err());
}

/// The cluster's tasks by desired status: (startedBy, capacity provider, stopped reason).
async fn tasks(stack: &Stack, status: DesiredStatus) -> Vec<(String, String, String)> {
    let mut tasks: Vec<_> = ecs_tasks(&stack.ecs, &stack.cluster, status)
        .await
        .into_iter()
        .map(|task| {
            assert!(
                task.overrides
                    .and_then(|o| o.container_overrides)
                    .unwrap_or_default()
                    .is_empty(),
                "a queue-fed task is started with nothing of its own"
            );
            (
                task.started_by.unwrap_or_default(),
                task.capacity_provider_name.unwrap_or_default(),
                task.stopped_reason.unwrap_or_default(),
            )
        })
        .collect();
    tasks.sort();
    tasks
}

fn oversize_images(names: std::ops::Range<u32>) -> SqsEvent {
    let bodies: Vec<(String, String)> = names
        .map(|n| {
            let key = format!("uploads/images/panorama-{n}.png");
            (
                format!("big-{n}"),
                s3_event(&key, "v1", 30 * 1024 * 1024).to_string(),
            )
        })
        .collect();
    let bodies: Vec<(&str, String)> = bodies
        .iter()
        .map(|(id, b)| (id.as_str(), b.clone()))
        .collect();
    sqs_batch(&bodies)
}

#[tokio::test]
async fn oversize_files_are_queued_and_tasks_started_for_the_backlog_up_to_the_maximum() {
    let stack = stack().await;
    let batch = sqs_batch(&[
        (
            "small",
            s3_event("uploads/images/cat.jpg", "v1", 1024 * 1024).to_string(),
        ),
        (
            "big",
            s3_event("uploads/images/panorama.png", "v1", 30 * 1024 * 1024).to_string(),
        ),
    ]);
    let response = stack.router.handle_sqs(batch).await.expect("handled");
    assert!(failed_ids(&response).is_empty(), "{response:?}");
    let slot = |n: u32| router::fleet::started_by(n);
    assert_eq!(
        tasks(&stack, DesiredStatus::Running).await,
        [(slot(0), "FARGATE_SPOT".into(), String::new())],
        "one task for one object"
    );
    let routes = audit_summary(&stack, "tier").await;
    assert_eq!(
        routes,
        [
            ("uploads/images/cat.jpg".into(), "thumbnail".into(), None),
            (
                "uploads/images/panorama.png".into(),
                "large".into(),
                Some("30 MiB exceeds rule \"images\"'s 20 MiB limit for the thumbnail tier".into())
            ),
        ]
    );

    // A burst: 8 waiting at 2 per task calls for 4 tasks; the maximum is 3.
    let response = stack
        .router
        .handle_sqs(oversize_images(0..7))
        .await
        .expect("handled");
    assert!(failed_ids(&response).is_empty(), "{response:?}");
    let running = tasks(&stack, DesiredStatus::Running).await;
    let slots: Vec<&str> = running.iter().map(|(by, ..)| by.as_str()).collect();
    assert_eq!(slots, [slot(0), slot(1), slot(2)]);

    // A router that raced another into slot 1: the second task in the slot is stopped.
    let subnet = stack
        .aws
        .emulator
        .default_subnet()
        .expect("subnet")
        .to_owned();
    stack
        .ecs
        .run_task()
        .cluster(&stack.cluster)
        .task_definition("large-file")
        .started_by(slot(1))
        .count(1)
        .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
        .network_configuration(
            aws_sdk_ecs::types::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    aws_sdk_ecs::types::AwsVpcConfiguration::builder()
                        .subnets(subnet)
                        .security_groups("sg-0")
                        .build()
                        .expect("network"),
                )
                .build(),
        )
        .send()
        .await
        .expect("a racing start");
    let response = stack
        .router
        .handle_sqs(oversize_images(7..8))
        .await
        .expect("handled");
    assert!(failed_ids(&response).is_empty(), "{response:?}");
    let running = tasks(&stack, DesiredStatus::Running).await;
    assert_eq!(running.len(), 3, "{running:?}");
    let stopped = tasks(&stack, DesiredStatus::Stopped).await;
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!(stopped[0].0, slot(1));
    assert!(stopped[0].2.contains("same slot"), "{stopped:?}");

    // Every task reclaimed with the dispatches still waiting: the schedule's tick starts a fleet
    // again without another upload.
    for task in ecs_tasks(&stack.ecs, &stack.cluster, DesiredStatus::Running).await {
        stack
            .ecs
            .stop_task()
            .cluster(&stack.cluster)
            .task(task.task_arn.unwrap_or_default())
            .reason("reclaimed")
            .send()
            .await
            .expect("stopped");
    }
    assert!(tasks(&stack, DesiredStatus::Running).await.is_empty());
    let tick = json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-12-06T12:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/s3-triage-router"],
        "detail": {}
    });
    assert_eq!(
        stack.router.handle(tick).await.expect("ticked"),
        Value::Null
    );
    let running = tasks(&stack, DesiredStatus::Running).await;
    let slots: Vec<&str> = running.iter().map(|(by, ..)| by.as_str()).collect();
    assert_eq!(slots, [slot(0), slot(1), slot(2)]);

    // Every object's dispatch waits in the queue, once.
    let mut queued: Vec<String> = stack
        .aws
        .drain(&stack.large_queue)
        .await
        .iter()
        .map(|body| {
            let dispatch: Dispatch = serde_json::from_str(body).expect("dispatch JSON");
            assert_eq!(dispatch.tier, Tier::Large);
            dispatch.object.key.as_str().to_owned()
        })
        .collect();
    queued.sort();
    let mut expected: Vec<String> = (0..8)
        .map(|n| format!("uploads/images/panorama-{n}.png"))
        .chain(["uploads/images/panorama.png".to_owned()])
        .collect();
    expected.sort();
    assert_eq!(queued, expected);
}

async fn versioned_bucket(s3: &aws_sdk_s3::Client) -> String {
    let bucket = unique("versioned");
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("bucket");
    s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("versioning on");
    bucket
}

#[tokio::test]
async fn an_event_without_a_version_on_a_versioned_bucket_joins_the_version_it_announced() {
    let stack = stack().await;
    let s3 = aws_sdk_s3::Client::new(&stack.aws.config);
    let bucket = versioned_bucket(&s3).await;
    let key = "uploads/documents/minutes.pdf";
    let put = |body: &'static [u8]| {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(body.to_vec().into())
            .send()
    };
    let announced = put(b"%PDF-1.7 first").await.expect("first version");
    // Overwritten before the router sees the event: the eTag still finds the first version.
    put(b"%PDF-1.7 second").await.expect("second version");
    let version = announced.version_id().expect("a version id").to_owned();
    let etag = announced
        .e_tag()
        .expect("an eTag")
        .trim_matches('"')
        .to_owned();

    let event = |version_id: Option<&str>| {
        let mut event = s3_event(key, "unused", 14);
        event["Records"][0]["s3"]["bucket"]["name"] = json!(bucket);
        let object = &mut event["Records"][0]["s3"]["object"];
        object["eTag"] = json!(etag);
        match version_id {
            Some(version) => object["versionId"] = json!(version),
            None => {
                object.as_object_mut().expect("object").remove("versionId");
            }
        }
        event.to_string()
    };
    for (message, body) in [("without", event(None)), ("with", event(Some(&version)))] {
        let response = stack
            .router
            .handle_sqs(sqs_batch(&[(message, body)]))
            .await
            .expect("handled");
        assert!(failed_ids(&response).is_empty(), "{message}: {response:?}");
    }
    let items = audit_items(&stack).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["sk"], format!("v:{version}#router"));
    let dispatched = stack.aws.drain(&stack.extractor_queue).await;
    assert_eq!(dispatched.len(), 1, "{dispatched:?}");
    let dispatch: Dispatch = serde_json::from_str(&dispatched[0]).expect("dispatch message");
    assert_eq!(
        dispatch.object.version_id.as_deref(),
        Some(version.as_str())
    );
}

#[tokio::test]
async fn a_batch_operations_job_routes_each_task_and_fails_the_missing_one_for_good() {
    let stack = stack().await;
    let s3 = aws_sdk_s3::Client::new(&stack.aws.config);
    let bucket = versioned_bucket(&s3).await;
    let put = |key: &'static str, body: &'static [u8]| {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(body.to_vec().into())
            .send()
    };
    let first = put("uploads/documents/a.pdf", b"%PDF-1.7 first")
        .await
        .expect("put");
    put("uploads/documents/a.pdf", b"%PDF-1.7 second")
        .await
        .expect("put");
    put("uploads/compliance/b + c.txt", b"hello")
        .await
        .expect("put");
    put("uploads/images/empty.png", b"").await.expect("put");
    put("other/x.png", b"png").await.expect("put");
    let first_version = first.version_id().expect("a version id").to_owned();

    // AWS's documented 2.0 invocation, with five tasks: one names an older version, one a key
    // that needs encoding, one an object that is not there.
    let mut invocation = fixture("batch-operations-2.0.json");
    let task = |id: &str, key: &str, version: Option<&str>| json!({"taskId": id, "s3Key": key, "s3VersionId": version, "s3Bucket": bucket});
    invocation["tasks"] = json!([
        task("older", "uploads/documents/a.pdf", Some(&first_version)),
        task("encoded", "uploads/compliance/b+%2B+c.txt", None),
        task("empty", "uploads/images/empty.png", None),
        task("unrouted", "other/x.png", None),
        task("missing", "uploads/documents/gone.pdf", None),
    ]);
    let results = |response: Value| -> Vec<(String, String, String)> {
        assert_eq!(response["invocationSchemaVersion"], "2.0");
        assert_eq!(response["treatMissingKeysAs"], "PermanentFailure");
        response["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|result| {
                let text = |name: &str| result[name].as_str().unwrap_or_default().to_owned();
                (text("taskId"), text("resultCode"), text("resultString"))
            })
            .collect()
    };
    let answered = results(
        stack
            .router
            .handle(invocation.clone())
            .await
            .expect("handled"),
    );
    let code_and_text: Vec<(&str, &str)> = answered
        .iter()
        .map(|(_, code, text)| (code.as_str(), text.as_str()))
        .collect();
    let ids: Vec<&str> = answered.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(ids, ["older", "encoded", "empty", "unrouted", "missing"]);
    assert_eq!(code_and_text[0], ("Succeeded", "ROUTED to document"));
    assert_eq!(code_and_text[1], ("Succeeded", "ROUTED to compliance"));
    assert_eq!(
        code_and_text[2],
        ("Succeeded", "REJECTED: empty object (0 bytes)")
    );
    assert_eq!(
        code_and_text[3],
        ("Succeeded", "IGNORED: key matches no routing rule")
    );
    assert_eq!(code_and_text[4].0, "PermanentFailure");
    assert!(
        code_and_text[4]
            .1
            .contains("uploads/documents/gone.pdf does not exist"),
        "{:?}",
        code_and_text[4]
    );

    let items = audit_items(&stack).await;
    assert_eq!(items.len(), 4, "{items:?}");
    assert!(
        items
            .iter()
            .all(|item| item["origin"] == "batch-operations"),
        "{items:?}"
    );
    let older = items
        .iter()
        .find(|item| item["key"] == "uploads/documents/a.pdf")
        .expect("the older version's record");
    assert_eq!(older["sk"], format!("v:{first_version}#router"));
    let dispatched = stack.aws.drain(&stack.extractor_queue).await;
    assert_eq!(dispatched.len(), 1, "{dispatched:?}");
    let dispatch: Dispatch = serde_json::from_str(&dispatched[0]).expect("dispatch message");
    assert_eq!(
        dispatch.object.version_id.as_deref(),
        Some(first_version.as_str())
    );

    // Batch Operations retries and reruns tasks: the same answers, nothing written twice.
    let again = results(stack.router.handle(invocation).await.expect("handled"));
    assert_eq!(again, answered);
    assert_eq!(audit_items(&stack).await.len(), 4);
    assert!(stack.aws.drain(&stack.extractor_queue).await.is_empty());
}

#[tokio::test]
async fn a_redelivered_reprocess_request_routes_its_run_once_beside_the_first() {
    let stack = stack().await;
    let upload = s3_event("uploads/documents/redo.pdf", "v1", 10);
    let mut request = upload.clone();
    let run = "r20261203T120000-0123abcd";
    request["Records"][0][object_events::run::ANNOUNCEMENT_FIELD] =
        json!({ "origin": "reprocess", "run": run });
    let (upload, request) = (upload.to_string(), request.to_string());
    // The upload, then the request twice in one batch and once more in another.
    for batch in [
        vec![("upload", upload)],
        vec![("request", request.clone()), ("copy", request.clone())],
        vec![("redelivery", request)],
    ] {
        let response = stack
            .router
            .handle_sqs(sqs_batch(&batch))
            .await
            .expect("handled");
        assert!(failed_ids(&response).is_empty(), "{response:?}");
    }
    let mut items: Vec<(String, Option<String>, Option<String>)> = audit_items(&stack)
        .await
        .into_iter()
        .map(|item| {
            (
                item["sk"].clone(),
                item.get("superseded_by").cloned(),
                item.get("origin").cloned(),
            )
        })
        .collect();
    items.sort();
    assert_eq!(
        items,
        [
            ("v:v1#router".into(), Some(run.into()), None),
            (format!("v:v1#router#{run}"), None, Some("reprocess".into())),
        ]
    );
    let dispatched = stack.aws.drain(&stack.extractor_queue).await;
    let runs: Vec<Option<String>> = dispatched
        .iter()
        .map(|body| {
            let dispatch: Dispatch = serde_json::from_str(body).expect("dispatch message");
            dispatch.object.run.id().map(str::to_owned)
        })
        .collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs.contains(&None) && runs.contains(&Some(run.to_owned())));
}

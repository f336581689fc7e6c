//! The local executor's contracts, with the real router and extractor binaries as functions.

use audit::table;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use testkit::resources::{unique, TestResources};
use triage::executor::lambda::{FunctionHost, FunctionSpec, InvokeError};
use triage::executor::sqs::{PollReport, SqsEventSource};

/// `cargo test --workspace` builds every binary beside this package's own.
fn workspace_binary(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_triage")).with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p {name}`",
        path.display()
    );
    path
}

/// The router, hosted under `name`.
fn spec(name: &str, environment: BTreeMap<String, String>) -> FunctionSpec {
    FunctionSpec {
        name: name.into(),
        binary: workspace_binary("router"),
        environment,
        timeout: Duration::from_secs(30),
        memory_mb: 128,
        async_invoke: Default::default(),
    }
}

fn s3_event(key: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/events/s3-put.json");
    let mut event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON");
    event["Records"][0]["s3"]["object"]["key"] = key.into();
    event.to_string()
}

struct RouterStack {
    aws: TestResources,
    environment: BTreeMap<String, String>,
    ingest: SqsEventSource,
    dlq_url: String,
    extractor_queue: String,
}

/// What terraform gives every function: the emulator's endpoint and the audit settings.
async fn function_environment(
    aws: &TestResources,
    audit_table: String,
) -> BTreeMap<String, String> {
    [
        ("AWS_ENDPOINT_URL", aws.emulator.endpoint().to_owned()),
        ("AWS_REGION", emulator::REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("TRIAGE_ENVIRONMENT", "local".to_owned()),
        ("TRIAGE_AUDIT_TABLE", audit_table),
        (
            "TRIAGE_NOTIFICATIONS_TOPIC_ARN",
            aws.topic("notifications").await,
        ),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// Everything the router needs on the emulator, and the environment terraform would give it.
async fn router_stack() -> RouterStack {
    let aws = TestResources::new().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws.config);
    let audit_table = unique("audit");
    table::create_table(&dynamodb, &audit_table)
        .await
        .expect("table");
    let (ingest_url, dlq_url) = aws.queue_with_dlq("ingest", 2, 1).await;
    let extractor_queue = aws.queue("extractor").await;
    let mut environment = function_environment(&aws, audit_table).await;
    let router_settings = [
        ("TRIAGE_THUMBNAIL_FUNCTION", "thumbnail".to_owned()),
        ("TRIAGE_EXTRACTOR_QUEUE_URL", extractor_queue.clone()),
        ("TRIAGE_COMPLIANCE_TOPIC_ARN", aws.topic("compliance").await),
        ("TRIAGE_LARGE_CLUSTER", "large".to_owned()),
        ("TRIAGE_LARGE_TASK_DEFINITION", "large-file".to_owned()),
        ("TRIAGE_LARGE_QUEUE_URL", aws.queue("large").await),
        ("TRIAGE_LARGE_SUBNETS", "subnet-0".to_owned()),
        ("TRIAGE_LARGE_SECURITY_GROUPS", "sg-0".to_owned()),
    ];
    environment.extend(
        router_settings
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value)),
    );
    let ingest = SqsEventSource {
        queue_arn: aws.queue_arn(&ingest_url).await,
        queue_url: ingest_url,
        batch_size: 10,
        report_batch_item_failures: true,
    };
    RouterStack {
        aws,
        environment,
        ingest,
        dlq_url,
        extractor_queue,
    }
}

#[tokio::test]
async fn partial_batch_failures_are_redelivered_until_the_dlq_and_successes_deleted() {
    let stack = router_stack().await;
    let router = FunctionHost::start(spec("router", stack.environment.clone()))
        .await
        .expect("host");
    for body in [
        s3_event("uploads/documents/report.pdf"),
        "not json {".to_owned(),
    ] {
        stack
            .aws
            .sqs
            .send_message()
            .queue_url(&stack.ingest.queue_url)
            .message_body(body)
            .send()
            .await
            .expect("sent");
    }

    let first = stack
        .ingest
        .poll_once(&stack.aws.sqs, &router, 1)
        .await
        .expect("polled");
    assert_eq!(
        first,
        PollReport {
            received: 2,
            deleted: 1,
            failed: 1
        }
    );
    assert_eq!(
        stack.aws.drain(&stack.extractor_queue).await.len(),
        1,
        "the good event was dispatched once"
    );

    // The malformed message comes back after the 1 s visibility timeout, fails again, and on the
    // next receive the queue's redrive policy (maxReceiveCount 2) moves it to the DLQ.
    let in_dlq = poll_until_dead_lettered(&stack.aws, &stack.ingest, &router, &stack.dlq_url).await;
    assert_eq!(in_dlq, ["not json {"]);
}

/// An environment changed under a running function (as `UpdateFunctionConfiguration` changes
/// it) reaches the next invocation, in a new process; the same environment again changes
/// nothing.
#[tokio::test]
async fn a_changed_environment_reaches_the_next_invocation_in_a_new_process() {
    let stack = router_stack().await;
    let router = FunctionHost::start(spec("router", stack.environment.clone()))
        .await
        .expect("host");
    router
        .invoke(s3_event("uploads/documents/before.pdf"))
        .await
        .expect("routed");
    let first = router.pid().await.expect("running");
    assert!(!router.reconfigure(stack.environment.clone()).await);
    assert_eq!(router.pid().await, Some(first), "restarted for nothing");

    let moved = stack.aws.queue("extractor-moved").await;
    let mut changed = stack.environment.clone();
    changed.insert("TRIAGE_EXTRACTOR_QUEUE_URL".into(), moved.clone());
    assert!(router.reconfigure(changed).await);
    assert_eq!(
        router.pid().await,
        None,
        "the old process outlived the change"
    );
    router
        .invoke(s3_event("uploads/documents/after.pdf"))
        .await
        .expect("routed");
    assert_ne!(router.pid().await, Some(first));
    let before = stack.aws.drain(&stack.extractor_queue).await;
    let after = stack.aws.drain(&moved).await;
    assert!(
        before.len() == 1 && before[0].contains("before.pdf"),
        "{before:?}"
    );
    assert!(
        after.len() == 1 && after[0].contains("after.pdf"),
        "{after:?}"
    );
    router.stop().await;
}

/// Polls `source` into `function` until its queue's redrive policy has moved messages to
/// `dlq_url` (the queue's visibility timeout is 1 s); returns their bodies.
async fn poll_until_dead_lettered(
    aws: &TestResources,
    source: &SqsEventSource,
    function: &FunctionHost,
    dlq_url: &str,
) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut in_dlq = Vec::new();
    while in_dlq.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let report = source
            .poll_once(&aws.sqs, function, 1)
            .await
            .expect("polled");
        assert_eq!(
            report.deleted, 0,
            "a failing message is never deleted: {report:?}"
        );
        in_dlq = aws.drain(dlq_url).await;
    }
    in_dlq
}

/// A document the extractor cannot record (its audit table is unreachable) fails its message
/// every time, and the queue moves it to the DLQ after maxReceiveCount deliveries.
#[tokio::test]
async fn a_document_failing_transiently_ends_in_the_extractor_dlq() {
    let aws = TestResources::new().await;
    let (queue_url, dlq_url) = aws.queue_with_dlq("extractor", 2, 1).await;
    let environment = function_environment(&aws, unique("no-such-table")).await;
    let extractor = FunctionHost::start(FunctionSpec {
        binary: workspace_binary("extractor"),
        ..spec("extractor", environment)
    })
    .await
    .expect("host");
    let source = SqsEventSource {
        queue_arn: aws.queue_arn(&queue_url).await,
        queue_url,
        batch_size: 10,
        report_batch_item_failures: true,
    };
    let document = dispatch("uploads/documents/report.pdf");
    aws.sqs
        .send_message()
        .queue_url(&source.queue_url)
        .message_body(&document)
        .send()
        .await
        .expect("sent");
    let in_dlq = poll_until_dead_lettered(&aws, &source, &extractor, &dlq_url).await;
    assert_eq!(in_dlq, [document]);
}

/// The router's message to the document tier for `key`.
fn dispatch(key: &str) -> String {
    use object_events::{Dispatch, ObjectKey, S3Object, Tier};
    let object = S3Object::put(
        "uploads",
        ObjectKey::new(key).expect("key"),
        10,
        Some("e1".into()),
    );
    serde_json::to_string(&Dispatch::new(
        object,
        Tier::Document,
        "documents",
        chrono::Utc::now(),
    ))
    .expect("JSON")
}

#[tokio::test]
async fn a_function_error_comes_back_as_an_error() {
    let stack = router_stack().await;
    let router = FunctionHost::start(spec("router", stack.environment.clone()))
        .await
        .expect("host");
    let err = router
        .invoke(r#"{"hello": "world"}"#)
        .await
        .expect_err("not an S3 event");
    let InvokeError::Function { message, .. } = err else {
        panic!("expected a function error, got {err:?}");
    };
    assert!(message.contains("could not be routed"), "{message}");
    // The same process serves the next invocation.
    let ok = router.invoke(s3_event("elsewhere/ignored.txt")).await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn a_crashing_binary_is_reported_not_waited_for() {
    // Without its configuration the router refuses to start, as it must.
    let router = FunctionHost::start(spec("router", BTreeMap::new()))
        .await
        .expect("host");
    let started = Instant::now();
    let err = router.invoke("{}").await.expect_err("the process exits");
    assert!(matches!(err, InvokeError::Crashed { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    // It is started again for the next invocation, and fails the same way.
    assert!(matches!(
        router.invoke("{}").await,
        Err(InvokeError::Crashed { .. })
    ));
}

#[tokio::test]
async fn the_function_process_ends_with_its_host() {
    let stack = router_stack().await;
    let router = FunctionHost::start(spec("router", stack.environment.clone()))
        .await
        .expect("host");
    router
        .invoke(s3_event("elsewhere/x"))
        .await
        .expect("invoked");
    let pid = router.pid().await.expect("running");
    drop(router);
    let deadline = Instant::now() + Duration::from_secs(5);
    let alive = || PathBuf::from(format!("/proc/{pid}")).exists();
    while alive() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!alive(), "pid {pid} outlived its host");
}

#[tokio::test]
async fn async_invokes_are_retried_then_sent_to_the_on_failure_destination() {
    use triage::executor::discover::Declared;
    use triage::executor::lambda::AsyncInvokeConfig;
    use triage::executor::Executor;
    let stack = router_stack().await;
    let failures = stack.aws.queue("thumbnail-failures").await;
    let failures_arn = stack.aws.queue_arn(&failures).await;
    let mut router_env = stack.environment.clone();
    router_env.insert("TRIAGE_THUMBNAIL_FUNCTION".into(), "thumbnail".into());
    // The router binary stands in for the thumbnail worker: a Dispatch is not an event it
    // accepts, so every attempt fails.
    let mut thumbnail = spec("thumbnail", stack.environment.clone());
    thumbnail.async_invoke = AsyncInvokeConfig {
        maximum_retry_attempts: 2,
        on_failure_queue_arn: Some(failures_arn),
    };
    let declared = Declared {
        functions: vec![spec("router", router_env), thumbnail],
        sqs_sources: vec![("router".into(), stack.ingest.clone())],
        skipped: Vec::new(),
    };
    let executor = Executor::start(declared, stack.aws.sqs.clone(), Duration::from_millis(100))
        .await
        .expect("executor");
    stack
        .aws
        .sqs
        .send_message()
        .queue_url(&stack.ingest.queue_url)
        .message_body(s3_event("uploads/images/cat.jpg"))
        .send()
        .await
        .expect("sent");

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut records = Vec::new();
    executor
        .run_until(stack.aws.sqs.clone(), async {
            while records.is_empty() && Instant::now() < deadline {
                records = stack.aws.drain(&failures).await;
            }
        })
        .await;
    assert_eq!(records.len(), 1, "exactly one on-failure record");
    let record: serde_json::Value = serde_json::from_str(&records[0]).expect("invocation record");
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(record["requestPayload"]["tier"], "thumbnail");
    assert_eq!(
        record["requestPayload"]["object"]["key"],
        "uploads/images/cat.jpg"
    );
    assert!(
        record["responsePayload"]["errorMessage"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{record}"
    );
}

/// Plain moto polls a mapped queue itself on every send, cannot run the function, and counts
/// each try towards maxReceiveCount: a burst pushed its first messages into the DLQ before
/// the executor saw them (emulator/serve.py). Our emulator leaves the polling to the executor.
#[tokio::test]
async fn a_mapped_queue_is_received_by_the_executor_alone() {
    use aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount;
    let aws = TestResources::new().await;
    let (queue, dlq) = aws.queue_with_dlq("mapped", 2, 30).await;
    let function = aws.function("mapped").await;
    aws_sdk_lambda::Client::new(&aws.config)
        .create_event_source_mapping()
        .event_source_arn(aws.queue_arn(&queue).await)
        .function_name(&function)
        .batch_size(10)
        .send()
        .await
        .expect("event source mapping");
    for n in 0..6 {
        aws.sqs
            .send_message()
            .queue_url(&queue)
            .message_body(n.to_string())
            .send()
            .await
            .expect("sent");
    }
    let received = aws
        .sqs
        .receive_message()
        .queue_url(&queue)
        .max_number_of_messages(10)
        .message_system_attribute_names(ApproximateReceiveCount)
        .send()
        .await
        .expect("received")
        .messages
        .unwrap_or_default();
    let receive_counts: Vec<&str> = received
        .iter()
        .filter_map(|m| m.attributes.as_ref()?.get(&ApproximateReceiveCount))
        .map(String::as_str)
        .collect();
    assert_eq!(receive_counts, ["1"; 6], "every message, received once");
    assert!(aws.drain(&dlq).await.is_empty(), "nothing in the DLQ");
}

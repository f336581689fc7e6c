//! The recorder against the emulator's DynamoDB and SNS, through the real SDK clients.

use audit::table::{self, STATUS_INDEX, STATUS_INDEX_KEY};
use audit::{AuditRecord, Claim, RecordError, Recorded, Recorder, RecorderSettings, Status};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use notifications::SnsNotifier;
use object_events::{CorrelationId, ObjectKey, ObjectRef, Origin, Run, Tier};
use serde_json::Value;
use std::time::Duration;
use testkit::resources::{unique, TestResources};

struct Fixture {
    aws: TestResources,
    recorder: Recorder,
    dynamodb: aws_sdk_dynamodb::Client,
    failures_queue: String,
    all_queue: String,
    table: String,
}

async fn fixture(claim_lease: Duration) -> Fixture {
    let aws = TestResources::new().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws.config);
    let table = unique("audit");
    table::create_table(&dynamodb, &table)
        .await
        .expect("table created");
    let topic_arn = aws.topic("notifications").await;
    let failures_queue = aws
        .subscribed_queue(&topic_arn, &[("FilterPolicy", r#"{"status":["FAILED"]}"#)])
        .await;
    let all_queue = aws.subscribed_queue(&topic_arn, &[]).await;
    let recorder = SnsNotifier::recorder(
        &aws.config,
        RecorderSettings {
            table: table.clone(),
            topic_arn,
            worker: "test-worker".into(),
            environment: "test".into(),
            retention: Duration::from_secs(3600),
            claim_lease,
            emit_metrics: false,
        },
    );
    Fixture {
        aws,
        recorder,
        dynamodb,
        failures_queue,
        all_queue,
        table,
    }
}

/// Every notification currently in a subscriber queue, as the SNS envelope JSON.
async fn notifications(fixture: &Fixture, queue_url: &str) -> Vec<Value> {
    let bodies = fixture.aws.drain(queue_url).await;
    bodies
        .iter()
        .map(|body| serde_json::from_str(body).expect("SNS envelope JSON"))
        .collect()
}

fn record(key: &str, version: &str, status: Status) -> AuditRecord {
    let object = ObjectRef {
        bucket: "uploads".into(),
        key: ObjectKey::new(key).expect("valid key"),
        version_id: Some(version.into()),
        etag: Some("etag".into()),
        size: Some(7),
    };
    let record = AuditRecord::finished_now(
        object,
        "thumbnail",
        status,
        CorrelationId::from_string("corr-1"),
        Utc::now(),
    )
    .with_tier(Some(Tier::Thumbnail));
    match status {
        Status::Failed => record.with_reason("corrupt JPEG: unexpected end of file"),
        _ => record,
    }
}

async fn item_count(fixture: &Fixture) -> usize {
    let scan = fixture
        .dynamodb
        .scan()
        .table_name(&fixture.table)
        .send()
        .await
        .expect("scan");
    scan.items.unwrap_or_default().len()
}

#[tokio::test]
async fn duplicate_deliveries_write_one_item_and_send_one_notification() {
    let fixture = fixture(Duration::from_secs(60)).await;
    let record = record("uploads/images/cat photo.jpg", "v1", Status::Succeeded);
    let outcomes = [
        fixture.recorder.record(&record).await.expect("first"),
        fixture.recorder.record(&record).await.expect("second"),
        fixture.recorder.record(&record).await.expect("third"),
    ];
    assert_eq!(
        outcomes,
        [Recorded::New, Recorded::Duplicate, Recorded::Duplicate]
    );
    assert_eq!(item_count(&fixture).await, 1);
    let notifications = notifications(&fixture, &fixture.all_queue).await;
    assert_eq!(notifications.len(), 1);
    let body: Value = serde_json::from_str(notifications[0]["Message"].as_str().expect("message"))
        .expect("record JSON");
    assert_eq!(body["key"], "uploads/images/cat photo.jpg");
    assert_eq!(body["status"], "SUCCEEDED");
    assert_eq!(body["worker"], "test-worker");
}

/// What a publish delivers, read back from the emulator: a subscriber queue gets the record as
/// JSON that holds to the published schema, and the e-mail subject (which SNS puts in every
/// envelope) says what happened, a 1024-byte unicode key shortened to fit SNS's limits.
#[tokio::test]
async fn a_notification_carries_the_versioned_record_and_a_subject_that_fits() {
    let fixture = fixture(Duration::from_secs(60)).await;
    let key = format!("uploads/images/{}x.jpg", "ü".repeat(502));
    assert_eq!(key.len(), 1024);
    let failed = record(&key, "v1", Status::Failed);
    fixture.recorder.record(&failed).await.expect("recorded");
    let notifications = notifications(&fixture, &fixture.all_queue).await;
    let [envelope] = notifications.as_slice() else {
        panic!("{notifications:?}")
    };
    let subject = envelope["Subject"].as_str().expect("a subject");
    // SNS takes printable ASCII alone in a subject.
    assert!(
        subject.starts_with("FAILED thumbnail: uploads/images/??"),
        "{subject}"
    );
    assert!(
        subject.ends_with("??x.jpg") && subject.contains("..."),
        "{subject}"
    );
    assert_eq!(subject.chars().count(), notifications::MAX_SUBJECT_CHARS);
    let body: Value =
        serde_json::from_str(envelope["Message"].as_str().expect("message")).expect("record JSON");
    assert_eq!(body["schema"], notifications::SCHEMA);
    assert_eq!(body["key"], key.as_str());
    assert_eq!(
        testkit::json_schema::violations(notifications::SCHEMA_DOCUMENT, &[body]),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn another_version_of_the_same_key_is_another_record() {
    let fixture = fixture(Duration::from_secs(60)).await;
    let first = record("uploads/images/a.png", "v1", Status::Succeeded);
    let second = record("uploads/images/a.png", "v2", Status::Succeeded);
    assert_eq!(
        fixture.recorder.record(&first).await.expect("v1"),
        Recorded::New
    );
    assert_eq!(
        fixture.recorder.record(&second).await.expect("v2"),
        Recorded::New
    );
    assert_eq!(item_count(&fixture).await, 2);
}

#[tokio::test]
async fn failures_reach_only_subscribers_filtering_on_failed_and_are_queryable() {
    let fixture = fixture(Duration::from_secs(60)).await;
    let failed = record("uploads/images/broken.jpg", "v1", Status::Failed);
    let succeeded = record("uploads/images/fine.jpg", "v1", Status::Succeeded);
    fixture
        .recorder
        .record(&failed)
        .await
        .expect("failed recorded");
    fixture
        .recorder
        .record(&failed)
        .await
        .expect("duplicate absorbed");
    fixture
        .recorder
        .record(&succeeded)
        .await
        .expect("succeeded recorded");

    let failures = notifications(&fixture, &fixture.failures_queue).await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    let attributes = &failures[0]["MessageAttributes"];
    assert_eq!(attributes["status"]["Value"], "FAILED");
    assert_eq!(attributes["tier"]["Value"], "thumbnail");
    assert_eq!(attributes["key"]["Value"], "uploads/images/broken.jpg");
    assert_eq!(
        attributes["reason"]["Value"],
        "corrupt JPEG: unexpected end of file"
    );
    assert_eq!(notifications(&fixture, &fixture.all_queue).await.len(), 2);

    let today = Utc::now().format("%Y-%m-%d").to_string();
    let since = table::timestamp(Utc::now() - chrono::Duration::hours(1));
    let failed_last_hour = fixture
        .dynamodb
        .query()
        .table_name(&fixture.table)
        .index_name(STATUS_INDEX)
        .key_condition_expression("#day = :day AND finished_at >= :since")
        .expression_attribute_names("#day", STATUS_INDEX_KEY)
        .expression_attribute_values(":day", AttributeValue::S(format!("FAILED#{today}")))
        .expression_attribute_values(":since", AttributeValue::S(since))
        .send()
        .await
        .expect("query")
        .items
        .unwrap_or_default();
    assert_eq!(failed_last_hour.len(), 1);
    assert_eq!(
        failed_last_hour[0].get("key"),
        Some(&AttributeValue::S("uploads/images/broken.jpg".into()))
    );
}

#[tokio::test]
async fn an_unfinished_claim_blocks_duplicates_until_its_lease_expires_then_resumes() {
    let held = fixture(Duration::from_secs(60)).await;
    let record = record("uploads/images/crash.jpg", "v1", Status::Routed);
    assert_eq!(
        held.recorder.claim(&record).await.expect("claim"),
        Claim::Fresh
    );
    // The first delivery "crashes" here. A concurrent duplicate must back off, retryably.
    let err = held
        .recorder
        .claim(&record)
        .await
        .expect_err("claim is held");
    assert!(
        matches!(err, RecordError::InProgress { .. }) && err.is_transient(),
        "{err}"
    );

    // Same table, but a recorder whose lease has long expired: it takes over.
    let expired = SnsNotifier::recorder(
        &held.aws.config,
        RecorderSettings {
            claim_lease: Duration::ZERO,
            emit_metrics: false,
            ..held.recorder.settings().clone()
        },
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(
        expired.claim(&record).await.expect("takeover"),
        Claim::Resumed { applied: false }
    );
    expired.mark_applied(&record).await.expect("applied");
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(
        expired.claim(&record).await.expect("takeover"),
        Claim::Resumed { applied: true }
    );
    expired.complete(&record).await.expect("completed");
    assert_eq!(
        expired.claim(&record).await.expect("done"),
        Claim::AlreadyRecorded
    );
    assert_eq!(notifications(&held, &held.all_queue).await.len(), 1);

    // A released claim is free at once, even under the long lease.
    let other = self::record("uploads/images/released.jpg", "v1", Status::Routed);
    assert_eq!(
        held.recorder.claim(&other).await.expect("claim"),
        Claim::Fresh
    );
    held.recorder.release(&other).await.expect("released");
    assert_eq!(
        held.recorder.claim(&other).await.expect("reclaim"),
        Claim::Resumed { applied: false }
    );
}

#[tokio::test]
async fn the_audit_trail_answers_history_recent_failures_and_tier_activity() {
    let fixture = fixture(Duration::from_secs(60)).await;
    let mut routed = record("uploads/images/a.jpg", "v1", Status::Routed);
    routed.stage = "router".into();
    routed.finished_at -= chrono::Duration::seconds(1);
    let failed = record("uploads/images/a.jpg", "v1", Status::Failed);
    let succeeded = record("uploads/images/b.jpg", "v1", Status::Succeeded);
    let mut old_failure =
        record("uploads/documents/c.pdf", "v1", Status::Failed).with_tier(Some(Tier::Document));
    old_failure.started_at -= chrono::Duration::hours(2);
    old_failure.finished_at -= chrono::Duration::hours(2);
    for record in [&routed, &failed, &succeeded, &old_failure] {
        fixture.recorder.record(record).await.expect("recorded");
    }
    let trail = audit::AuditTrail::new(fixture.dynamodb.clone(), &fixture.table);

    let history = trail
        .object_history("uploads", "uploads/images/a.jpg")
        .await
        .expect("history");
    let stages: Vec<(&str, &str)> = history
        .iter()
        .map(|e| (e.stage.as_str(), e.status.as_str()))
        .collect();
    assert_eq!(stages, [("router", "ROUTED"), ("thumbnail", "FAILED")]);
    assert_eq!(
        history[1].reason.as_deref(),
        Some("corrupt JPEG: unexpected end of file")
    );
    assert_eq!(history[1].version, "v1");
    assert_eq!(history[1].size, Some(7));
    assert_eq!(history[1].correlation_id.as_deref(), Some("corr-1"));

    let hour_ago = Utc::now() - chrono::Duration::hours(1);
    let recent_failures = trail
        .by_status(Status::Failed, hour_ago)
        .await
        .expect("failures");
    let keys: Vec<&str> = recent_failures.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["uploads/images/a.jpg"]);
    let three_hours_ago = Utc::now() - chrono::Duration::hours(3);
    let all_failures = trail
        .by_status(Status::Failed, three_hours_ago)
        .await
        .expect("failures");
    assert_eq!(all_failures.len(), 2);

    let thumbnails = trail
        .by_tier(Tier::Thumbnail, hour_ago)
        .await
        .expect("tier");
    assert_eq!(thumbnails.len(), 3);
    assert!(thumbnails
        .iter()
        .all(|e| e.tier.as_deref() == Some("thumbnail")));
}

#[tokio::test]
async fn a_reprocess_run_records_beside_the_first_and_replaces_it_in_the_indexes() {
    let fixture = fixture(Duration::from_secs(60)).await;
    let first = record("uploads/images/fixed.jpg", "v1", Status::Failed);
    assert_eq!(
        fixture.recorder.record(&first).await.expect("first run"),
        Recorded::New
    );
    let run = Run::parse("r20261202T190000-0123abcd").expect("a run id");
    let rerun = record("uploads/images/fixed.jpg", "v1", Status::Succeeded)
        .in_run(run.clone(), Origin::Reprocess);
    // The request is redelivered: still one record of the run.
    for expected in [Recorded::New, Recorded::Duplicate] {
        assert_eq!(
            fixture.recorder.record(&rerun).await.expect("rerun"),
            expected
        );
    }
    assert_eq!(item_count(&fixture).await, 2);
    let all = notifications(&fixture, &fixture.all_queue).await;
    let runs: Vec<Value> = all
        .iter()
        .map(|envelope| {
            let body: Value =
                serde_json::from_str(envelope["Message"].as_str().expect("message")).expect("JSON");
            body["run"].clone()
        })
        .collect();
    assert_eq!(runs, [Value::Null, Value::from(run.id().expect("id"))]);

    let trail = audit::AuditTrail::new(fixture.dynamodb.clone(), &fixture.table);
    let since = Utc::now() - chrono::Duration::hours(1);
    let failed = trail.by_status(Status::Failed, since).await.expect("query");
    assert!(
        failed.is_empty(),
        "the fixed failure still counts: {failed:?}"
    );
    let succeeded = trail
        .by_status(Status::Succeeded, since)
        .await
        .expect("query");
    assert_eq!(succeeded.len(), 1);
    assert_eq!(succeeded[0].run.as_deref(), run.id());
    assert_eq!(succeeded[0].origin.as_deref(), Some("reprocess"));

    let history = trail
        .object_history("uploads", "uploads/images/fixed.jpg")
        .await
        .expect("history");
    let kept: Vec<_> = history
        .iter()
        .map(|entry| (entry.status.as_str(), entry.superseded_by.as_deref()))
        .collect();
    assert_eq!(kept, [("FAILED", run.id()), ("SUCCEEDED", None)]);

    // The verdict-style query reads one run's stages only.
    let of_run = fixture
        .recorder
        .version_stages(&first.object, &run, "thumb")
        .await
        .expect("query");
    assert_eq!(of_run.len(), 1);
    assert_eq!(of_run[0].status, "SUCCEEDED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_made_at_the_same_moment_let_exactly_one_delivery_write() {
    const RECORDS: usize = 120;
    const CLAIMANTS: usize = 12;
    let fixture = fixture(Duration::from_secs(60)).await;
    let recorder = std::sync::Arc::new(fixture.recorder);
    let mut fresh = std::collections::BTreeMap::<String, usize>::new();
    // A few records at a time, each claimed by every claimant at once: enough contention for
    // a race, few enough connections for the emulator to accept them all.
    for wave in (0..RECORDS).collect::<Vec<_>>().chunks(3) {
        let mut claims = tokio::task::JoinSet::new();
        for n in wave {
            let record = record(
                &format!("uploads/images/contended {n}.jpg"),
                "v1",
                Status::Succeeded,
            );
            for _ in 0..CLAIMANTS {
                let (recorder, record) = (recorder.clone(), record.clone());
                claims.spawn(async move {
                    let claim = recorder.claim(&record).await;
                    (record.object.key.to_string(), claim)
                });
            }
        }
        while let Some(joined) = claims.join_next().await {
            let (key, claim) = joined.expect("a claim task");
            match claim {
                Ok(Claim::Fresh) => *fresh.entry(key).or_default() += 1,
                Err(RecordError::InProgress { .. }) => {}
                other => panic!("{key}: a contended claim answered {other:?}"),
            }
        }
    }
    let twice: Vec<_> = fresh.iter().filter(|(_, wins)| **wins > 1).collect();
    assert!(
        twice.is_empty(),
        "claimed by more than one delivery: {twice:?}"
    );
    assert_eq!(fresh.len(), RECORDS, "every record claimed once");
}

/// The sweep ends what no delivery will: a claim whose effect never ran becomes FAILED
/// "abandoned", an applied but unannounced record is announced as recorded, each exactly once
/// however many sweeps run; fresh claims and finished records are left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_fails_an_abandoned_claim_exactly_once_and_announces_an_unannounced_record() {
    let fixture = fixture(Duration::from_secs(60)).await;
    let recorder = &fixture.recorder;
    let routed = record("uploads/images/lost event.jpg", "v1", Status::Routed);
    assert_eq!(recorder.claim(&routed).await.expect("claim"), Claim::Fresh);
    let applied = record("uploads/images/dispatched.jpg", "v1", Status::Routed);
    assert_eq!(recorder.claim(&applied).await.expect("claim"), Claim::Fresh);
    recorder.mark_applied(&applied).await.expect("applied");
    let finished = record("uploads/images/done.jpg", "v1", Status::Succeeded);
    recorder.record(&finished).await.expect("recorded");
    let announced_before = notifications(&fixture, &fixture.all_queue).await;
    assert_eq!(announced_before.len(), 1, "only the finished record");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let cutoff = Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let fresh = record("uploads/images/in flight.jpg", "v1", Status::Routed);
    assert_eq!(recorder.claim(&fresh).await.expect("claim"), Claim::Fresh);

    let sweeper = SnsNotifier::recorder(
        &fixture.aws.config,
        RecorderSettings {
            worker: "sweeper".into(),
            ..recorder.settings().clone()
        },
    );
    let after = Duration::from_secs(3600);
    let now = cutoff + chrono::Duration::seconds(3600);
    let (first, second) = tokio::join!(
        audit::sweep::sweep(&sweeper, after, now),
        audit::sweep::sweep(&sweeper, after, now),
    );
    let (first, second) = (first.expect("sweep"), second.expect("sweep"));
    let mut abandoned = [first.abandoned.clone(), second.abandoned.clone()].concat();
    let mut announced = [first.announced.clone(), second.announced.clone()].concat();
    abandoned.sort();
    announced.sort();
    assert_eq!(
        abandoned,
        ["uploads/uploads/images/lost event.jpg thumbnail"],
        "{first:?} {second:?}"
    );
    assert_eq!(
        announced,
        ["uploads/uploads/images/dispatched.jpg thumbnail"],
        "{first:?} {second:?}"
    );
    assert!(first.unreadable.is_empty() && second.unreadable.is_empty());

    let failures = notifications(&fixture, &fixture.failures_queue).await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    let failure: Value =
        serde_json::from_str(failures[0]["Message"].as_str().expect("message")).expect("JSON");
    assert_eq!(failure["key"], "uploads/images/lost event.jpg");
    assert_eq!(failure["status"], "FAILED");
    assert_eq!(failure["tier"], "thumbnail");
    assert!(
        failure["reason"].as_str().is_some_and(|reason| reason
            .starts_with("abandoned: the thumbnail stage (test-worker) claimed it at ")),
        "{failure}"
    );
    assert_eq!(failure["details"]["abandoned"]["status"], "ROUTED");
    let all = notifications(&fixture, &fixture.all_queue).await;
    let mut statuses: Vec<(String, String)> = all
        .iter()
        .map(|envelope| {
            let body: Value =
                serde_json::from_str(envelope["Message"].as_str().expect("message")).expect("JSON");
            (
                body["key"].as_str().unwrap_or_default().to_owned(),
                body["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            (
                "uploads/images/dispatched.jpg".to_owned(),
                "ROUTED".to_owned()
            ),
            (
                "uploads/images/lost event.jpg".to_owned(),
                "FAILED".to_owned()
            ),
        ]
    );

    let history = audit::AuditTrail::new(fixture.dynamodb.clone(), &fixture.table)
        .object_history("uploads", "uploads/images/lost event.jpg")
        .await
        .expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].status, "FAILED");
    assert_eq!(history[0].worker.as_deref(), Some("sweeper"));
    assert!(history[0].is_complete());
    // The lost event's redelivery, should one come after all, finds the record ended.
    assert_eq!(
        recorder.claim(&routed).await.expect("late delivery"),
        Claim::AlreadyRecorded
    );
    // Nothing old is left in flight; the fresh claim still is, untouched.
    let again = audit::sweep::sweep(&sweeper, after, now)
        .await
        .expect("sweep");
    assert_eq!(again, audit::sweep::SweepReport::default());
    let left = sweeper
        .unfinished(
            cutoff - chrono::Duration::days(1),
            Utc::now() + chrono::Duration::seconds(1),
        )
        .await
        .expect("unfinished");
    let left: Vec<Option<&str>> = left
        .iter()
        .map(|item| {
            item.get("key")
                .and_then(|key| key.as_s().ok())
                .map(String::as_str)
        })
        .collect();
    assert_eq!(left, [Some("uploads/images/in flight.jpg")]);
}

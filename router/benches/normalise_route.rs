//! Normalise + route, per event of 1, 10 and 1000 records (parse included).
//! Run: `cargo bench -p router --bench normalise_route`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use object_events::{normalise_json, RecordOutcome};
use router::policy::{Decision, RoutingPolicy, DEFAULT_LARGE_LIMIT, DEFAULT_RESERVED_PREFIX};
use serde_json::{json, Value};
use std::hint::black_box;

fn event(records: usize) -> String {
    let prefixes = [
        "uploads/images/",
        "uploads/documents/",
        "uploads/compliance/",
        "elsewhere/",
    ];
    let records: Vec<Value> = (0..records)
        .map(|i| {
            json!({
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "eu-west-1",
                "eventTime": "2026-11-23T09:15:02.123Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
                "requestParameters": {"sourceIPAddress": "203.0.113.7"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": "triage-uploads-prod", "arn": "arn:aws:s3:::triage-uploads-prod"},
                    "object": {
                        "key": format!("{}holiday+photo+%E6%97%A5%E6%9C%AC+{i}.jpg", prefixes[i % 4]),
                        "size": 1_000 + i * 7919,
                        "eTag": "0123456789abcdef0123456789abcdef",
                        "versionId": format!("3Lg7sFzZ8vK1{i}"),
                        "sequencer": "0062A3B1C2D3E4F5A6"
                    }
                }
            })
        })
        .collect();
    json!({ "Records": records }).to_string()
}

fn normalise_and_route(c: &mut Criterion) {
    let policy = RoutingPolicy::new(
        RoutingPolicy::default_rules(),
        DEFAULT_RESERVED_PREFIX,
        DEFAULT_LARGE_LIMIT,
    )
    .expect("default policy");
    let mut group = c.benchmark_group("normalise_route");
    for records in [1, 10, 1000] {
        let body = event(records);
        group.throughput(Throughput::Elements(records as u64));
        group.bench_with_input(BenchmarkId::from_parameter(records), &body, |b, body| {
            b.iter(|| {
                let outcomes = normalise_json(black_box(body)).expect("valid event");
                let routed = outcomes
                    .iter()
                    .filter_map(|outcome| match outcome {
                        RecordOutcome::Created(object) => {
                            Some(policy.route(&object.bucket, &object.key, object.size))
                        }
                        _ => None,
                    })
                    .filter(|decision| matches!(decision, Decision::Route { .. }))
                    .count();
                black_box(routed)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, normalise_and_route);
criterion_main!(benches);

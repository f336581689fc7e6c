//! The task binary as Fargate runs it: configured by environment, fed by the emulator's SQS,
//! stopped by SIGTERM. Its S3 is a small local endpoint that serves one object and can
//! misbehave on purpose (a stored checksum the bytes do not match, a body that stalls); audit
//! and notifications go to the emulator.

use large_file::task::STAGE;
use object_events::Tier;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::stage::WorkerStage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SIZE: usize = 4 << 20;

/// How the fake S3 behaves.
#[derive(Clone)]
struct Object {
    data: Arc<Vec<u8>>,
    etag: String,
    /// Sent as `x-amz-checksum-crc32` on HEAD.
    crc32: Option<String>,
    /// Bytes a GET sends before it stops sending (without closing), while `stalling` holds.
    stall_after: Option<usize>,
    stalling: Arc<AtomicBool>,
}

async fn serve(object: Object) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((connection, _)) = listener.accept().await {
            tokio::spawn(answer(connection, object.clone()));
        }
    });
    format!("http://{address}")
}

/// Answers requests on one connection until it closes.
async fn answer(mut connection: TcpStream, object: Object) {
    let mut pending = Vec::new();
    loop {
        let head_end = loop {
            if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let mut buffer = [0u8; 4096];
            match connection.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buffer[..n]),
            }
        };
        let request = String::from_utf8_lossy(&pending[..head_end]).to_string();
        pending.drain(..head_end);
        let size = object.data.len();
        let mut headers = format!(
            "ETag: \"{}\"\r\nLast-Modified: Mon, 23 Nov 2026 12:00:00 GMT\r\nAccept-Ranges: bytes\r\n",
            object.etag
        );
        if request.starts_with("HEAD ") {
            if let Some(crc32) = &object.crc32 {
                headers.push_str(&format!("x-amz-checksum-crc32: {crc32}\r\n"));
            }
            let response = format!("HTTP/1.1 200 OK\r\n{headers}Content-Length: {size}\r\n\r\n");
            if connection.write_all(response.as_bytes()).await.is_err() {
                return;
            }
            continue;
        }
        let range = request
            .lines()
            .find_map(|line| {
                line.to_ascii_lowercase()
                    .strip_prefix("range: bytes=")
                    .map(str::to_owned)
            })
            .and_then(|range| {
                let (start, end) = range.trim().split_once('-')?;
                Some((start.parse::<usize>().ok()?, end.parse::<usize>().ok()?))
            })
            .unwrap_or((0, size - 1));
        let body = &object.data[range.0..=range.1];
        let response = format!(
            "HTTP/1.1 206 Partial Content\r\n{headers}Content-Range: bytes {}-{}/{size}\r\nContent-Length: {}\r\n\r\n",
            range.0,
            range.1,
            body.len()
        );
        if connection.write_all(response.as_bytes()).await.is_err() {
            return;
        }
        let sent = match object.stall_after {
            Some(after) if object.stalling.load(Ordering::SeqCst) => after.min(body.len()),
            _ => body.len(),
        };
        if connection.write_all(&body[..sent]).await.is_err() {
            return;
        }
        if sent < body.len() {
            std::future::pending::<()>().await;
        }
    }
}

/// The large-file queue with the router's dispatch for `key` in it.
async fn queue_with_dispatch(stage: &WorkerStage, key: &str, etag: &str) -> String {
    let queue = stage.aws.queue("large").await;
    let dispatch = stage.dispatch(key, SIZE as u64, Some(etag.into()), Tier::Large);
    stage
        .aws
        .sqs
        .send_message()
        .queue_url(&queue)
        .message_body(serde_json::to_string(&dispatch).expect("JSON"))
        .send()
        .await
        .expect("dispatch queued");
    queue
}

fn start_task(stage: &WorkerStage, s3_endpoint: &str, queue: &str) -> Child {
    let settings = stage.recorder_settings();
    Command::new(env!("CARGO_BIN_EXE_large-file"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TRIAGE_LARGE_QUEUE_URL", queue)
        .env("TRIAGE_LARGE_IDLE_SECONDS", "1")
        .env("TRIAGE_ENVIRONMENT", "test")
        .env("TRIAGE_AUDIT_TABLE", &settings.table)
        .env("TRIAGE_NOTIFICATIONS_TOPIC_ARN", &settings.topic_arn)
        .env("TRIAGE_LARGE_PART_SIZE", "1 MiB")
        .env("TRIAGE_LARGE_PROGRESS_SECONDS", "1")
        .env("AWS_ENDPOINT_URL", stage.aws.emulator.endpoint())
        .env("AWS_ENDPOINT_URL_S3", s3_endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::null())
        .spawn()
        .expect("the task binary starts")
}

fn object() -> Object {
    let data: Vec<u8> = (0..SIZE).map(|i| (i % 253) as u8).collect();
    Object {
        etag: worker_common::s3::hex(&md5_of(&data)),
        data: Arc::new(data),
        crc32: None,
        stall_after: None,
        stalling: Arc::new(AtomicBool::new(true)),
    }
}

fn md5_of(data: &[u8]) -> Vec<u8> {
    use md5::Digest;
    md5::Md5::digest(data).to_vec()
}

async fn wait_for_status(stage: &WorkerStage, key: &str, status: &str) -> audit::AuditEntry {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let records = stage.records(key).await;
        if let Some(record) = records.into_iter().find(|r| r.status == status) {
            return record;
        }
        assert!(Instant::now() < deadline, "no {status} record for {key}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_stream_gives_the_object_back_and_another_task_completes_it() {
    let stage = WorkerStage::new(STAGE).await;
    let object = Object {
        stall_after: Some(300_000),
        ..object()
    };
    let (etag, stalling) = (object.etag.clone(), Arc::clone(&object.stalling));
    let endpoint = serve(object).await;
    let key = "uploads/archives/stopped.bin";
    let queue = queue_with_dispatch(&stage, key, &etag).await;
    let mut first = start_task(&stage, &endpoint, &queue);

    // The progress record shows the bytes that arrived before the stall.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let records = stage.records(key).await;
        let done = records
            .iter()
            .find(|r| r.status == "IN_PROGRESS")
            .and_then(|r| r.details.as_ref()?["bytes_done"].as_u64());
        if done.is_some_and(|done| done > 0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no progress recorded: {records:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // SAFETY: signalling a child process this test started and has not reaped.
    unsafe { libc::kill(first.id() as i32, libc::SIGTERM) };
    let status = first.wait().expect("the task exits");
    assert_eq!(status.code(), Some(0), "a clean exit after SIGTERM");

    let released = stage.records(key).await;
    assert_eq!(released.len(), 1, "{released:?}");
    assert_eq!(
        released[0].status, "IN_PROGRESS",
        "not an outcome: {released:?}"
    );
    let reason = released[0].reason.clone().unwrap_or_default();
    assert!(
        reason.starts_with("released for another pass: interrupted by SIGTERM"),
        "{reason}"
    );
    assert!(reason.contains(&format!("of {SIZE} bytes")), "{reason}");
    let bytes_done = released[0].details.as_ref().expect("details")["bytes_done"]
        .as_u64()
        .unwrap_or_default();
    assert!(bytes_done > 0, "its progress kept: {released:?}");
    assert!(
        stage.notified_statuses().await.is_empty(),
        "nothing announced for a released pass"
    );

    // The message is back at once; another task takes it over and finishes, then exits idle.
    stalling.store(false, Ordering::SeqCst);
    let second = start_task(&stage, &endpoint, &queue);
    let status = tokio::task::spawn_blocking(move || second.wait_with_output())
        .await
        .expect("joined")
        .expect("the second task exits once the queue stays empty");
    assert_eq!(status.status.code(), Some(0));
    let records = stage.records(key).await;
    assert_eq!(records.len(), 1, "one record for the object: {records:?}");
    assert_eq!(records[0].status, "SUCCEEDED", "{records:?}");
    // The checks' verdict and the outcome, each announced once.
    let mut notified = stage.notified_statuses().await;
    notified.sort();
    assert_eq!(notified, ["CLEAN", "SUCCEEDED"]);
    assert!(
        stage.aws.drain(&queue).await.is_empty(),
        "the dispatch was removed once recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_checksum_the_bytes_do_not_match_is_failed() {
    let stage = WorkerStage::new(STAGE).await;
    let object = Object {
        crc32: Some("AAAAAA==".into()),
        ..object()
    };
    let etag = object.etag.clone();
    let endpoint = serve(object).await;
    let key = "uploads/archives/tampered.bin";
    let queue = queue_with_dispatch(&stage, key, &etag).await;
    let status = start_task(&stage, &endpoint, &queue)
        .wait()
        .expect("the task exits");
    assert_eq!(status.code(), Some(0));
    let record = wait_for_status(&stage, key, "FAILED").await;
    let reason = record.reason.unwrap_or_default();
    assert!(
        reason.starts_with("checksum mismatch: the bytes read do not match the stored CRC32 checksum (AAAAAA== stored,"),
        "{reason}"
    );
    assert!(record.outputs.is_empty());
    assert_eq!(stage.notified_statuses().await, ["FAILED"]);
}

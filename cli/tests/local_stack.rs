//! `triage local` end to end: emulator, terraform apply of envs/local, the executor running the
//! router binary; an upload from boto3 (a client that is not ours) is routed and audited.

mod consistency;
mod policies;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const TRIAGE: &str = env!("CARGO_BIN_EXE_triage");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Stops `triage local` like Ctrl-C would, if the test ends early.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn audit(state_file: &Path, key: &str) -> Output {
    Command::new(TRIAGE)
        .args(["audit", "--json", "--key", key, "--state-file"])
        .arg(state_file)
        .env_remove("TRIAGE_AUDIT_TABLE")
        .output()
        .expect("triage audit runs")
}

/// `triage local` on its own emulator, up: the process, its stderr lines, its state file and
/// the state in it. `echo_workers` passes the workers' own log lines through to the test's
/// output besides the stack's and the executor's.
fn start_local(
    name: &str,
    echo_workers: bool,
) -> (Running, mpsc::Receiver<String>, PathBuf, Value) {
    let state_file =
        std::env::temp_dir().join(format!("triage-{name}-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&state_file);
    let binaries = PathBuf::from(TRIAGE)
        .parent()
        .expect("target dir")
        .to_path_buf();
    let mut child = Command::new(TRIAGE)
        .args(["local", "--binaries"])
        .arg(&binaries)
        .arg("--state-file")
        .arg(&state_file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("triage local starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut running = Running(child);
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if echo_workers || !line.starts_with("[s3-triage-") {
                eprintln!("{line}");
            }
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    let deadline = Instant::now() + Duration::from_secs(600);
    while !state_file.exists() {
        assert!(Instant::now() < deadline, "the stack did not come up");
        assert!(
            running.0.try_wait().expect("status").is_none(),
            "triage local exited early"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).expect("state")).expect("JSON");
    (running, lines, state_file, state)
}

#[test]
fn an_upload_from_boto3_is_routed_and_audited_and_ctrl_c_stops_everything() {
    let (mut running, lines, state_file, state) = start_local("local", true);
    for key in [
        "endpoint_url",
        "region",
        "bucket",
        "audit_table",
        "notifications_topic_arn",
        "ingest_queue_url",
    ] {
        assert!(state[key].is_string(), "state file lacks {key}: {state}");
    }
    assert!(state["dlq_urls"]["ingest"].is_string(), "{state}");

    // The stack is applied: terraform's settings and permissions must match what the code uses.
    let endpoint = state["endpoint_url"].as_str().unwrap_or_default();
    let port = endpoint
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .trim_matches('/');
    let terraform_state = root().join(format!(".local/terraform/local-{port}.tfstate"));
    let (mismatches, summary) = consistency::mismatches(&root(), &terraform_state);
    eprintln!("what each deployed binary reads and calls:\n{summary}");
    assert!(
        mismatches.is_empty(),
        "terraform and the code disagree:\n{}",
        mismatches.join("\n")
    );
    let applied = consistency::terraform::terraform_state(&root(), &terraform_state);
    let limits = consistency::sizing::broken_in_applied(&applied);
    assert!(
        limits.is_empty(),
        "the applied limits do not add up:\n{}",
        limits.join("\n")
    );
    let violations = policies::violations(&root(), &applied);
    assert!(
        violations.is_empty(),
        "the applied policies let the wrong principals through:\n{}",
        violations.join("\n")
    );

    let key = "uploads/documents/Q3 report+final 日本.pdf";
    let upload = Command::new(root().join(".local/moto-venv/bin/python"))
        .args([
            "-c",
            "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
             aws_access_key_id='t', aws_secret_access_key='t').put_object(Bucket=sys.argv[2], Key=sys.argv[3], Body=b'%PDF-1.4')",
        ])
        .args([state["endpoint_url"].as_str().unwrap_or(""), state["bucket"].as_str().unwrap_or(""), key])
        .status()
        .expect("boto3 runs");
    assert!(upload.success());

    let deadline = Instant::now() + Duration::from_secs(60);
    let history = loop {
        let output = audit(&state_file, key);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let history: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        if history
            .as_array()
            .is_some_and(|entries| !entries.is_empty())
        {
            break history;
        }
        assert!(Instant::now() < deadline, "no audit record for {key}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(history[0]["status"], "ROUTED");
    assert_eq!(history[0]["tier"], "document");
    assert_eq!(history[0]["stage"], "router");

    let pids: Vec<u32> = lines
        .try_iter()
        .filter_map(|line| {
            line.split("(pid ")
                .nth(1)?
                .trim_end_matches(')')
                .parse()
                .ok()
        })
        .collect();
    assert!(!pids.is_empty(), "the executor started no function process");
    let Running(child) = &mut running;
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    let status = child.wait().expect("triage local exits");
    assert!(status.success(), "{status}");
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "function process {pid} outlived triage local"
        );
    }
    let _ = std::fs::remove_file(&state_file);
}

#[test]
fn the_demo_gives_every_bundled_sample_its_expected_outcome() {
    let binaries = PathBuf::from(TRIAGE)
        .parent()
        .expect("target dir")
        .to_path_buf();
    let expected_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/expected.json");
    let expected: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(expected_path).expect("expected.json"))
            .expect("JSON object");
    let output = Command::new(TRIAGE)
        .args(["demo", "--binaries"])
        .arg(&binaries)
        .stderr(Stdio::inherit())
        .output()
        .expect("triage demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let total = expected.len();
    assert!(
        stdout.contains(&format!("all {total} samples got their expected outcome")),
        "{stdout}"
    );
    // One from the router for each sample, one from each worker stage that follows, one from
    // each compliance check before its verdict, and the verdict of the checks each large file
    // gets in the task's pass.
    let worker_stages = expected
        .values()
        .filter(|outcome| outcome.get("stage").is_some_and(|stage| stage != "router"))
        .count()
        + expected
            .values()
            .filter_map(|outcome| outcome.get("checks")?.as_array().map(Vec::len))
            .sum::<usize>()
        + expected
            .values()
            .filter(|outcome| outcome.get("tier").is_some_and(|tier| tier == "large"))
            .count();
    assert!(
        stdout.contains(&format!(
            "notifications received: {}",
            total + worker_stages
        )),
        "{stdout}"
    );
}

/// What one upload of the burst must end as: its last stage and that stage's outcome.
struct BurstUpload {
    key: String,
    bytes: Vec<u8>,
    stage: &'static str,
    status: &'static str,
}

/// A few hundred uploads of every kind at once, the thumbnail worker (reserved concurrency 1
/// in envs/local) killed mid-burst: every upload ends with its one terminal outcome, each
/// record announced exactly once, nothing left claimed, every DLQ empty.
fn burst() -> Vec<BurstUpload> {
    let sample = |path: &str| {
        std::fs::read(root().join("samples/uploads").join(path)).expect("bundled sample")
    };
    let png = sample("images/sunset gradient.png");
    let corrupt = sample("images/corrupt.jpg");
    let minutes = sample("compliance/meeting notes.txt");
    let customers = sample("compliance/customers.csv");
    let mut uploads = Vec::new();
    let mut add = |key: String, bytes: Vec<u8>, stage, status| {
        uploads.push(BurstUpload {
            key,
            bytes,
            stage,
            status,
        })
    };
    for n in 0..80 {
        add(
            format!("uploads/images/burst {n}+é.png"),
            png.clone(),
            "thumbnail",
            "SUCCEEDED",
        );
    }
    for n in 0..10 {
        add(
            format!("uploads/images/broken {n}.jpg"),
            corrupt.clone(),
            "thumbnail",
            "FAILED",
        );
    }
    for n in 0..60 {
        let text = format!("Burst document {n}.\nIt has a few words on two lines.\n");
        add(
            format!("uploads/documents/note {n}.txt"),
            text.into_bytes(),
            "extractor",
            "SUCCEEDED",
        );
    }
    for n in 0..30 {
        add(
            format!("uploads/compliance/minutes {n}.txt"),
            minutes.clone(),
            "compliance",
            "CLEAN",
        );
    }
    for n in 0..10 {
        add(
            format!("uploads/compliance/customers {n}.csv"),
            customers.clone(),
            "compliance",
            "FLAGGED",
        );
    }
    for n in 0..15 {
        add(
            format!("uploads/unrouted/file {n}.txt"),
            b"not ours".to_vec(),
            "router",
            "IGNORED",
        );
    }
    for n in 0..15 {
        add(
            format!("uploads/documents/empty {n}.txt"),
            Vec::new(),
            "router",
            "REJECTED",
        );
    }
    uploads
}

#[test]
fn a_burst_with_a_killed_worker_ends_every_upload_once_and_leaves_the_dlqs_empty() {
    let (_running, lines, state_file, state) = start_local("burst", false);
    let uploads = burst();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let endpoint = state["endpoint_url"].as_str().expect("endpoint").to_owned();
    let bucket = state["bucket"].as_str().expect("bucket").to_owned();
    let config = runtime.block_on(emulator::sdk_config(&endpoint));
    let s3 = aws_sdk_s3::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let sns = aws_sdk_sns::Client::new(&config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let notifications = runtime
        .block_on(emulator::subscribe_new_queue(
            &sqs,
            &sns,
            state["notifications_topic_arn"].as_str().expect("topic"),
            "burst-notifications",
            &[("RawMessageDelivery", "true")],
        ))
        .expect("a queue on the notifications topic");

    let started = Instant::now();
    runtime.block_on(async {
        use futures::stream::{self, StreamExt};
        stream::iter(&uploads)
            .for_each_concurrent(16, |upload| {
                let put = s3
                    .put_object()
                    .bucket(&bucket)
                    .key(&upload.key)
                    .body(upload.bytes.clone().into());
                async move {
                    put.send().await.expect("uploaded");
                }
            })
            .await;
    });
    eprintln!("{} uploads in {:?}", uploads.len(), started.elapsed());

    // The thumbnail worker dies mid-burst; its invocation is retried on a new process.
    let thumbnail_pid = {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let pid = lines.try_iter().find_map(|line| {
                line.strip_prefix("[executor] started s3-triage-local-thumbnail (pid ")?
                    .trim_end_matches(')')
                    .parse::<u32>()
                    .ok()
            });
            if let Some(pid) = pid {
                break pid;
            }
            assert!(
                Instant::now() < deadline,
                "the thumbnail worker never started"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    std::thread::sleep(Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-KILL", &thumbnail_pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success(), "the thumbnail worker had already gone");

    let table = state["audit_table"].as_str().expect("table").to_owned();
    // A killed invocation is retried a minute later (two for a second retry), as on AWS.
    let deadline = Instant::now() + Duration::from_secs(420);
    let (outcomes, unfinished) = loop {
        let items = runtime.block_on(scan(&dynamodb, &table));
        let mut outcomes = std::collections::BTreeMap::new();
        let mut unfinished = Vec::new();
        for item in &items {
            let text = |name: &str| item.get(name).and_then(|value| value.as_s().ok()).cloned();
            let (Some(key), Some(stage), Some(status)) =
                (text("key"), text("stage"), text("status"))
            else {
                continue;
            };
            if text("delivery").as_deref() != Some("notified") {
                unfinished.push(format!("{key} {stage}: {:?}", text("delivery")));
            }
            outcomes.insert((key, stage), status);
        }
        let done = uploads
            .iter()
            .filter(|upload| outcomes.contains_key(&(upload.key.clone(), upload.stage.to_owned())))
            .count();
        if (done == uploads.len() && unfinished.is_empty()) || Instant::now() > deadline {
            eprintln!(
                "{done}/{} uploads ended after {:?}",
                uploads.len(),
                started.elapsed()
            );
            break (outcomes, unfinished);
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    let mut wrong = Vec::new();
    for upload in &uploads {
        match outcomes.get(&(upload.key.clone(), upload.stage.to_owned())) {
            Some(status) if status == upload.status => {}
            other => wrong.push(format!(
                "{} ({}): expected {}, got {other:?}",
                upload.key, upload.stage, upload.status
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        unfinished.is_empty(),
        "records left unannounced:\n{}",
        unfinished.join("\n")
    );

    // Every record announced: as many distinct notifications as records. Only the record the
    // killed worker was announcing may come twice (SNS has no exactly-once publish: a publish
    // made just before the kill is repeated by the takeover), and then under the same id.
    let bodies = runtime
        .block_on(emulator::drain_queue(&sqs, &notifications))
        .expect("notifications drained");
    let mut announced = std::collections::BTreeMap::new();
    for body in &bodies {
        let record: Value = serde_json::from_str(body).expect("a JSON record");
        let key = record["key"].as_str().unwrap_or_default().to_owned();
        let stage = record["stage"].as_str().unwrap_or_default().to_owned();
        let id = record["notification_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        announced
            .entry((key, stage))
            .or_insert_with(Vec::new)
            .push(id);
    }
    let repeated: Vec<_> = announced.iter().filter(|(_, ids)| ids.len() > 1).collect();
    let explained = match repeated.as_slice() {
        [] => true,
        [((_, stage), ids)] => stage == "thumbnail" && ids.len() == 2 && ids[0] == ids[1],
        _ => false,
    };
    assert!(explained, "announced more than once: {repeated:?}");
    assert_eq!(
        announced.len(),
        outcomes.len(),
        "a record without its notification"
    );

    let mut dlqs = Vec::new();
    for (name, url) in state["dlq_urls"].as_object().expect("dlq_urls") {
        match url {
            Value::Object(checkers) => dlqs.extend(
                checkers
                    .iter()
                    .map(|(checker, url)| (format!("{name} {checker}"), url)),
            ),
            url => dlqs.push((name.clone(), url)),
        }
    }
    for (name, url) in dlqs {
        let dead = runtime
            .block_on(emulator::drain_queue(
                &sqs,
                url.as_str().expect("a queue URL"),
            ))
            .expect("DLQ read");
        assert!(dead.is_empty(), "the {name} DLQ holds {dead:?}");
    }
    let _ = std::fs::remove_file(&state_file);
}

async fn scan(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = dynamodb
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("audit table scanned");
        items.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

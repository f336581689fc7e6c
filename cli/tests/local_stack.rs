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

#[test]
fn an_upload_from_boto3_is_routed_and_audited_and_ctrl_c_stops_everything() {
    let state_file = std::env::temp_dir().join(format!("triage-local-{}.json", std::process::id()));
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
            eprintln!("{line}");
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

//! `triage local` end to end: emulator, terraform apply of envs/local, the executor running the
//! router binary; an upload from boto3 (a client that is not ours) is routed and audited.

mod consistency;
mod policies;

use aws_sdk_ecs::types::DesiredStatus;
use serde_json::{json, Value};
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

/// `triage local <args>` on its own emulator, up: the process, its stderr lines, its state file
/// and the state in it. `echo_workers` passes the workers' own log lines through to the test's
/// output besides the stack's and the executor's. The binaries are the ones built beside
/// `triage` unless `args` names others.
fn start_local(
    name: &str,
    echo_workers: bool,
    args: &[&str],
) -> (Running, mpsc::Receiver<String>, PathBuf, Value) {
    let state_file =
        std::env::temp_dir().join(format!("triage-{name}-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&state_file);
    let built = PathBuf::from(TRIAGE)
        .parent()
        .expect("target dir")
        .to_path_buf();
    let mut local = Command::new(TRIAGE);
    local.arg("local");
    if !args.contains(&"--binaries") {
        local.arg("--binaries").arg(&built);
    }
    let mut child = local
        .arg("--state-file")
        .arg(&state_file)
        .args(args)
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

/// A bucket's notification configuration, as read back.
type Notifications =
    aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput;

/// A bucket that was there before the stack, with a notification configuration of its own
/// (another team's queue) and a KMS key of its own: created on `endpoint`, returned with that
/// configuration as read, and the key's ARN.
fn existing_bucket(runtime: &tokio::runtime::Runtime, endpoint: &str) -> (Notifications, String) {
    use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
    runtime.block_on(async {
        let config = emulator::sdk_config(endpoint).await;
        let s3 = aws_sdk_s3::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        s3.create_bucket()
            .bucket(EXISTING_BUCKET)
            .send()
            .await
            .expect("bucket");
        let queue = sqs
            .create_queue()
            .queue_name("team-indexer")
            .send()
            .await
            .expect("their queue");
        let queue_arn = emulator::queue_arn(&sqs, queue.queue_url().expect("url"))
            .await
            .expect("arn");
        let theirs = QueueConfiguration::builder()
            .id("team-indexer")
            .queue_arn(queue_arn)
            .events(Event::S3ObjectCreated)
            .build()
            .expect("their configuration");
        s3.put_bucket_notification_configuration()
            .bucket(EXISTING_BUCKET)
            .notification_configuration(
                NotificationConfiguration::builder()
                    .queue_configurations(theirs)
                    .build(),
            )
            .send()
            .await
            .expect("their notifications");
        let configuration = s3
            .get_bucket_notification_configuration()
            .bucket(EXISTING_BUCKET)
            .send()
            .await
            .expect("read back");
        let key = Command::new(root().join(".local/moto-venv/bin/python"))
            .args([
                "-c",
                "import boto3, sys\n\
                 kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='t', aws_secret_access_key='t')\n\
                 key = boto3.client('kms', **kw).create_key(Description='team-media')['KeyMetadata']['Arn']\n\
                 boto3.client('s3', **kw).put_bucket_encryption(Bucket=sys.argv[2], ServerSideEncryptionConfiguration={'Rules': [\n\
                 {'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'aws:kms', 'KMSMasterKeyID': key}}]})\n\
                 print(key)",
                endpoint,
                EXISTING_BUCKET,
            ])
            .output()
            .expect("boto3 runs");
        assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
        (configuration, String::from_utf8_lossy(&key.stdout).trim().to_owned())
    })
}

/// The bucket another team had before the stack (unversioned, as many are).
const EXISTING_BUCKET: &str = "team-media";

/// Two watched buckets: the one the stack creates (S3 notifications) and one that was there
/// before with its own notification configuration (EventBridge). Uploads from boto3 (a client
/// that is not ours) to both end with terminal histories, the other bucket's configuration is
/// unchanged and its own consumer still hears of every upload; terraform and the code agree on
/// the applied stack; Ctrl-C stops everything.
#[test]
fn uploads_to_our_bucket_and_an_existing_one_end_and_its_notifications_stay_its_own() {
    let emulator = emulator::Emulator::start().expect("emulator");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (before, key) = existing_bucket(&runtime, emulator.endpoint());
    let watched = format!("{EXISTING_BUCKET},kms={key}");
    let (mut running, lines, state_file, state) = start_local(
        "local",
        true,
        &[
            "--endpoint-url",
            emulator.endpoint(),
            "--watch-existing",
            &watched,
        ],
    );
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
    assert_eq!(
        state["watched_buckets"][EXISTING_BUCKET]["outputs"], EXISTING_BUCKET,
        "{state}"
    );

    // The stack is applied: terraform's settings and permissions must match what the code uses.
    let terraform_state = terraform_state_of(&state);
    let (mismatches, summary) = consistency::mismatches(&root(), &terraform_state);
    eprintln!("what each deployed binary reads and calls:\n{summary}");
    assert!(
        mismatches.is_empty(),
        "terraform and the code disagree:\n{}",
        mismatches.join("\n")
    );
    let applied = consistency::terraform::terraform_state(&root(), &terraform_state);
    let mut limits = consistency::sizing::broken_in_applied(&applied);
    limits.extend(consistency::sizing::sweep_before_redelivery(&applied));
    assert!(
        limits.is_empty(),
        "the applied limits do not add up:\n{}",
        limits.join("\n")
    );
    // The key it names is granted to the roles that read the bucket, and only to them.
    let mut decrypting: Vec<String> = consistency::terraform::all_resources(&applied)
        .iter()
        .filter(|resource| resource["type"] == "aws_iam_role_policy")
        .filter(|policy| {
            policy["values"]["policy"]
                .as_str()
                .is_some_and(|text| text.contains(&key))
        })
        .filter_map(|policy| policy["values"]["role"].as_str().map(str::to_owned))
        .collect();
    decrypting.sort();
    assert_eq!(
        decrypting,
        [
            "s3-triage-local-check-content",
            "s3-triage-local-check-malware",
            "s3-triage-local-check-pii",
            "s3-triage-local-extractor",
            "s3-triage-local-large-file-task",
            "s3-triage-local-thumbnail",
        ]
    );
    assert_policies_hold(&applied);

    let ours = state["bucket"].as_str().unwrap_or_default();
    let png =
        std::fs::read(root().join("samples/uploads/images/sunset gradient.png")).expect("png");
    // An e-mail whose attached PDF re-enters the pipeline: announced by the bucket's own
    // notification in ours, by its EventBridge rule in theirs (which keeps its outputs).
    let mail = testkit::documents::eml(
        "The report is attached.",
        &[(
            "q3 report.pdf",
            "application/pdf",
            &testkit::pdf::pdf("Attached revenue table"),
        )],
        &testkit::office::PROPERTIES,
    );
    let mail_key = "uploads/documents/mail/q3 thread+1.eml";
    let uploads: [(&str, &str, &[u8], &str, &str); 5] = [
        (
            ours,
            "uploads/documents/Q3 report+final 日本.pdf",
            b"%PDF-1.4",
            "extractor",
            "FAILED",
        ),
        (ours, mail_key, &mail, "extractor", "SUCCEEDED"),
        (EXISTING_BUCKET, mail_key, &mail, "extractor", "SUCCEEDED"),
        (
            EXISTING_BUCKET,
            "uploads/images/team photo+1.png",
            &png,
            "thumbnail",
            "SUCCEEDED",
        ),
        (
            EXISTING_BUCKET,
            "uploads/documents/notes 日本.txt",
            b"Minutes of the team meeting.\n",
            "extractor",
            "SUCCEEDED",
        ),
    ];
    let python = root().join(".local/moto-venv/bin/python");
    for (bucket, key, body, _, _) in &uploads {
        let body_file = std::env::temp_dir().join(format!("triage-upload-{}", std::process::id()));
        std::fs::write(&body_file, body).expect("body");
        let upload = Command::new(&python)
            .args([
                "-c",
                "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
                 aws_access_key_id='t', aws_secret_access_key='t').put_object(Bucket=sys.argv[2], Key=sys.argv[3], Body=open(sys.argv[4], 'rb').read())",
            ])
            .args([emulator.endpoint(), bucket, key])
            .arg(&body_file)
            .status()
            .expect("boto3 runs");
        assert!(upload.success(), "{bucket}/{key}");
    }

    let stack = Stack::connect(&state, "local");
    let items = stack.wait_for("both buckets' uploads to end", &|items| {
        uploads.iter().all(|(bucket, key, _, stage, status)| {
            items.iter().any(|item| {
                text(item, "bucket") == Some(*bucket)
                    && text(item, "key") == Some(*key)
                    && text(item, "stage") == Some(*stage)
                    && text(item, "status") == Some(*status)
                    && text(item, "delivery") == Some("notified")
            })
        })
    });
    for (bucket, key, _, _, _) in &uploads {
        let routed = items
            .iter()
            .find(|item| {
                text(item, "bucket") == Some(*bucket)
                    && text(item, "key") == Some(*key)
                    && text(item, "stage") == Some("router")
            })
            .unwrap_or_else(|| panic!("no router record of {bucket}/{key}"));
        assert_eq!(text(routed, "status"), Some("ROUTED"), "{routed:?}");
    }
    for bucket in [ours, EXISTING_BUCKET] {
        attachment_is_extracted(&stack, &items, bucket, mail_key);
    }
    // The existing bucket keeps its outputs, under the reserved prefix.
    let thumbnail = items
        .iter()
        .find(|item| {
            text(item, "bucket") == Some(EXISTING_BUCKET)
                && text(item, "stage") == Some("thumbnail")
        })
        .expect("thumbnail record");
    let outputs = thumbnail["outputs"].as_l().expect("outputs");
    assert!(!outputs.is_empty(), "{thumbnail:?}");
    for output in outputs {
        let key = output.as_s().expect("an output key");
        assert!(
            key.starts_with("processed/thumbnails/uploads/images/team photo+1.png/"),
            "{key}"
        );
        stack
            .runtime
            .block_on(
                stack
                    .s3
                    .head_object()
                    .bucket(EXISTING_BUCKET)
                    .key(key)
                    .send(),
            )
            .unwrap_or_else(|err| panic!("{key} is not in {EXISTING_BUCKET}: {err:?}"));
    }
    let history = audit(&state_file, "uploads/documents/Q3 report+final 日本.pdf");
    assert!(
        history.status.success(),
        "{}",
        String::from_utf8_lossy(&history.stderr)
    );

    // Its notification configuration is what it was, plus the EventBridge switch, and its own
    // consumer heard of every upload as before.
    let after = stack
        .runtime
        .block_on(
            stack
                .s3
                .get_bucket_notification_configuration()
                .bucket(EXISTING_BUCKET)
                .send(),
        )
        .expect("read back");
    assert_eq!(after.queue_configurations(), before.queue_configurations());
    assert_eq!(after.topic_configurations(), before.topic_configurations());
    assert_eq!(
        after.lambda_function_configurations(),
        before.lambda_function_configurations()
    );
    assert!(before.event_bridge_configuration().is_none());
    assert!(after.event_bridge_configuration().is_some());
    let theirs = stack.runtime.block_on(async {
        let sqs = &stack.sqs;
        let url = sqs
            .get_queue_url()
            .queue_name("team-indexer")
            .send()
            .await
            .expect("their queue")
            .queue_url
            .expect("url");
        emulator::drain_queue(sqs, &url).await.expect("drained")
    });
    let heard = theirs
        .iter()
        .filter_map(|body| serde_json::from_str::<Value>(body).ok())
        .flat_map(|message| message["Records"].as_array().cloned().unwrap_or_default())
        .filter(|record| {
            record["eventName"]
                .as_str()
                .is_some_and(|name| name.starts_with("ObjectCreated"))
                // Keys arrive encoded; the outputs the pipeline keeps in the bucket are
                // announced to it too (its configuration filters no prefix).
                && record["s3"]["object"]["key"]
                    .as_str()
                    .is_some_and(|key| key.starts_with("uploads"))
        })
        .count();
    let sent = uploads
        .iter()
        .filter(|(bucket, ..)| *bucket == EXISTING_BUCKET)
        .count();
    assert_eq!(heard, sent, "their queue: {theirs:?}");

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

/// The e-mail `key`'s attachment was written beside its text, announced like an upload,
/// routed as the e-mail was and extracted: its text is the PDF's.
fn attachment_is_extracted(stack: &Stack, items: &[Item], bucket: &str, key: &str) {
    let mail = items
        .iter()
        .find(|item| {
            text(item, "bucket") == Some(bucket)
                && text(item, "key") == Some(key)
                && text(item, "stage") == Some("extractor")
        })
        .unwrap_or_else(|| panic!("no extractor record of {bucket}/{key}"));
    let outputs = mail["outputs"].as_l().expect("outputs");
    let attachment = outputs
        .iter()
        .filter_map(|output| output.as_s().ok())
        .find(|output| output.starts_with("processed/attachments/"))
        .unwrap_or_else(|| panic!("no attachment among {outputs:?}"))
        .clone();
    // A versioned bucket's has the e-mail's versionId between its key and its name.
    assert!(
        attachment.starts_with(&format!("processed/attachments/{key}/"))
            && attachment.ends_with("/1-q3 report.pdf"),
        "{attachment}"
    );
    let items = stack.wait_for(
        &format!("{bucket}/{attachment} to be extracted"),
        &|items| {
            items.iter().any(|item| {
                text(item, "bucket") == Some(bucket)
                    && text(item, "key") == Some(attachment.as_str())
                    && text(item, "stage") == Some("extractor")
                    && text(item, "delivery") == Some("notified")
            })
        },
    );
    let of_attachment = |stage: &str| {
        items
            .iter()
            .find(|item| {
                text(item, "bucket") == Some(bucket)
                    && text(item, "key") == Some(attachment.as_str())
                    && text(item, "stage") == Some(stage)
            })
            .unwrap_or_else(|| panic!("no {stage} record of {attachment}"))
    };
    assert_eq!(text(of_attachment("router"), "status"), Some("ROUTED"));
    assert_eq!(text(of_attachment("router"), "tier"), Some("document"));
    let extracted = of_attachment("extractor");
    assert_eq!(
        text(extracted, "status"),
        Some("SUCCEEDED"),
        "{extracted:?}"
    );
    assert_eq!(text(extracted, "content_type"), Some("application/pdf"));
    let text_key = extracted["outputs"].as_l().expect("outputs")[0]
        .as_s()
        .expect("key")
        .clone();
    let body = stack
        .runtime
        .block_on(async {
            let object = stack
                .s3
                .get_object()
                .bucket(bucket)
                .key(&text_key)
                .send()
                .await?;
            Ok::<_, Box<dyn std::error::Error>>(object.body.collect().await?.into_bytes())
        })
        .unwrap_or_else(|err| panic!("{text_key}: {err}"));
    assert!(
        String::from_utf8_lossy(&body).contains("Attached revenue table"),
        "{text_key}"
    );
}

/// Where `triage local` keeps the terraform state of the stack `state` describes.
fn terraform_state_of(state: &Value) -> PathBuf {
    let endpoint = state["endpoint_url"].as_str().unwrap_or_default();
    let port = endpoint
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .trim_matches('/');
    root().join(format!(".local/terraform/local-{port}.tfstate"))
}

fn assert_policies_hold(applied: &Value) {
    let violations = policies::violations(&root(), applied);
    assert!(
        violations.is_empty(),
        "the applied policies let the wrong principals through:\n{}",
        violations.join("\n")
    );
}

/// A bucket in EventBridge mode: uploads reach the router through S3 -> EventBridge -> the
/// ingest queue, and every shipped sample ends as samples/expected.json says (what the demo
/// checks on the S3 path), with the same records and one notification each.
#[test]
fn uploads_announced_through_eventbridge_end_as_through_s3_notifications() {
    let (_running, _lines, state_file, state) =
        start_local("eventbridge", false, &["--event-path", "eventbridge"]);
    assert_eq!(state["event_path"], "eventbridge", "{state}");
    let stack = Stack::connect(&state, "eventbridge");
    let configuration = stack
        .runtime
        .block_on(
            stack
                .s3
                .get_bucket_notification_configuration()
                .bucket(&stack.bucket)
                .send(),
        )
        .expect("notification configuration");
    assert!(configuration.event_bridge_configuration().is_some());
    assert!(
        configuration.queue_configurations().is_empty(),
        "the bucket still notifies a queue itself"
    );
    let applied = consistency::terraform::terraform_state(&root(), &terraform_state_of(&state));
    assert_policies_hold(&applied);

    let expected: serde_json::Map<String, Value> = serde_json::from_str(
        &std::fs::read_to_string(root().join("samples/expected.json")).expect("expected.json"),
    )
    .expect("JSON object");
    let samples = expected
        .iter()
        .filter(|(key, _)| root().join("samples").join(key).is_file())
        .map(|(key, want)| {
            let bytes = std::fs::read(root().join("samples").join(key)).expect("sample");
            (key.clone(), bytes, want.clone())
        });
    let uploads: Vec<(String, Vec<u8>, Value)> = samples.chain(one_file_of_each_format()).collect();
    let shipped: Vec<(&String, &Value)> =
        uploads.iter().map(|(key, _, want)| (key, want)).collect();
    assert!(shipped.len() >= 10, "{shipped:?}");
    let watch = Watching::start(&state_file);
    for (key, bytes, _) in &uploads {
        stack.put(key, bytes);
    }
    let ended = |items: &[Item], key: &str, want: &Value| {
        let stage = want["stage"].as_str().unwrap_or("router");
        let status = want["status"].as_str().expect("status");
        items.iter().any(|item| {
            text(item, "key") == Some(key)
                && text(item, "stage") == Some(stage)
                && text(item, "status") == Some(status)
                && text(item, "delivery") == Some("notified")
        })
    };
    let items = stack.wait_for("every sample's outcome", &|items| {
        shipped.iter().all(|(key, want)| ended(items, key, want))
    });
    for item in items
        .iter()
        .filter(|item| text(item, "stage") == Some("router"))
    {
        // An upload's own event: no other origin recorded.
        assert_eq!(text(item, "origin"), None, "{item:?}");
    }
    // A record per stage: the router's, the worker's, and each compliance check's.
    let records = shipped.len()
        + shipped
            .iter()
            .filter(|(_, want)| want.get("stage").is_some())
            .count()
        + shipped
            .iter()
            .filter_map(|(_, want)| want.get("checks")?.as_array().map(Vec::len))
            .sum::<usize>();
    assert_eq!(items.len(), records, "{items:?}");
    for (key, _, want) in uploads
        .iter()
        .filter(|(_, _, want)| want.get("content_type").is_some())
    {
        let worker = items
            .iter()
            .find(|item| {
                text(item, "key") == Some(key) && text(item, "stage") == want["stage"].as_str()
            })
            .unwrap_or_else(|| panic!("no worker record of {key}"));
        assert_eq!(
            text(worker, "content_type"),
            want["content_type"].as_str(),
            "{worker:?}"
        );
        let outputs = worker
            .get("outputs")
            .and_then(|outputs| outputs.as_l().ok());
        assert!(
            outputs.is_some_and(|outputs| !outputs.is_empty()),
            "{worker:?}"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut announced = std::collections::BTreeMap::new();
    while announced.len() < records && Instant::now() < deadline {
        for record in stack.notifications() {
            let id = record["notification_id"].as_str().unwrap_or_default();
            assert!(
                announced.insert(id.to_owned(), record.clone()).is_none(),
                "announced twice: {id}"
            );
        }
    }
    assert_eq!(announced.len(), records);
    let announced: Vec<Value> = announced.into_values().collect();
    // Every record as subscribers receive it holds to the published schema.
    assert_eq!(
        testkit::json_schema::violations(notifications::SCHEMA_DOCUMENT, &announced),
        Vec::<String>::new()
    );
    declared_subscribers_hear_what_their_filters_let_through(&stack, &state, &announced);
    watch.prints_exactly(
        &announced
            .iter()
            .filter(|r| is_failure(r))
            .collect::<Vec<_>>(),
    );
    watches_leave_nothing_behind_even_after_a_crash(&stack, &state_file);

    // The same stack proves itself alive: a canary per tier, each checked, then removed.
    let selftest = selftest(&state_file, &[]);
    let stdout = String::from_utf8_lossy(&selftest.stdout);
    assert!(
        selftest.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&selftest.stderr)
    );
    assert!(stdout.contains("selftest passed: 4 canaries"), "{stdout}");
    let left = stack
        .runtime
        .block_on(stack.s3.list_object_versions().bucket(&stack.bucket).send())
        .expect("listing");
    assert!(
        !left.versions().iter().any(|version| version
            .key()
            .is_some_and(|key| key.contains("triage-selftest/"))),
        "the selftest left its canaries"
    );

    // The scheduled functions as EventBridge's schedule runs them, through the executor: the
    // canary Lambda proves every tier (no EICAR: it would page) and removes its canaries; the
    // sweep finds nothing abandoned in a stack where everything ended.
    let invoker = aws_sdk_lambda::Client::new(
        &stack.runtime.block_on(emulator::sdk_config(
            state["lambda_endpoint_url"]
                .as_str()
                .expect("the executor's Invoke API"),
        )),
    );
    let scheduled = |function: &str| -> Value {
        let invoked = stack
            .runtime
            .block_on(
                invoker
                    .invoke()
                    .function_name(function)
                    .payload(aws_sdk_lambda::primitives::Blob::new(
                        json!({"source": "aws.events", "detail-type": "Scheduled Event"})
                            .to_string(),
                    ))
                    .send(),
            )
            .unwrap_or_else(|err| panic!("{function} invoked: {err:?}"));
        let payload = invoked.payload().expect("a response").as_ref();
        assert_eq!(
            invoked.function_error(),
            None,
            "{function}: {}",
            String::from_utf8_lossy(payload)
        );
        serde_json::from_slice(payload).expect("JSON")
    };
    let canary = scheduled("s3-triage-local-canary");
    let results = canary["results"].as_array().expect("results");
    let tiers: Vec<&str> = results
        .iter()
        .filter_map(|result| result["tier"].as_str())
        .collect();
    assert_eq!(tiers, ["thumbnail", "document", "compliance"], "{canary}");
    assert!(
        results.iter().all(|result| result["problem"].is_null()),
        "{canary}"
    );
    assert_eq!(
        canary["removed"]["Ok"].as_u64().map(|n| n > 0),
        Some(true),
        "{canary}"
    );
    assert_eq!(
        scheduled("s3-triage-local-sweeper"),
        json!({"abandoned": [], "announced": [], "moved": 0, "unreadable": []})
    );
    let _ = std::fs::remove_file(&state_file);
}

/// A generated file of each format added since the first samples (the shipped samples hold a
/// DOCX and an SVG), each to end SUCCEEDED with outputs and its content type recorded.
fn one_file_of_each_format() -> Vec<(String, Vec<u8>, Value)> {
    use testkit::office::{self, PROPERTIES};
    let paragraphs = ["Quarterly revenue rose.", "Costs fell."];
    let sheet: &[&[&str]] = &[&["Region", "Units"], &["North", "12"]];
    let slides: &[(&str, &str)] = &[("Roadmap", "Ship in May")];
    let documents: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "sales.xlsx",
            office::xlsx(&[("Sales", sheet)], &PROPERTIES),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "deck.pptx",
            office::pptx(slides, &PROPERTIES),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        (
            "report.odt",
            office::odt(&paragraphs, &PROPERTIES),
            "application/vnd.oasis.opendocument.text",
        ),
        (
            "sales.ods",
            office::ods(&[("Sales", sheet)], &PROPERTIES),
            "application/vnd.oasis.opendocument.spreadsheet",
        ),
        (
            "deck.odp",
            office::odp(slides, &PROPERTIES),
            "application/vnd.oasis.opendocument.presentation",
        ),
        (
            "guide.epub",
            testkit::documents::epub(&[("Start", &paragraphs)], &PROPERTIES),
            "application/epub+zip",
        ),
        (
            "page.html",
            testkit::documents::html(&paragraphs, &PROPERTIES),
            "text/html",
        ),
        (
            "letter.rtf",
            testkit::documents::rtf(&paragraphs, &PROPERTIES),
            "application/rtf",
        ),
        (
            "thread.eml",
            testkit::documents::eml("See the report.", &[], &PROPERTIES),
            "message/rfc822",
        ),
    ];
    let picture =
        image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
    let encoded = |format| {
        let mut bytes = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(picture.clone())
            .write_to(&mut bytes, format)
            .expect("encoded");
        bytes.into_inner()
    };
    let scan = testkit::images::tiff(&[testkit::images::TiffPage {
        width: 64,
        height: 48,
        photometric: 2,
        samples: 3,
        bits: 8,
        data: picture.as_raw().clone(),
    }]);
    let images: Vec<(&str, Vec<u8>, &str)> = vec![
        ("scan.tiff", scan, "image/tiff"),
        ("screen.bmp", encoded(image::ImageFormat::Bmp), "image/bmp"),
        (
            "favicon.ico",
            encoded(image::ImageFormat::Ico),
            "image/x-icon",
        ),
    ];
    let want = |stage: &str, content_type: &str| json!({"stage": stage, "status": "SUCCEEDED", "content_type": content_type});
    documents
        .into_iter()
        .map(|(name, bytes, content_type)| {
            (
                format!("uploads/documents/formats/{name}"),
                bytes,
                want("extractor", content_type),
            )
        })
        .chain(images.into_iter().map(|(name, bytes, content_type)| {
            (
                format!("uploads/images/formats/{name}"),
                bytes,
                want("thumbnail", content_type),
            )
        }))
        .collect()
}

/// Whether subscribers filtering on `failures` should hear of `record`.
fn is_failure(record: &Value) -> bool {
    record["status"]
        .as_str()
        .and_then(|status| status.parse::<audit::Status>().ok())
        .is_some_and(|status| status.outcome() == "failure")
}

/// envs/local's terraform.tfvars declares a `failures` and a `verdicts` queue and an e-mail
/// address for failures: each subscription exists with its filter policy, each queue holds what
/// its filter lets through of `announced` and nothing else.
fn declared_subscribers_hear_what_their_filters_let_through(
    stack: &Stack,
    state: &Value,
    announced: &[Value],
) {
    let topic = state["notifications_topic_arn"].as_str().expect("topic");
    let subscriptions = stack
        .runtime
        .block_on(
            stack
                .sns
                .list_subscriptions_by_topic()
                .topic_arn(topic)
                .send(),
        )
        .expect("subscriptions");
    let filter_of = |protocol: &str, endpoint: &str| -> Value {
        let subscription = subscriptions
            .subscriptions()
            .iter()
            .find(|s| s.protocol() == Some(protocol) && s.endpoint() == Some(endpoint))
            .unwrap_or_else(|| panic!("no {protocol} subscription for {endpoint}"));
        let attributes = stack
            .runtime
            .block_on(
                stack
                    .sns
                    .get_subscription_attributes()
                    .subscription_arn(subscription.subscription_arn().expect("arn"))
                    .send(),
            )
            .expect("attributes");
        let attributes = attributes.attributes().expect("attributes");
        assert!(
            attributes
                .get("RedrivePolicy")
                .is_some_and(|policy| policy.contains("-dlq")),
            "{endpoint}: no DLQ in {attributes:?}"
        );
        attributes
            .get("FilterPolicy")
            .map(|policy| serde_json::from_str(policy).expect("JSON"))
            .unwrap_or(Value::Null)
    };
    let failures = json!({"outcome": ["failure"]});
    assert_eq!(filter_of("email", "ops@example.com"), failures);
    let subscribers = &state["notification_subscribers"];
    let queue = |name: &str| {
        subscribers[name]["queue_url"]
            .as_str()
            .expect("queue")
            .to_owned()
    };
    let arn = |url: &str| {
        stack
            .runtime
            .block_on(emulator::queue_arn(&stack.sqs, url))
            .expect("queue arn")
    };
    assert_eq!(filter_of("sqs", &arn(&queue("failures"))), failures);
    assert_eq!(
        filter_of("sqs", &arn(&queue("verdicts"))),
        json!({"verdict": [{"exists": true}]})
    );

    let ids = |records: &[Value]| -> std::collections::BTreeSet<String> {
        records
            .iter()
            .map(|record| record["notification_id"].as_str().unwrap_or("?").to_owned())
            .collect()
    };
    let heard_failures = stack.records_in(&queue("failures"));
    let heard_verdicts = stack.records_in(&queue("verdicts"));
    let wanted_failures: Vec<Value> = announced
        .iter()
        .filter(|r| is_failure(r))
        .cloned()
        .collect();
    let wanted_verdicts: Vec<Value> = announced
        .iter()
        .filter(|record| record["stage"] == audit::VERDICT_STAGE)
        .cloned()
        .collect();
    assert!(
        wanted_failures
            .iter()
            .any(|r| r["status"] == "FAILED" && r["stage"] != audit::VERDICT_STAGE),
        "the samples have a FAILED upload"
    );
    assert_eq!(ids(&heard_failures), ids(&wanted_failures));
    assert_eq!(ids(&heard_verdicts), ids(&wanted_verdicts));
    assert!(
        !heard_verdicts
            .iter()
            .any(|record| record["status"] == "FAILED"),
        "a FAILED upload reached the verdicts subscriber"
    );
}

/// A `triage watch` running beside a test: its stdout and stderr lines as they come.
struct Watching {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    /// What it said until it followed the topic.
    started: Vec<String>,
}

impl Watching {
    /// `triage watch --filter failures` on the stack, once it follows the topic.
    fn start(state_file: &Path) -> Self {
        let mut child = Command::new(TRIAGE)
            .args(["watch", "--filter", "failures", "--state-file"])
            .arg(state_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("triage watch starts");
        let lines = |stream: Box<dyn std::io::Read + Send>| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            rx
        };
        let stdout = lines(Box::new(child.stdout.take().expect("stdout")));
        let stderr = lines(Box::new(child.stderr.take().expect("stderr")));
        let mut watching = Self {
            child,
            stdout,
            stderr,
            started: Vec::new(),
        };
        watching.started = watching.wait_for_stderr("following");
        watching
    }

    /// The stderr lines up to the first containing `what`.
    fn wait_for_stderr(&self, what: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self
                .stderr
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("triage watch never said {what:?}: {seen:?}"));
            let found = line.contains(what);
            seen.push(line);
            if found {
                return seen;
            }
        }
    }

    fn interrupt(mut self) {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        let ended = self.wait_for_stderr("removed its queue and subscription");
        let status = self.child.wait().expect("watch ends");
        assert!(
            status.success(),
            "triage watch ended with {status}: {ended:?}"
        );
    }

    /// Prints one line per record of `wanted` (and nothing else), then stops on Ctrl-C.
    fn prints_exactly(self, wanted: &[&Value]) {
        let mut printed = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while printed.len() < wanted.len() && Instant::now() < deadline {
            if let Ok(line) = self.stdout.recv_timeout(Duration::from_secs(1)) {
                printed.push(line);
            }
        }
        // Anything more would have come by now: every record was announced before.
        std::thread::sleep(Duration::from_secs(12));
        printed.extend(self.stdout.try_iter());
        assert_eq!(printed.len(), wanted.len(), "printed: {printed:#?}");
        for record in wanted {
            let text = |name: &str| record[name].as_str().unwrap_or("?");
            let status = format!(" {} ", text("status"));
            let location = format!("s3://{}/{}", text("bucket"), text("key"));
            assert!(
                printed
                    .iter()
                    .any(|line| line.contains(&status) && line.contains(&location)),
                "no line for {status}{location}: {printed:#?}"
            );
        }
        self.interrupt();
    }
}

/// After Ctrl-C no watch queue or subscription is left; one killed outright is removed by the
/// next watch to start.
fn watches_leave_nothing_behind_even_after_a_crash(stack: &Stack, state_file: &Path) {
    let left = || -> Vec<String> {
        let queues = stack
            .runtime
            .block_on(
                stack
                    .sqs
                    .list_queues()
                    .queue_name_prefix("triage-watch-")
                    .send(),
            )
            .expect("queues");
        let subscriptions = stack
            .runtime
            .block_on(stack.sns.list_subscriptions().send())
            .expect("subscriptions");
        queues
            .queue_urls()
            .iter()
            .cloned()
            .chain(
                subscriptions
                    .subscriptions()
                    .iter()
                    .filter_map(|s| s.endpoint())
                    .filter(|endpoint| endpoint.contains("triage-watch-"))
                    .map(str::to_owned),
            )
            .collect()
    };
    assert_eq!(left(), Vec::<String>::new(), "after Ctrl-C");
    let mut crashed = Watching::start(state_file);
    crashed.child.kill().expect("killed");
    crashed.child.wait().expect("ended");
    assert_eq!(left().len(), 2, "the killed watch's queue and subscription");
    let next = Watching::start(state_file);
    assert!(
        next.started
            .iter()
            .any(|line| line.contains("left by a watch that did not end")),
        "{:?}",
        next.started
    );
    next.interrupt();
    assert_eq!(left(), Vec::<String>::new(), "after the next watch");
}

/// `triage selftest --state-file <state> <args>`.
fn selftest(state_file: &Path, args: &[&str]) -> Output {
    Command::new(TRIAGE)
        .args(["selftest", "--state-file"])
        .arg(state_file)
        .args(args)
        .output()
        .expect("triage selftest runs")
}

/// With the thumbnail worker's binary made to crash, the selftest fails and names that tier
/// alone.
#[test]
fn the_selftest_names_the_tier_whose_worker_crashes() {
    let built = PathBuf::from(TRIAGE)
        .parent()
        .expect("target dir")
        .to_path_buf();
    let binaries = std::env::temp_dir().join(format!("triage-crashing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&binaries);
    std::fs::create_dir_all(&binaries).expect("binaries dir");
    for entry in std::fs::read_dir(&built).expect("target dir").flatten() {
        if entry.path().is_file() && entry.file_name() != "thumbnail" {
            std::os::unix::fs::symlink(entry.path(), binaries.join(entry.file_name()))
                .expect("symlink");
        }
    }
    let crashing = binaries.join("thumbnail");
    std::fs::write(&crashing, "#!/bin/sh\necho 'made to crash' >&2\nexit 70\n").expect("script");
    std::fs::set_permissions(
        &crashing,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("executable");

    let binaries_arg = binaries.to_str().expect("path");
    let (_running, _lines, state_file, _state) =
        start_local("crashing", false, &["--binaries", binaries_arg]);
    let selftest = selftest(&state_file, &["--timeout", "90s"]);
    let stderr = String::from_utf8_lossy(&selftest.stderr);
    assert!(!selftest.status.success(), "{stderr}");
    let failed = stderr
        .lines()
        .find(|line| line.contains("selftest failed: "))
        .unwrap_or_else(|| panic!("no failure named: {stderr}"));
    assert!(
        failed.contains("selftest failed: thumbnail (canary.png: "),
        "{failed}"
    );
    for working in ["document", "compliance"] {
        assert!(!failed.contains(working), "{failed}");
    }
    let _ = std::fs::remove_file(&state_file);
    let _ = std::fs::remove_dir_all(&binaries);
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
    assert!(
        stdout.contains("uploads announced through: s3 notifications\n"),
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

/// The large-file tasks of the local stack's cluster, RUNNING or STOPPED: (ARN, stopped reason).
fn large_file_tasks(stack: &Stack, cluster: &str, status: DesiredStatus) -> Vec<(String, String)> {
    stack
        .runtime
        .block_on(testkit::resources::ecs_tasks(&stack.ecs, cluster, status))
        .into_iter()
        .map(|task| {
            (
                task.task_arn.unwrap_or_default(),
                task.stopped_reason.unwrap_or_default(),
            )
        })
        .collect()
}

/// 20 large files uploaded together share the local stack's 3 tasks (2 objects each, 5 s idle:
/// envs/local); one task is stopped through ECS mid-burst, as a Spot reclaim would, and what it
/// held goes to the others. Every file ends once, SUCCEEDED with its SHA-256, and the tasks exit
/// once the queue stays empty.
#[test]
fn twenty_large_files_share_at_most_the_maximum_of_tasks_each_ending_once() {
    const FILES: usize = 20;
    const MAX_TASKS: usize = 3;
    let (_running, _lines, state_file, state) = start_local("large-burst", false, &[]);
    let stack = Stack::connect(&state, "large-burst");
    let cluster = state["cluster_name"].as_str().expect("cluster").to_owned();
    // Past the images rule's 20 MiB: the large tier. Each file's bytes its own.
    let uploads: Vec<(String, Vec<u8>)> = (0..FILES)
        .map(|n| {
            let bytes: Vec<u8> = (0..21 * 1024 * 1024_usize)
                .map(|i| (i as u8) ^ (n as u8).wrapping_mul(31) ^ ((i >> 12) as u8))
                .collect();
            (format!("uploads/images/scan {n}+é.tiff"), bytes)
        })
        .collect();
    // The most tasks running at once, sampled every 100 ms for the whole burst.
    let most_at_once = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sampler = {
        let (ecs, cluster, most) = (stack.ecs.clone(), cluster.clone(), most_at_once.clone());
        stack.runtime.spawn(async move {
            loop {
                if let Ok(listed) = ecs
                    .list_tasks()
                    .cluster(&cluster)
                    .desired_status(DesiredStatus::Running)
                    .send()
                    .await
                {
                    let running = listed.task_arns().len();
                    most.fetch_max(running, std::sync::atomic::Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let started = Instant::now();
    stack.runtime.block_on(async {
        use futures::stream::{self, StreamExt};
        stream::iter(&uploads)
            .for_each_concurrent(FILES, |(key, bytes)| {
                let put = stack
                    .s3
                    .put_object()
                    .bucket(&stack.bucket)
                    .key(key)
                    .body(bytes.clone().into());
                async move {
                    put.send().await.expect("uploaded");
                }
            })
            .await;
    });
    eprintln!("{FILES} large uploads in {:?}", started.elapsed());

    // Once the fleet is up, one task is stopped as Fargate stops it: SIGTERM from the executor.
    let deadline = Instant::now() + Duration::from_secs(180);
    let fleet = loop {
        let running = large_file_tasks(&stack, &cluster, DesiredStatus::Running);
        if running.len() >= 2 {
            break running;
        }
        assert!(
            Instant::now() < deadline,
            "the fleet never grew: {running:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    stack
        .runtime
        .block_on(
            stack
                .ecs
                .stop_task()
                .cluster(&cluster)
                .task(&fleet[0].0)
                .reason("reclaimed, as Spot capacity is")
                .send(),
        )
        .expect("stopped");

    let items = stack.wait_for("every large file recorded", &|items| {
        terminal(items, "large-file") >= FILES
    });
    eprintln!("{FILES} large files ended after {:?}", started.elapsed());
    let mut wrong = Vec::new();
    for (key, bytes) in &uploads {
        let records: Vec<&Item> = items
            .iter()
            .filter(|item| {
                text(item, "key") == Some(key) && text(item, "stage") == Some("large-file")
            })
            .collect();
        let sha256 = worker_common::s3::sha256_hex(bytes);
        match records.as_slice() {
            [record]
                if text(record, "status") == Some("SUCCEEDED")
                    && text(record, "sha256") == Some(sha256.as_str()) => {}
            other => wrong.push(format!(
                "{key}: {:?}",
                other
                    .iter()
                    .map(|r| (text(r, "status"), text(r, "sha256"), text(r, "reason")))
                    .collect::<Vec<_>>()
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "not one SUCCEEDED record with its sha256:\n{}",
        wrong.join("\n")
    );
    let mut announced = std::collections::BTreeMap::new();
    for record in stack.notifications() {
        if record["stage"] == "large-file" {
            let key = record["key"].as_str().unwrap_or_default().to_owned();
            *announced.entry(key).or_insert(0) += 1;
        }
    }
    assert_eq!(announced.len(), FILES, "{announced:?}");
    assert!(
        announced.values().all(|&n| n == 1),
        "announced twice: {announced:?}"
    );

    // The tasks exit after their idle time; no more ran at once than the maximum. A later
    // router may refill the stopped task's slot.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !large_file_tasks(&stack, &cluster, DesiredStatus::Running).is_empty() {
        assert!(
            Instant::now() < deadline,
            "tasks still running a minute after the burst"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    sampler.abort();
    let stopped = large_file_tasks(&stack, &cluster, DesiredStatus::Stopped);
    let most_at_once = most_at_once.load(std::sync::atomic::Ordering::SeqCst);
    eprintln!(
        "{} tasks, at most {most_at_once} at once: {stopped:?}; done after {:?}",
        stopped.len(),
        started.elapsed()
    );
    assert!(
        (2..=MAX_TASKS).contains(&most_at_once),
        "{most_at_once} tasks at once"
    );
    assert!(
        (2..=MAX_TASKS + 1).contains(&stopped.len()),
        "{} tasks for {FILES} files: {stopped:?}",
        stopped.len()
    );
    let exited_idle = stopped
        .iter()
        .filter(|(_, reason)| reason.contains("exited with code 0"))
        .count();
    assert_eq!(exited_idle, stopped.len() - 1, "{stopped:?}");
    let dead = stack
        .runtime
        .block_on(emulator::drain_queue(
            &stack.sqs,
            state["dlq_urls"]["large"].as_str().expect("large DLQ"),
        ))
        .expect("DLQ read");
    assert!(dead.is_empty(), "the large-file DLQ holds {dead:?}");
    let _ = std::fs::remove_file(&state_file);
}

#[test]
fn a_burst_with_a_killed_worker_ends_every_upload_once_and_leaves_the_dlqs_empty() {
    let (_running, lines, state_file, state) = start_local("burst", false, &[]);
    let uploads = burst();
    let stack = Stack::connect(&state, "burst");
    let (s3, bucket) = (&stack.s3, &stack.bucket);

    let started = Instant::now();
    stack.runtime.block_on(async {
        use futures::stream::{self, StreamExt};
        stream::iter(&uploads)
            .for_each_concurrent(16, |upload| {
                let put = s3
                    .put_object()
                    .bucket(bucket)
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

    // A killed invocation is retried a minute later (two for a second retry), as on AWS.
    let deadline = Instant::now() + Duration::from_secs(420);
    let (outcomes, unfinished) = loop {
        let items = stack.items();
        let mut outcomes = std::collections::BTreeMap::new();
        let mut unfinished = Vec::new();
        for item in &items {
            let (Some(key), Some(stage), Some(status)) =
                (text(item, "key"), text(item, "stage"), text(item, "status"))
            else {
                continue;
            };
            if text(item, "delivery") != Some("notified") {
                unfinished.push(format!("{key} {stage}: {:?}", text(item, "delivery")));
            }
            outcomes.insert((key.to_owned(), stage.to_owned()), status.to_owned());
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
    let mut announced = std::collections::BTreeMap::new();
    for record in stack.notifications() {
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

    for (name, url) in state["dlq_urls"].as_object().expect("dlq_urls") {
        let dead = stack
            .runtime
            .block_on(emulator::drain_queue(
                &stack.sqs,
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

type Item = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

/// A string attribute of an audit item.
fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|value| value.as_s().ok())
        .map(String::as_str)
}

/// What a test drives a running local stack with: SDK clients on its emulator, the bucket
/// and audit table, and a queue of its own on the notifications topic.
struct Stack {
    runtime: tokio::runtime::Runtime,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    lambda: aws_sdk_lambda::Client,
    sns: aws_sdk_sns::Client,
    ecs: aws_sdk_ecs::Client,
    bucket: String,
    table: String,
    notifications: String,
}

impl Stack {
    fn connect(state: &Value, test: &str) -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let endpoint = state["endpoint_url"].as_str().expect("endpoint");
        let config = runtime.block_on(emulator::sdk_config(endpoint));
        let sqs = aws_sdk_sqs::Client::new(&config);
        let sns = aws_sdk_sns::Client::new(&config);
        let notifications = runtime
            .block_on(emulator::subscribe_new_queue(
                &sqs,
                &sns,
                state["notifications_topic_arn"].as_str().expect("topic"),
                &format!("{test}-notifications"),
                &[("RawMessageDelivery", "true")],
            ))
            .expect("a queue on the notifications topic");
        Self {
            s3: aws_sdk_s3::Client::new(&config),
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            ecs: aws_sdk_ecs::Client::new(&config),
            sns,
            bucket: state["bucket"].as_str().expect("bucket").to_owned(),
            table: state["audit_table"].as_str().expect("table").to_owned(),
            runtime,
            sqs,
            notifications,
        }
    }

    /// Sets one environment variable of the function declared with it, as an `UpdateFunctionConfiguration`
    /// does, and waits until the executor (`lines`, its output) has taken the change.
    fn set_function_variable(&self, name: &str, value: &str, lines: &mpsc::Receiver<String>) {
        let functions = self
            .runtime
            .block_on(self.lambda.list_functions().send())
            .expect("functions");
        let (function, mut variables) = functions
            .functions()
            .iter()
            .find_map(|function| {
                let variables = function.environment()?.variables()?;
                let function = function.function_name()?;
                variables
                    .contains_key(name)
                    .then(|| (function.to_owned(), variables.clone()))
            })
            .unwrap_or_else(|| panic!("no function is declared with {name}"));
        variables.insert(name.to_owned(), value.to_owned());
        self.runtime
            .block_on(
                self.lambda
                    .update_function_configuration()
                    .function_name(&function)
                    .environment(
                        aws_sdk_lambda::types::Environment::builder()
                            .set_variables(Some(variables))
                            .build(),
                    )
                    .send(),
            )
            .expect("configuration updated");
        let taken = format!("[executor] {function}: environment changed");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !lines
            .recv_timeout(Duration::from_secs(1))
            .is_ok_and(|line| line.starts_with(&taken))
        {
            assert!(
                Instant::now() < deadline,
                "the executor did not take {name}={value}"
            );
        }
    }

    fn put(&self, key: &str, bytes: &[u8]) -> aws_sdk_s3::operation::put_object::PutObjectOutput {
        self.runtime
            .block_on(
                self.s3
                    .put_object()
                    .bucket(&self.bucket)
                    .key(key)
                    .body(bytes.to_vec().into())
                    .send(),
            )
            .expect("uploaded")
    }

    fn items(&self) -> Vec<Item> {
        self.runtime.block_on(scan(&self.dynamodb, &self.table))
    }

    /// The audit items once `done` holds of them (five minutes at most).
    fn wait_for(&self, what: &str, done: &dyn Fn(&[Item]) -> bool) -> Vec<Item> {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let items = self.items();
            if done(&items) {
                return items;
            }
            if Instant::now() >= deadline {
                let held: Vec<String> = items
                    .iter()
                    .map(|item| {
                        let field = |name| text(item, name).unwrap_or("-");
                        format!(
                            "{} {} {} {} {}",
                            field("key"),
                            field("stage"),
                            field("status"),
                            field("delivery"),
                            field("reason")
                        )
                    })
                    .collect();
                panic!(
                    "timed out waiting for {what}; the audit table holds:\n{}",
                    held.join("\n")
                );
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    }

    /// Every notification received since the last call, as JSON records.
    fn notifications(&self) -> Vec<Value> {
        self.records_in(&self.notifications)
    }

    /// What a raw-delivery subscriber queue holds, as JSON records, removed from it.
    fn records_in(&self, queue_url: &str) -> Vec<Value> {
        self.runtime
            .block_on(emulator::drain_queue(&self.sqs, queue_url))
            .expect("notifications drained")
            .iter()
            .map(|body| serde_json::from_str(body).expect("a JSON record"))
            .collect()
    }
}

/// (stage, status, run) of every audit item of `key`, sorted.
fn outcomes_of(items: &[Item], key: &str) -> Vec<(String, String, Option<String>)> {
    let mut found: Vec<_> = items
        .iter()
        .filter(|item| text(item, "key") == Some(key))
        .map(|item| {
            (
                text(item, "stage").unwrap_or_default().to_owned(),
                text(item, "status").unwrap_or_default().to_owned(),
                text(item, "run").map(str::to_owned),
            )
        })
        .collect();
    found.sort();
    found
}

/// How many records of `stage` are complete (notified).
fn terminal(items: &[Item], stage: &str) -> usize {
    items
        .iter()
        .filter(|item| {
            text(item, "stage") == Some(stage) && text(item, "delivery") == Some("notified")
        })
        .count()
}

/// Runs `triage <args> --state-file <state> --json` and parses its JSON output.
fn triage_json(state_file: &Path, args: &[&str]) -> Value {
    let output = Command::new(TRIAGE)
        .args(args)
        .args(["--json", "--state-file"])
        .arg(state_file)
        .env_remove("TRIAGE_AUDIT_TABLE")
        .output()
        .expect("triage runs");
    assert!(
        output.status.success(),
        "triage {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

#[test]
fn objects_that_were_there_before_are_backfilled_once_and_failures_reprocessed_as_a_new_run() {
    let (_running, lines, state_file, state) = start_local("backfill", false, &[]);
    let stack = Stack::connect(&state, "backfill");
    let (runtime, s3, sqs) = (&stack.runtime, &stack.s3, &stack.sqs);
    let bucket = stack.bucket.clone();
    let sample = |path: &str| {
        std::fs::read(root().join("samples/uploads").join(path)).expect("bundled sample")
    };
    let put = |key: &str, bytes: &[u8]| stack.put(key, bytes);
    let wait_for = |what: &str, done: &dyn Fn(&[Item]) -> bool| stack.wait_for(what, done);
    let items_of = |key: &str| outcomes_of(&stack.items(), key);

    // One upload with its own event (now naming its version, as AWS's do), then the same
    // version announced by an event that gives only its eTag.
    let announced_key = "uploads/images/announced.png";
    let png = sample("images/sunset gradient.png");
    let announced = put(announced_key, &png);
    wait_for("the announced upload", &|items| {
        terminal(items, "thumbnail") == 1
    });
    let etag_only = json!({ "Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": { "bucket": { "name": bucket }, "object": {
            "key": "uploads/images/announced.png", "size": png.len(),
            "eTag": announced.e_tag().expect("eTag").trim_matches('"') } }
    }]});
    runtime
        .block_on(
            sqs.send_message()
                .queue_url(state["ingest_queue_url"].as_str().expect("queue"))
                .message_body(etag_only.to_string())
                .send(),
        )
        .expect("sent");

    // Objects put while the bucket announces nothing: 480 outside every prefix, 10 images, 10
    // images cut short, which the thumbnail worker fails as deployed (any damage fails).
    let notifications_config = runtime
        .block_on(
            s3.get_bucket_notification_configuration()
                .bucket(&bucket)
                .send(),
        )
        .expect("notification configuration");
    let set_notifications = |queues| {
        runtime
            .block_on(
                s3.put_bucket_notification_configuration()
                    .bucket(&bucket)
                    .notification_configuration(
                        aws_sdk_s3::types::NotificationConfiguration::builder()
                            .set_queue_configurations(queues)
                            .build(),
                    )
                    .send(),
            )
            .expect("notification configuration set")
    };
    set_notifications(None);
    let cut_short = testkit::images::truncated_jpeg(0.6);
    let mut keys = Vec::new();
    for n in 0..500 {
        let (key, bytes) = match n {
            0..10 => (format!("uploads/images/before {n}.png"), png.clone()),
            10..20 => (format!("uploads/images/broken {n}.jpg"), cut_short.clone()),
            _ => (
                format!("archive/2025/record {n}+é.txt"),
                format!("record {n}").into_bytes(),
            ),
        };
        put(&key, &bytes);
        keys.push(key);
    }
    set_notifications(Some(notifications_config.queue_configurations().to_vec()));

    let dry_run = triage_json(&state_file, &["backfill", "--dry-run"]);
    assert_eq!(dry_run["skipped"], 1, "{dry_run}");
    assert_eq!(dry_run["sent"], 0, "{dry_run}");
    assert_eq!(dry_run["tiers"]["thumbnail"]["objects"], 20, "{dry_run}");
    assert_eq!(dry_run["tiers"]["ignored"]["objects"], 480, "{dry_run}");

    // Interrupted part-way, then run again: it continues from its checkpoint.
    let checkpoint = std::env::temp_dir().join(format!(
        "triage-backfill-checkpoint-{}.json",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&checkpoint);
    let mut first = Command::new(TRIAGE)
        .args(["backfill", "--rate", "100", "--state-file"])
        .arg(&state_file)
        .arg("--checkpoint")
        .arg(&checkpoint)
        .stderr(Stdio::piped())
        .spawn()
        .expect("backfill starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !checkpoint.exists() {
        if let Some(status) = first.try_wait().expect("status") {
            let mut stderr = String::new();
            let _ = std::io::Read::read_to_string(
                &mut first.stderr.take().expect("stderr"),
                &mut stderr,
            );
            panic!("the backfill ended ({status}) before its first checkpoint: {stderr}");
        }
        assert!(Instant::now() < deadline, "no checkpoint written");
        std::thread::sleep(Duration::from_millis(50));
    }
    Command::new("kill")
        .args(["-INT", &first.id().to_string()])
        .status()
        .expect("kill");
    let interrupted = first.wait().expect("backfill exits");
    assert!(!interrupted.success(), "an interrupted backfill reports it");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&checkpoint).expect("checkpoint kept"))
            .expect("checkpoint JSON");
    let sent_before = saved["summary"]["sent"].as_u64().expect("sent");
    assert!(sent_before < 500, "{saved}");
    let rest = triage_json(
        &state_file,
        &[
            "backfill",
            "--rate",
            "100",
            "--checkpoint",
            checkpoint.to_str().expect("path"),
        ],
    );
    assert_eq!(rest["listed"], 501, "{rest}");
    assert!(
        !checkpoint.exists(),
        "the checkpoint outlived a finished backfill"
    );

    let items = wait_for("every backfilled object", &|items| {
        terminal(items, "router") == 501 && terminal(items, "thumbnail") == 21
    });
    let mut identities = std::collections::BTreeMap::new();
    for item in &items {
        let text = |name: &str| text(item, name).unwrap_or_default();
        *identities.entry((text("key"), text("stage"))).or_insert(0) += 1;
        if text("key").starts_with("archive/") {
            assert_eq!(text("origin"), "backfill", "{item:?}");
        }
    }
    let twice: Vec<_> = identities.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "recorded more than once: {twice:?}");
    let routed = |tier: &str| {
        items
            .iter()
            .filter(|item| {
                text(item, "stage") == Some("router") && text(item, "tier") == Some(tier)
            })
            .count()
    };
    assert_eq!(
        routed("thumbnail"),
        21,
        "the dry run's count, plus the announced upload"
    );
    assert_eq!(
        items_of(announced_key),
        [
            ("router".into(), "ROUTED".into(), None),
            ("thumbnail".into(), "SUCCEEDED".into(), None)
        ]
    );
    let again = triage_json(&state_file, &["backfill"]);
    assert_eq!(
        (again["sent"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(501)),
        "{again}"
    );

    // The same from an S3 Inventory report, as AWS writes one: manifest.json and gzip CSV.
    let legacy = format!("legacy-{}", std::process::id());
    runtime
        .block_on(s3.create_bucket().bucket(&legacy).send())
        .expect("legacy bucket");
    let mut rows = String::new();
    for n in 0..20 {
        let key = format!("old/scan {n}.txt");
        let put = runtime
            .block_on(
                s3.put_object()
                    .bucket(&legacy)
                    .key(&key)
                    .body(format!("scan {n}").into_bytes().into())
                    .send(),
            )
            .expect("uploaded");
        let etag = put.e_tag().expect("eTag").trim_matches('"').to_owned();
        let encoded = key.replace(' ', "+");
        rows.push_str(&format!(
            "\"{legacy}\",\"{encoded}\",\"{}\",\"2026-11-30T10:00:00.000Z\",\"{etag}\"\n",
            format!("scan {n}").len()
        ));
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gzip, rows.as_bytes()).expect("compressed");
    let data = gzip.finish().expect("compressed");
    let data_key = "inventory/legacy/data/0b6fd1e5.csv.gz";
    let manifest = json!({
        "sourceBucket": legacy, "destinationBucket": format!("arn:aws:s3:::{legacy}"),
        "version": "2016-11-30", "creationTimestamp": "1764496800000", "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, LastModifiedDate, ETag",
        "files": [{ "key": data_key, "size": data.len(), "MD5checksum": "-" }]
    });
    for (key, body) in [
        (data_key.to_owned(), data),
        (
            "inventory/legacy/2026-12-01T01-00Z/manifest.json".to_owned(),
            manifest.to_string().into_bytes(),
        ),
    ] {
        runtime
            .block_on(
                s3.put_object()
                    .bucket(&legacy)
                    .key(key)
                    .body(body.into())
                    .send(),
            )
            .expect("inventory written");
    }
    let inventory = format!("s3://{legacy}/inventory/legacy/2026-12-01T01-00Z/manifest.json");
    let from_inventory = triage_json(
        &state_file,
        &["backfill", "--rate", "100", "--inventory", &inventory],
    );
    assert_eq!(
        (
            from_inventory["listed"].as_u64(),
            from_inventory["sent"].as_u64()
        ),
        (Some(20), Some(20)),
        "{from_inventory}"
    );
    assert_eq!(
        from_inventory["tiers"]["ignored"]["objects"], 20,
        "{from_inventory}"
    );
    wait_for("the inventory's objects", &|items| {
        terminal(items, "router") == 521
    });
    let again = triage_json(&state_file, &["backfill", "--inventory", &inventory]);
    assert_eq!(
        (again["sent"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(20)),
        "{again}"
    );

    // S3 Batch Operations, played through the executor's Invoke API with AWS's documented
    // 2.0 invocation: five tasks over objects no event announced, one of them gone.
    set_notifications(None);
    put("uploads/images/batch sunset.png", &png);
    for n in 1..=3 {
        put(&format!("archive/batch/record {n}+é.txt"), b"batch");
    }
    set_notifications(Some(notifications_config.queue_configurations().to_vec()));
    let mut invocation: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("samples/events/batch-operations-2.0.json"))
            .expect("fixture"),
    )
    .expect("fixture JSON");
    let task = |id: &str, key: &str| json!({"taskId": id, "s3Key": key, "s3VersionId": null, "s3Bucket": bucket});
    invocation["tasks"] = json!([
        task("image", "uploads/images/batch+sunset.png"),
        task("record-1", "archive/batch/record+1%2B%C3%A9.txt"),
        task("record-2", "archive/batch/record+2%2B%C3%A9.txt"),
        task("record-3", "archive/batch/record+3%2B%C3%A9.txt"),
        task("missing", "uploads/images/batch+gone.png"),
    ]);
    let invoker = aws_sdk_lambda::Client::new(
        &runtime.block_on(emulator::sdk_config(
            state["lambda_endpoint_url"]
                .as_str()
                .expect("the executor's Invoke API"),
        )),
    );
    let invoked = runtime
        .block_on(
            invoker
                .invoke()
                .function_name(
                    state["batch_operations"]["router_function_arn"]
                        .as_str()
                        .expect("the router's ARN"),
                )
                .payload(aws_sdk_lambda::primitives::Blob::new(
                    invocation.to_string(),
                ))
                .send(),
        )
        .expect("the router invoked");
    assert_eq!(invoked.function_error(), None, "{invoked:?}");
    let response: Value =
        serde_json::from_slice(invoked.payload().expect("a response").as_ref()).expect("JSON");
    let codes: Vec<(&str, &str)> = response["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| {
            (
                result["taskId"].as_str().unwrap_or_default(),
                result["resultCode"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("image", "Succeeded"),
            ("record-1", "Succeeded"),
            ("record-2", "Succeeded"),
            ("record-3", "Succeeded"),
            ("missing", "PermanentFailure"),
        ],
        "{response}"
    );
    assert!(
        response["results"][4]["resultString"]
            .as_str()
            .is_some_and(|reason| reason.contains("uploads/images/batch gone.png does not exist")),
        "{response}"
    );
    wait_for("the batch operations tasks", &|items| {
        terminal(items, "router") == 525 && terminal(items, "thumbnail") == 22
    });
    assert_eq!(
        items_of("uploads/images/batch sunset.png"),
        [
            ("router".into(), "ROUTED".into(), None),
            ("thumbnail".into(), "SUCCEEDED".into(), None)
        ]
    );

    // The fix: the thumbnail worker keeps what a cut-short JPEG still holds, as `terraform apply
    // -var thumbnail_fail_on=none` would set it. Then the failures are reprocessed: a new run
    // beside the first, which stays as history.
    stack.set_function_variable(thumbnail::config::FAIL_ON, "none", &lines);
    let reprocess = triage_json(
        &state_file,
        &["reprocess", "--status", "FAILED", "--stage", "thumbnail"],
    );
    let run = reprocess["run"].as_str().expect("a run id").to_owned();
    assert_eq!(
        reprocess["objects"].as_array().map(Vec::len),
        Some(10),
        "{reprocess}"
    );
    wait_for("the reprocess run", &|items| {
        terminal(items, "thumbnail") == 32
    });
    assert_eq!(
        items_of("uploads/images/broken 10.jpg"),
        [
            ("router".into(), "ROUTED".into(), None),
            ("router".into(), "ROUTED".into(), Some(run.clone())),
            ("thumbnail".into(), "FAILED".into(), None),
            ("thumbnail".into(), "SUCCEEDED".into(), Some(run.clone())),
        ]
    );
    let latest = triage_json(
        &state_file,
        &["audit", "--key", "uploads/images/broken 10.jpg"],
    );
    assert!(
        latest
            .as_array()
            .expect("entries")
            .iter()
            .all(|entry| entry["run"] == run.as_str()),
        "{latest}"
    );

    // Every record announced exactly once, the reprocess run's naming it.
    let mut announced = std::collections::BTreeMap::new();
    for record in stack.notifications() {
        *announced
            .entry(
                record["notification_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
            .or_insert(0) += 1;
    }
    assert_eq!(
        announced.len(),
        525 + 22 + 10 + 10,
        "one notification per record"
    );
    assert!(announced.values().all(|n| *n == 1), "announced twice");
    assert_eq!(
        announced
            .keys()
            .filter(|id| id.ends_with(&format!("#{run}")))
            .count(),
        20
    );
    let _ = std::fs::remove_file(&state_file);
}

#[test]
fn a_file_judged_clean_then_matched_by_new_signatures_is_rescanned_infected_and_quarantined() {
    let (_running, _lines, state_file, state) = start_local("rescan", false, &[]);
    let stack = Stack::connect(&state, "rescan");
    let key = "uploads/compliance/invoice 2026+114.txt";
    stack.put(key, b"Invoice 2026-114: pay to NEWTHREAT account.\n");
    let verdicts = |items: &[Item], status: &str| {
        items
            .iter()
            .filter(|item| {
                text(item, "key") == Some(key)
                    && text(item, "stage") == Some("compliance")
                    && text(item, "status") == Some(status)
                    && text(item, "delivery") == Some("notified")
            })
            .count()
    };
    stack.wait_for("the upload's verdict", &|items| {
        verdicts(items, "CLEAN") == 1
    });
    let rescan = |dry_run: bool| {
        let mut args = vec!["rescan", "--since", "1h"];
        if dry_run {
            args.push("--dry-run");
        }
        let report = triage_json(&state_file, &args);
        let objects = report["objects"].as_array().map(Vec::len);
        (report, objects)
    };
    let (unchanged, objects) = rescan(true);
    assert_eq!(
        objects,
        Some(0),
        "judged under the current signatures: {unchanged}"
    );

    // A signature version that matches it, uploaded where the checkers load from.
    let signatures = state["signatures_uri"].as_str().expect("signatures_uri");
    let (signatures_bucket, prefix) = signatures
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .expect("s3://bucket/prefix/");
    stack
        .runtime
        .block_on(
            stack
                .s3
                .put_object()
                .bucket(signatures_bucket)
                .key(format!("{prefix}2026-12.ndb"))
                .body(b"New.Threat:0:*:4e45575448524541\n".to_vec().into())
                .send(),
        )
        .expect("signatures uploaded");
    let (started, objects) = rescan(false);
    assert_eq!(objects, Some(1), "{started}");
    let run = started["run"].as_str().expect("a run id").to_owned();
    let items = stack.wait_for("the rescan's verdict", &|items| {
        verdicts(items, "INFECTED") == 1
    });
    let rescanned = Some(run.clone());
    assert_eq!(
        outcomes_of(&items, key),
        [
            ("compliance".into(), "CLEAN".into(), None),
            ("compliance".into(), "INFECTED".into(), rescanned.clone()),
            ("compliance.content".into(), "CLEAN".into(), None),
            ("compliance.malware".into(), "CLEAN".into(), None),
            (
                "compliance.malware".into(),
                "INFECTED".into(),
                rescanned.clone()
            ),
            ("compliance.pii".into(), "CLEAN".into(), None),
            ("router".into(), "ROUTED".into(), None),
            ("router".into(), "ROUTED".into(), rescanned),
        ],
        "the rescan ran the malware check alone"
    );

    let tags = |key: &str| {
        stack.runtime.block_on(testkit::resources::object_tags(
            &stack.s3,
            &stack.bucket,
            key,
        ))
    };
    let infected = [("s3-triage-verdict".to_owned(), "infected".to_owned())];
    assert_eq!(tags(key), infected, "the verdict on the object");
    let verdict = items
        .iter()
        .find(|item| {
            text(item, "key") == Some(key)
                && text(item, "stage") == Some("compliance")
                && text(item, "status") == Some("INFECTED")
        })
        .expect("the rescan's verdict");
    let outputs: Vec<&str> = verdict
        .get("outputs")
        .and_then(|outputs| outputs.as_l().ok())
        .into_iter()
        .flatten()
        .filter_map(|output| output.as_s().ok().map(String::as_str))
        .collect();
    let [copy] = outputs.as_slice() else {
        panic!("one quarantined copy expected: {verdict:?}");
    };
    assert!(
        copy.starts_with(&format!("processed/quarantine/{key}/")),
        "{copy}"
    );
    assert_eq!(tags(copy), infected, "the quarantined copy");

    let mut announced: Vec<(String, Option<String>)> = stack
        .notifications()
        .iter()
        .filter(|record| record["stage"] == "compliance")
        .map(|record| {
            let field = |name: &str| record[name].as_str().map(str::to_owned);
            (field("status").unwrap_or_default(), field("run"))
        })
        .collect();
    announced.sort();
    assert_eq!(
        announced,
        [("CLEAN".into(), None), ("INFECTED".into(), Some(run))],
        "one verdict announced per run"
    );
    let (again, objects) = rescan(true);
    assert_eq!(objects, Some(0), "nothing left to rescan: {again}");
    let _ = std::fs::remove_file(&state_file);
}

//! `triage local`: the whole stack on this machine, through the same terraform as AWS.

use anyhow::{bail, Context};
use clap::Args;
use emulator::Emulator;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use triage::executor::fargate::TaskRunner;
use triage::executor::{discover, Executor};

/// How to bring the stack up; shared by `local` and `demo`.
#[derive(Args)]
pub struct StackArgs {
    /// Attach to an emulator that is already running instead of starting one.
    #[arg(long)]
    endpoint_url: Option<String>,
    /// Run the function binaries found here instead of building them (into target/debug).
    #[arg(long, value_name = "DIR")]
    binaries: Option<PathBuf>,
    /// How uploads reach the router (terraform's event_path).
    #[arg(long, value_enum, default_value_t = EventPath::S3)]
    event_path: EventPath,
    /// Also watch this bucket, already on the emulator (terraform's existing_buckets: its
    /// uploads/ through EventBridge, its switch turned on, its other notifications kept);
    /// `,kms=<key ARN>` names the key its objects are encrypted with, `,outputs=stack` sends
    /// its outputs to the stack's bucket.
    #[arg(
        long = "watch-existing",
        value_name = "BUCKET[,kms=ARN][,outputs=source|stack]"
    )]
    watch_existing: Vec<ExistingBucket>,
}

/// A bucket `triage local` watches but did not create, as terraform's existing_buckets takes it.
#[derive(Clone, Debug, PartialEq)]
pub struct ExistingBucket {
    pub name: String,
    /// Its other settings (kms_key_arn, outputs), as terraform names them.
    settings: serde_json::Map<String, Value>,
}

impl std::str::FromStr for ExistingBucket {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.split(',');
        let name = parts.next().unwrap_or_default().trim().to_owned();
        if name.is_empty() {
            return Err("expected a bucket name first".into());
        }
        let mut settings = serde_json::Map::new();
        for part in parts {
            let (setting, value) = match part.split_once('=') {
                Some(("kms", key)) => ("kms_key_arn", key),
                Some(("outputs", outputs @ ("source" | "stack"))) => ("outputs", outputs),
                _ => {
                    return Err(format!(
                        "{part:?}: expected kms=<key ARN> or outputs=source|stack"
                    ))
                }
            };
            settings.insert(setting.into(), value.into());
        }
        Ok(Self { name, settings })
    }
}

/// How the uploads bucket's events reach the ingest queue.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum EventPath {
    /// The bucket's notification configuration names the ingest queue.
    S3,
    /// The bucket sends its events to EventBridge; a rule forwards the uploads.
    Eventbridge,
}

impl EventPath {
    fn as_str(self) -> &'static str {
        match self {
            Self::S3 => "s3",
            Self::Eventbridge => "eventbridge",
        }
    }
}

#[derive(Args)]
#[command(after_help = "Then, from any S3 client:\n  \
    aws --endpoint-url <endpoint_url> s3 cp report.pdf 's3://<bucket>/uploads/documents/report.pdf'\n  \
    triage audit --state-file <state file> --key uploads/documents/report.pdf")]
pub struct LocalArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// Where to write the stack's endpoints and names as JSON.
    #[arg(long, default_value = ".local/stack.json")]
    state_file: PathBuf,
}

/// The stack, up and ready: the emulator (if we started it), the executor, and the state
/// users need to reach it.
pub struct Stack {
    _emulator: Option<Emulator>,
    pub config: aws_config::SdkConfig,
    pub executor: Executor,
    /// endpoint_url, region, bucket, audit_table, topic ARNs, queue URLs, dlq_urls.
    pub state: Value,
}

/// As AWS spaces async retries: a minute before the first, two before the second. Shorter
/// would not be the same path: a retry of an invocation that died holding a claim would find
/// the claim still leased (timeout + 60 s) every time and go to the DLQ, where on AWS the
/// second retry takes it over.
const ASYNC_RETRY_DELAY: std::time::Duration = std::time::Duration::from_secs(60);

fn project_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::canonicalize(&root).unwrap_or(root)
}

fn step(message: &str) {
    eprintln!("==> {message}");
}

pub async fn run(args: LocalArgs) -> anyhow::Result<()> {
    let stack = bring_up(&args.stack).await?;
    let state_text = serde_json::to_string_pretty(&stack.state)?;
    if let Some(dir) = args.state_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.state_file, &state_text)
        .with_context(|| format!("writing {}", args.state_file.display()))?;
    println!("{state_text}");
    step(&format!(
        "the stack is up; its state is in {}; Ctrl-C stops everything",
        args.state_file.display()
    ));
    let sqs = aws_sdk_sqs::Client::new(&stack.config);
    stack
        .executor
        .run_until(sqs, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    step("stopped");
    Ok(())
}

/// Starts (or attaches to) the emulator, builds, applies envs/local, starts the executor.
pub async fn bring_up(args: &StackArgs) -> anyhow::Result<Stack> {
    let root = project_root();
    // The build and the apply need nothing of each other (envs/local deploys a placeholder
    // package: the executor runs the binaries), so the binaries compile while the emulator
    // starts and terraform applies.
    let build = match &args.binaries {
        Some(dir) => Build::Given(
            std::fs::canonicalize(dir).with_context(|| format!("--binaries {}", dir.display()))?,
        ),
        None => {
            step("building the binaries (a few minutes the first time, nothing when unchanged)");
            Build::Running(Building(start_build(&root)?))
        }
    };
    let mut started = None;
    let endpoint = match &args.endpoint_url {
        Some(endpoint) => endpoint.clone(),
        None => {
            step("starting the AWS emulator (installed into .local/ on first use)");
            let emulator = Emulator::start().context("starting the emulator")?;
            let endpoint = emulator.endpoint().to_owned();
            started = Some(emulator);
            endpoint
        }
    };

    let outputs = apply_local_env(&root, &endpoint, args)?;
    let binaries = match build {
        Build::Given(dir) => dir,
        Build::Running(building) => {
            step("waiting for the build");
            building.finish()?;
            root.join("target/debug")
        }
    };

    let config = emulator::sdk_config(&endpoint).await;
    if !args.watch_existing.is_empty() {
        let s3 = crate::target::s3_client(&config);
        for bucket in &args.watch_existing {
            let bucket = &bucket.name;
            let kept = crate::eventbridge::enable(&s3, bucket).await?;
            step(&format!(
                "EventBridge on for {bucket} ({kept} other notification destinations kept)"
            ));
        }
    }
    step("starting the local executor");
    let lambda = aws_sdk_lambda::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let runtime_env: BTreeMap<String, String> = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_REGION", emulator::REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let declared = discover::discover(&lambda, &sqs, &binaries, &runtime_env).await?;
    for skipped in &declared.skipped {
        eprintln!("    {skipped}: no {} tag, not run", discover::BINARY_TAG);
    }
    let tasks = TaskRunner::new(
        aws_sdk_ecs::Client::new(&config),
        binaries.clone(),
        runtime_env.clone(),
    );
    let executor = Executor::start(declared, sqs.clone(), ASYNC_RETRY_DELAY)
        .await?
        .with_tasks(tasks)
        .with_configuration_updates(lambda, &runtime_env);
    let functions: Vec<&str> = executor.functions().collect();
    eprintln!("    running: {}", functions.join(", "));

    let state = json!({
        "endpoint_url": endpoint,
        "region": emulator::REGION,
        "bucket": outputs["bucket"],
        "audit_table": outputs["audit_table"],
        "notifications_topic_arn": outputs["notifications_topic_arn"],
        "notification_subscribers": outputs["notification_subscribers"],
        "ingest_queue_url": outputs["ingest_queue_url"],
        "dlq_urls": outputs["dlq_urls"],
        "extractor_queue_url": outputs["extractor_queue_url"],
        "compliance_topic_arn": outputs["compliance_topic_arn"],
        "cluster_name": outputs["cluster_name"],
        "batch_operations": outputs["batch_operations"],
        "signatures_uri": outputs["signatures_uri"],
        "event_path": args.event_path.as_str(),
        "watched_buckets": outputs["watched_buckets"],
        "lambda_endpoint_url": executor.invoke_endpoint(),
    });
    Ok(Stack {
        _emulator: started,
        config,
        executor,
        state,
    })
}

/// Where the binaries the stack runs come from.
enum Build {
    Given(PathBuf),
    Running(Building),
}

/// A build in progress; stopped if the stack fails to come up before it is waited for.
struct Building(Child);

impl Building {
    fn finish(mut self) -> anyhow::Result<()> {
        let status = self.0.wait().context("waiting for cargo build")?;
        if !status.success() {
            bail!("cargo build failed with {status} (its output is above)");
        }
        Ok(())
    }
}

impl Drop for Building {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts building every workspace binary in the dev profile: the same code as the deployed
/// release build at a fraction of its build time (the profile optimises the crates that do
/// the heavy work, see Cargo.toml), and what `cargo test` builds too, so after the tests
/// nothing is left to compile. Its output goes to our stderr.
fn start_build(root: &Path) -> anyhow::Result<Child> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(root)
        .args(["build", "--workspace", "--bins", "--locked"])
        .stdout(std::io::stderr());
    // `cargo run` gives us its package's CARGO_MANIFEST_DIR, CARGO_PKG_* and the like. Build
    // scripts that read them (ring's does) are re-run, and everything above them rebuilt,
    // whenever they differ from the last build's: started once through cargo and once not,
    // the whole tree would compile twice. Without them every start builds alike.
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_run) {
            build.env_remove(name);
        }
    }
    build.spawn().context("starting cargo build")
}

/// The variables `cargo run` sets for the program it runs, which no build should inherit.
fn set_by_cargo_run(name: &str) -> bool {
    matches!(
        name,
        "CARGO_MANIFEST_DIR"
            | "CARGO_MANIFEST_PATH"
            | "CARGO_PRIMARY_PACKAGE"
            | "CARGO_CRATE_NAME"
            | "CARGO_BIN_NAME"
    ) || name.starts_with("CARGO_PKG_")
}

/// Applies `terraform/envs/local` to the emulator and returns the stack's outputs. Terraform's
/// output goes to a log file, shown if it fails.
fn apply_local_env(root: &Path, endpoint: &str, args: &StackArgs) -> anyhow::Result<Value> {
    let terraform = root.join("scripts/terraform.sh");
    let env_dir = root.join("terraform/envs/local");
    // One state per emulator address: a fresh emulator on a reused port must not inherit it.
    let state_dir = root.join(".local/terraform");
    std::fs::create_dir_all(&state_dir)?;
    let port = endpoint
        .rsplit(':')
        .next()
        .unwrap_or("default")
        .trim_matches('/');
    let state = state_dir.join(format!("local-{port}.tfstate"));
    let log = state_dir.join(format!("local-{port}.log"));
    step(&format!(
        "terraform apply envs/local against {endpoint} (about 100 s on a new emulator; log: {})",
        log.display()
    ));
    let chdir = format!("-chdir={}", env_dir.display());
    let state_arg = format!("-state={}", state.display());
    let log_file =
        std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
    let run = |arguments: Vec<String>| -> anyhow::Result<()> {
        let status = Command::new(&terraform)
            .args(&arguments)
            .stdout(log_file.try_clone()?)
            .stderr(log_file.try_clone()?)
            .status()
            .with_context(|| format!("running {} {}", terraform.display(), arguments.join(" ")))?;
        if !status.success() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!("{}", lines[lines.len().saturating_sub(40)..].join("\n"));
            bail!(
                "terraform {} failed with {status}; the whole log is {}",
                arguments[1],
                log.display()
            );
        }
        Ok(())
    };
    {
        // Stacks started at once (the tests start several) would each rewrite .terraform's
        // module manifest while another reads it: one init per version of the configuration.
        let lock = std::fs::File::create(state_dir.join("init.lock"))?;
        lock.lock().context("locking terraform init")?;
        let initialized = state_dir.join(format!(
            "initialized-{}",
            configuration_digest(&root.join("terraform"))?
        ));
        if !(initialized.exists() && env_dir.join(".terraform/modules/modules.json").exists()) {
            run(vec![
                chdir.clone(),
                "init".into(),
                "-input=false".into(),
                "-no-color".into(),
            ])?;
            std::fs::write(&initialized, b"")?;
        }
    }
    run(vec![
        chdir.clone(),
        "apply".into(),
        "-auto-approve".into(),
        "-input=false".into(),
        "-no-color".into(),
        state_arg.clone(),
        format!("-var=endpoint_url={endpoint}"),
        format!("-var=event_path={}", args.event_path.as_str()),
        format!(
            "-var=existing_buckets={}",
            json!(args
                .watch_existing
                .iter()
                .map(|bucket| (bucket.name.clone(), Value::Object(bucket.settings.clone())))
                .collect::<serde_json::Map<_, _>>())
        ),
    ])?;
    let output = Command::new(&terraform)
        .args([&chdir, "output", "-json", &state_arg])
        .output()?;
    if !output.status.success() {
        bail!(
            "terraform output failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let outputs: Value = serde_json::from_slice(&output.stdout)?;
    Ok(outputs["stack"]["value"].clone())
}

/// A digest of every terraform file under `dir` (paths and contents), the provider lock
/// files included: what `terraform init` depends on.
fn configuration_digest(dir: &Path) -> anyhow::Result<String> {
    fn collect(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.file_name().is_some_and(|name| name == ".terraform") {
                continue;
            }
            if path.is_dir() {
                collect(&path, found)?;
            } else if path
                .extension()
                .is_some_and(|ext| ext == "tf" || ext == "hcl")
            {
                found.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    collect(dir, &mut files).with_context(|| format!("reading {}", dir.display()))?;
    files.sort();
    let mut all = Vec::new();
    for file in files {
        all.extend_from_slice(file.to_string_lossy().as_bytes());
        all.extend(std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?);
    }
    Ok(worker_common::s3::sha256_hex(&all)[..16].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watched_bucket_takes_its_key_and_where_its_outputs_go() {
        let bucket: ExistingBucket =
            "team-media,kms=arn:aws:kms:us-east-1:123456789012:key/k1,outputs=stack"
                .parse()
                .expect("valid");
        assert_eq!(bucket.name, "team-media");
        assert_eq!(
            Value::Object(bucket.settings),
            json!({"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/k1", "outputs": "stack"})
        );
        assert_eq!(
            "team-media,outputs=elsewhere".parse::<ExistingBucket>(),
            Err("\"outputs=elsewhere\": expected kms=<key ARN> or outputs=source|stack".into())
        );
    }
}

//! The local AWS emulator: a pinned moto server, started on a free loopback port.
//!
//! Tests and local tooling talk to it with the real SDK clients; only the endpoint differs
//! from production. The server is installed on first use into a project-local virtualenv by
//! `scripts/ensure-moto.sh`, and stops when the process that started it exits.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Set to use an emulator that is already running instead of starting one.
pub const ENDPOINT_VARIABLE: &str = "TRIAGE_EMULATOR_ENDPOINT";
pub const REGION: &str = "us-east-1";
const START_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("installing the emulator failed ({0}); run scripts/ensure-moto.sh to see why")]
    Install(String),
    #[error("starting moto_server failed: {0}")]
    Start(#[from] std::io::Error),
    #[error(
        "moto_server did not accept connections on {addr} within {START_TIMEOUT:?}; see {log}"
    )]
    NotReady { addr: SocketAddr, log: String },
    #[error("emulator query failed: {0}")]
    Query(String),
}

pub struct Emulator {
    endpoint: String,
    // Holds the pipe whose closing (at process exit, however it exits) stops the server.
    _server: Option<Child>,
}

impl Emulator {
    /// The emulator shared by everything in this process, started on first use.
    pub fn shared() -> Result<&'static Emulator, String> {
        static SHARED: OnceLock<Result<Emulator, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| Emulator::start().map_err(|err| err.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Uses `TRIAGE_EMULATOR_ENDPOINT` if set, else installs (once) and starts a moto server.
    pub fn start() -> Result<Emulator, EmulatorError> {
        if let Ok(endpoint) = std::env::var(ENDPOINT_VARIABLE) {
            return Ok(Emulator {
                endpoint,
                _server: None,
            });
        }
        let python = install()?;
        let serve = project_root().join("emulator").join("serve.py");
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log_dir = project_root().join(".local");
        std::fs::create_dir_all(&log_dir)?;
        let log = log_dir.join(format!("moto-{port}.log"));
        // The server knows nothing of its parent: a shell keeps it alive exactly as long as
        // our end of its stdin pipe is open, and stops it when that pipe closes.
        let server = Command::new("sh")
            .arg("-c")
            .arg(r#""$1" "$2" -H 127.0.0.1 -p "$3" >"$4" 2>&1 & pid=$!; trap 'kill $pid' EXIT; cat >/dev/null"#)
            .arg("sh")
            .arg(&python)
            .arg(&serve)
            .arg(port.to_string())
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        wait_until_listening(addr, &log)?;
        Ok(Emulator {
            endpoint: format!("http://{addr}"),
            _server: Some(server),
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Calls an action of an AWS Query-protocol service (IAM, EC2) for which the project has no
    /// SDK dependency, and returns the XML response. Test set-up only: the emulator ignores
    /// signatures, and the Authorization header merely names the service.
    pub fn query(&self, service: &str, params: &[(&str, &str)]) -> Result<String, EmulatorError> {
        let host = self.endpoint.trim_start_matches("http://");
        let body: Vec<String> = params
            .iter()
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect();
        let body = body.join("&");
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/{service}/aws4_request, \
             SignedHeaders=host, Signature=0\r\n\r\n{body}",
            body.len()
        );
        let io_failed = |err: std::io::Error| EmulatorError::Query(format!("{service}: {err}"));
        let mut stream = TcpStream::connect(host).map_err(io_failed)?;
        stream.write_all(request.as_bytes()).map_err(io_failed)?;
        let mut response = String::new();
        stream.read_to_string(&mut response).map_err(io_failed)?;
        let (head, xml) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        if !head.starts_with("HTTP/1.1 200") {
            return Err(EmulatorError::Query(format!(
                "{service} {params:?}: {head} {xml}"
            )));
        }
        Ok(xml.to_owned())
    }

    /// The first subnet of the emulator's default VPC (for Fargate network configurations).
    pub fn default_subnet(&self) -> Result<String, EmulatorError> {
        let xml = self.query(
            "ec2",
            &[("Action", "DescribeSubnets"), ("Version", "2016-11-15")],
        )?;
        xml.split("<subnetId>")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .map(String::from)
            .ok_or_else(|| EmulatorError::Query("DescribeSubnets returned no subnet".into()))
    }

    /// SDK configuration for this emulator; see [`sdk_config`].
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config(&self.endpoint).await
    }
}

/// SDK configuration for an emulator at `endpoint`: static test credentials, the emulator's
/// region, the endpoint. S3 clients built from it still need `force_path_style(true)`.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "testing", "testing", None, None, "emulator",
        ))
        .load()
        .await
}

/// Creates queue `name`, subscribes it to `topic_arn` with the given subscription attributes
/// (`FilterPolicy`, `RawMessageDelivery`, ...) and returns its URL.
pub async fn subscribe_new_queue(
    sqs: &aws_sdk_sqs::Client,
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
    name: &str,
    attributes: &[(&str, &str)],
) -> Result<String, String> {
    let describe =
        |err: &dyn std::error::Error| aws_sdk_sqs::error::DisplayErrorContext(err).to_string();
    let created = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let queue_url = created.queue_url.ok_or("CreateQueue returned no URL")?;
    let queue_arn = queue_arn(sqs, &queue_url).await?;
    let mut subscription = sns
        .subscribe()
        .topic_arn(topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn);
    for (name, value) in attributes {
        subscription = subscription.attributes(*name, *value);
    }
    subscription.send().await.map_err(|e| describe(&e))?;
    Ok(queue_url)
}

/// The ARN of the queue at `queue_url`.
pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Result<String, String> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())?;
    attributes
        .attributes
        .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| "GetQueueAttributes returned no ARN".to_owned())
}

/// Receives and deletes every message currently in the queue; returns their bodies.
pub async fn drain_queue(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
) -> Result<Vec<String>, String> {
    let describe =
        |err: &dyn std::error::Error| aws_sdk_sqs::error::DisplayErrorContext(err).to_string();
    let mut bodies = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(bodies);
        }
        for message in messages {
            bodies.push(message.body.unwrap_or_default());
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle.unwrap_or_default())
                .send()
                .await
                .map_err(|e| describe(&e))?;
        }
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python of the emulator's pinned virtualenv (installed on first use). The tests also
/// hold JSON to the schemas the project publishes with its `jsonschema`.
pub fn python() -> Result<PathBuf, EmulatorError> {
    install()
}

fn install() -> Result<PathBuf, EmulatorError> {
    let script = project_root().join("scripts").join("ensure-moto.sh");
    let output = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|err| EmulatorError::Install(format!("{}: {err}", script.display())))?;
    if !output.status.success() {
        return Err(EmulatorError::Install(format!(
            "{} exited with {}",
            script.display(),
            output.status
        )));
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&output.stdout).trim(),
    ))
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

fn wait_until_listening(addr: SocketAddr, log: &Path) -> Result<(), EmulatorError> {
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(_) => return Ok(()),
            Err(err)
                if err.kind() == ErrorKind::ConnectionRefused
                    || err.kind() == ErrorKind::TimedOut =>
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(err) => return Err(err.into()),
        }
    }
    Err(EmulatorError::NotReady {
        addr,
        log: log.display().to_string(),
    })
}

//! One Lambda function, locally: its binary as a child process, talking to the Lambda Runtime
//! API (`next`, `response`, `error`, `init/error`) that this module serves on loopback.
//!
//! Like a single Lambda execution environment it runs one invocation at a time, is started on
//! first use, and is started again after it crashes or times out.

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{oneshot, Mutex, Notify};
use tokio::task::JoinHandle;

/// What terraform declared for a function, plus where its binary is.
#[derive(Clone, Debug)]
pub struct FunctionSpec {
    pub name: String,
    pub binary: PathBuf,
    /// As declared when the host started; [`FunctionHost::reconfigure`] replaces it.
    pub environment: BTreeMap<String, String>,
    pub timeout: Duration,
    pub memory_mb: u32,
    /// Asynchronous invocation settings (`aws_lambda_function_event_invoke_config`).
    pub async_invoke: AsyncInvokeConfig,
}

/// How failed asynchronous invocations are retried and where they end up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsyncInvokeConfig {
    /// Retries after the first attempt; AWS's default is 2.
    pub maximum_retry_attempts: u32,
    /// ARN of the SQS queue that receives an event whose retries are exhausted.
    pub on_failure_queue_arn: Option<String>,
}

impl Default for AsyncInvokeConfig {
    fn default() -> Self {
        Self {
            maximum_retry_attempts: 2,
            on_failure_queue_arn: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// The handler returned an error (the runtime posted to `/invocation/{id}/error`).
    #[error("{function} returned {error_type}: {message}")]
    Function {
        function: String,
        error_type: String,
        message: String,
    },
    /// The process exited (or never got going) before answering.
    #[error("{function} exited with {status} before answering{init}")]
    Crashed {
        function: String,
        status: String,
        init: String,
    },
    #[error("{function} did not answer within {timeout:?}; it was stopped")]
    Timeout { function: String, timeout: Duration },
    #[error("{function} could not be started: {reason}")]
    Spawn { function: String, reason: String },
}

struct Invocation {
    id: String,
    payload: Bytes,
    deadline_ms: u128,
}

type Outcome = Result<Bytes, (String, String)>;

#[derive(Default)]
struct RuntimeState {
    /// The invocation waiting for the function's next `GET /next`.
    waiting: std::sync::Mutex<Option<Invocation>>,
    arrived: Notify,
    answers: std::sync::Mutex<BTreeMap<String, oneshot::Sender<Outcome>>>,
    init_error: std::sync::Mutex<Option<String>>,
    function_arn: String,
}

pub struct FunctionHost {
    spec: FunctionSpec,
    environment: std::sync::Mutex<BTreeMap<String, String>>,
    api: String,
    state: Arc<RuntimeState>,
    process: Mutex<Option<Child>>,
    server: JoinHandle<()>,
    next_id: AtomicU64,
}

impl FunctionHost {
    /// Serves the Runtime API on a free loopback port; the process starts on first invoke.
    pub async fn start(spec: FunctionSpec) -> std::io::Result<Self> {
        let state = Arc::new(RuntimeState {
            function_arn: format!(
                "arn:aws:lambda:{}:123456789012:function:{}",
                emulator::REGION,
                spec.name
            ),
            ..RuntimeState::default()
        });
        let routes = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&state));
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let api = listener.local_addr()?.to_string();
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, routes).await {
                eprintln!("runtime API server stopped: {err}");
            }
        });
        Ok(Self {
            environment: std::sync::Mutex::new(spec.environment.clone()),
            spec,
            api,
            state,
            process: Mutex::new(None),
            server,
            next_id: AtomicU64::new(1),
        })
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn spec(&self) -> &FunctionSpec {
        &self.spec
    }

    pub fn function_arn(&self) -> &str {
        &self.state.function_arn
    }

    /// Stops the function's process and waits until it is gone.
    pub async fn stop(&self) {
        if let Some(mut child) = self.process.lock().await.take() {
            // An exited process answers kill with an error; either way wait() reaps it.
            let _ = child.kill().await;
        }
    }

    /// Takes a new environment as Lambda takes `UpdateFunctionConfiguration`: the invocation in
    /// flight finishes under the old one, the next runs in a new process. Whether it changed.
    pub async fn reconfigure(&self, environment: BTreeMap<String, String>) -> bool {
        if *lock(&self.environment) == environment {
            return false;
        }
        let mut process = self.process.lock().await;
        *lock(&self.environment) = environment;
        if let Some(mut child) = process.take() {
            let _ = child.kill().await;
        }
        true
    }

    /// The running process's id, if one is running.
    pub async fn pid(&self) -> Option<u32> {
        self.process.lock().await.as_ref().and_then(Child::id)
    }

    /// Runs one invocation to its end: the function's answer, its error, its crash or a timeout.
    pub async fn invoke(&self, payload: impl Into<Bytes>) -> Result<Bytes, InvokeError> {
        let mut process = self.process.lock().await;
        if !matches!(process.as_mut().map(Child::try_wait), Some(Ok(None))) {
            *process = Some(self.spawn()?);
        }
        let Some(child) = process.as_mut() else {
            return Err(self.spawn_error("no process"));
        };

        let id = format!(
            "{}-{}",
            self.spec.name,
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let (answer, answered) = oneshot::channel();
        lock(&self.state.answers).insert(id.clone(), answer);
        let deadline = SystemTime::now() + self.spec.timeout;
        let deadline_ms = deadline
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        *lock(&self.state.waiting) = Some(Invocation {
            id: id.clone(),
            payload: payload.into(),
            deadline_ms,
        });
        self.state.arrived.notify_one();

        let function = self.spec.name.clone();
        let result = tokio::select! {
            outcome = answered => match outcome {
                Ok(Ok(body)) => Ok(body),
                Ok(Err((error_type, message))) => Err(InvokeError::Function { function, error_type, message }),
                Err(_) => Err(InvokeError::Crashed { function, status: "no answer".into(), init: String::new() }),
            },
            status = child.wait() => {
                let status = status.map(|s| s.to_string()).unwrap_or_else(|err| err.to_string());
                let init = lock(&self.state.init_error).take().map(|e| format!(" (init error: {e})")).unwrap_or_default();
                *process = None;
                Err(InvokeError::Crashed { function, status, init })
            }
            _ = tokio::time::sleep(self.spec.timeout) => {
                if let Some(mut child) = process.take() {
                    // Best effort: a process that will not die is reaped when the host drops.
                    let _ = child.kill().await;
                }
                Err(InvokeError::Timeout { function, timeout: self.spec.timeout })
            }
        };
        // An invocation the process never took must not go to its successor.
        lock(&self.state.waiting).take_if(|waiting| waiting.id == id);
        lock(&self.state.answers).remove(&id);
        result
    }

    fn spawn(&self) -> Result<Child, InvokeError> {
        let mut command = Command::new(&self.spec.binary);
        command
            .envs(lock(&self.environment).iter())
            .env("AWS_LAMBDA_RUNTIME_API", &self.api)
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.spec.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.spec.memory_mb.to_string(),
            )
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", self.spec.name),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|err| self.spawn_error(&format!("{}: {err}", self.spec.binary.display())))?;
        lock(&self.state.init_error).take();
        if let Some(pid) = child.id() {
            eprintln!("[executor] started {} (pid {pid})", self.spec.name);
        }
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(prefix_lines(self.spec.name.clone(), stdout));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(prefix_lines(self.spec.name.clone(), stderr));
        }
        Ok(child)
    }

    fn spawn_error(&self, reason: &str) -> InvokeError {
        InvokeError::Spawn {
            function: self.spec.name.clone(),
            reason: reason.to_owned(),
        }
    }
}

impl Drop for FunctionHost {
    fn drop(&mut self) {
        self.server.abort();
        // The child is killed by kill_on_drop when `process` drops.
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Forwards a child's output to ours, each line prefixed with the function's name.
async fn prefix_lines(name: String, output: impl AsyncRead + Unpin) {
    let mut lines = BufReader::new(output).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        eprintln!("[{name}] {line}");
    }
}

async fn next(State(state): State<Arc<RuntimeState>>) -> (HeaderMap, Bytes) {
    loop {
        let notified = state.arrived.notified();
        if let Some(invocation) = lock(&state.waiting).take() {
            let mut headers = HeaderMap::new();
            let mut set = |name: &'static str, value: String| {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(HeaderName::from_static(name), value);
                }
            };
            set("lambda-runtime-aws-request-id", invocation.id);
            set(
                "lambda-runtime-deadline-ms",
                invocation.deadline_ms.to_string(),
            );
            set(
                "lambda-runtime-invoked-function-arn",
                state.function_arn.clone(),
            );
            set(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
            );
            return (headers, invocation.payload);
        }
        notified.await;
    }
}

async fn respond(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    answer(&state, &id, Ok(body))
}

async fn fail(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    answer(&state, &id, Err(error_parts(&body)))
}

async fn init_error(State(state): State<Arc<RuntimeState>>, body: Bytes) -> StatusCode {
    let (error_type, message) = error_parts(&body);
    *lock(&state.init_error) = Some(format!("{error_type}: {message}"));
    StatusCode::ACCEPTED
}

fn answer(state: &RuntimeState, id: &str, outcome: Outcome) -> StatusCode {
    match lock(&state.answers).remove(id) {
        Some(sender) => {
            // The invoker may have given up (timeout); then nobody needs the answer.
            let _ = sender.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

/// The runtime's error body: `{"errorType": "...", "errorMessage": "..."}`.
fn error_parts(body: &[u8]) -> (String, String) {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |name: &str| {
        value
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned()
    };
    let message = match field("errorMessage") {
        m if m.is_empty() => String::from_utf8_lossy(body).into_owned(),
        m => m,
    };
    (field("errorType"), message)
}

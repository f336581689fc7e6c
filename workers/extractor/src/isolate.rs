//! Parsing each document in a child process of the same binary. A parser can abort the whole
//! process on crafted input (lopdf: a stack overflow on deep nesting; any: a failed huge
//! allocation, a spreadsheet declaring a million rows), which `catch_unwind` cannot contain; a
//! child with an address-space limit and a deadline turns that into a failure of the one
//! document.
//!
//! The child is the same executable started with [`CHILD_ARG`], the stream limit and the
//! document's [`Kind`]: document bytes on stdin, one JSON [`ChildOutcome`] on stdout.

use crate::document::{parse, Kind, ParseError, Parsed};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const CHILD_ARG: &str = "--parse-document";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The child's address-space limit (RLIMIT_AS).
    pub memory_bytes: u64,
    pub timeout: Duration,
    /// Largest decompressed stream the parser will produce.
    pub max_stream_bytes: usize,
    /// Most the parent reads of the child's answer (the text and metadata, as JSON): what a
    /// hostile document can make the parent hold.
    pub max_output_bytes: u64,
}

impl Limits {
    /// A parser child's address space and deadline unless configured otherwise (the
    /// extractor's and the PII check's alike; terraform's modules/sizing sets the same).
    pub const DEFAULT_MEMORY_MB: u64 = 768;
    pub const DEFAULT_TIMEOUT_SECONDS: u64 = 40;

    /// A parser's limits: streams inflated up to 64 MiB, an answer read up to 64 MiB.
    pub fn new(memory_bytes: u64, timeout: Duration) -> Self {
        Self {
            memory_bytes,
            timeout,
            max_stream_bytes: 64 << 20,
            max_output_bytes: 64 << 20,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub enum ChildOutcome {
    Parsed(Box<Parsed>),
    Failed(ParseError),
    Panicked(String),
}

#[derive(Debug, thiserror::Error)]
pub enum IsolationError {
    #[error(transparent)]
    Document(#[from] ParseError),
    #[error("the parser failed on this document: {0}")]
    Panicked(String),
    #[error("the parser crashed on this document ({0}): it is malformed or hostile, or needs more memory than the parser's limit")]
    Crashed(String),
    #[error("deadline: parsing took longer than {0:?}")]
    TimedOut(Duration),
    #[error("the parser's answer is larger than {0} bytes")]
    TooMuchOutput(u64),
    /// The only transient case: the machine could not start or talk to the child.
    #[error("could not run the parser process: {0}")]
    Spawn(String),
}

impl IsolationError {
    pub fn is_transient(&self) -> bool {
        matches!(self, IsolationError::Spawn(_))
    }
}

/// Parses `bytes` as `kind` in a child process of `program` under `limits`. Takes the bytes so
/// the writer thread owns them: the parent never holds a second copy of the document.
pub fn parse_isolated(
    program: &Path,
    bytes: Vec<u8>,
    kind: Kind,
    limits: &Limits,
) -> Result<Parsed, IsolationError> {
    let memory = limits.memory_bytes;
    let mut command = Command::new(program);
    command
        .arg(CHILD_ARG)
        .arg(limits.max_stream_bytes.to_string())
        .arg(kind.as_str())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: memory,
                rlim_max: memory,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|err| IsolationError::Spawn(format!("{}: {err}", program.display())))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| IsolationError::Spawn("no stdin".into()))?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| IsolationError::Spawn("no stdout".into()))?;
    // A child that dies early closes its stdin: the write error is not the news, its exit is.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&bytes);
    });
    let max_output = limits.max_output_bytes;
    // One byte past the cap tells an answer that fits from one that does not; the rest is
    // drained unread, so the child is not left blocked on a full pipe.
    let reader = std::thread::spawn(move || {
        let mut output = Vec::new();
        let _ = (&mut stdout).take(max_output + 1).read_to_end(&mut output);
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        output
    });
    let deadline = Instant::now() + limits.timeout;
    // A child seen done only after the deadline counts as late, however busy this process
    // was: the deadline is what the batch's timing was planned around.
    let status = loop {
        let exited = child
            .try_wait()
            .map_err(|err| IsolationError::Spawn(err.to_string()))?;
        if Instant::now() >= deadline {
            if exited.is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
            return Err(IsolationError::TimedOut(limits.timeout));
        }
        if let Some(status) = exited {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    let output = reader.join().unwrap_or_default();
    if output.len() as u64 > max_output {
        return Err(IsolationError::TooMuchOutput(max_output));
    }
    if !status.success() {
        let how = match status.signal() {
            Some(signal) => format!("signal {signal}"),
            None => format!("exit code {}", status.code().unwrap_or(-1)),
        };
        return Err(IsolationError::Crashed(how));
    }
    match serde_json::from_slice(&output) {
        Ok(ChildOutcome::Parsed(document)) => Ok(*document),
        Ok(ChildOutcome::Failed(err)) => Err(err.into()),
        Ok(ChildOutcome::Panicked(message)) => Err(IsolationError::Panicked(message)),
        Err(err) => Err(IsolationError::Crashed(format!("unreadable result: {err}"))),
    }
}

/// In a binary that parses documents through [`parse_isolated`] of itself: when this process was
/// started as the parser child, parses stdin, prints the outcome and exits; otherwise returns.
pub fn run_as_child_if_started_as_one() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some(CHILD_ARG) {
        let max_stream_bytes = args.next().and_then(|n| n.parse().ok()).unwrap_or(64 << 20);
        let Some(kind) = args.next().as_deref().and_then(Kind::parse_arg) else {
            std::process::exit(2);
        };
        std::process::exit(child_main(max_stream_bytes, kind));
    }
}

/// The child's side: parse stdin, print the outcome. Returns the process exit code.
fn child_main(max_stream_bytes: usize, kind: Kind) -> i32 {
    let mut bytes = Vec::new();
    if std::io::stdin().read_to_end(&mut bytes).is_err() {
        return 2;
    }
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = match catch_unwind(AssertUnwindSafe(|| parse(&bytes, kind, max_stream_bytes))) {
        Ok(Ok(document)) => ChildOutcome::Parsed(Box::new(document)),
        Ok(Err(err)) => ChildOutcome::Failed(err),
        Err(panic) => ChildOutcome::Panicked(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "panicked".into()),
        ),
    };
    match serde_json::to_writer(std::io::stdout().lock(), &outcome) {
        Ok(()) => 0,
        Err(_) => 3,
    }
}

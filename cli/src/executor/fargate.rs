//! Plays Fargate: each task `RunTask` recorded on the emulator runs as a child process of the
//! binary its container definition names (docker label `s3-triage:binary`), with the
//! definition's environment plus the run's overrides; when it exits, the task is stopped with
//! its exit code as the reason. A task stopped through ECS (`StopTask`: a scale-in, a router
//! settling a race), and every task when the executor stops, is stopped as Fargate does:
//! SIGTERM, then SIGKILL after the container's stop timeout.

use super::discover::BINARY_TAG;
use aws_sdk_ecs::types::{ContainerDefinition, DesiredStatus, Task};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Fargate's wait between SIGTERM and SIGKILL when the container definition sets none.
const DEFAULT_STOP_TIMEOUT_SECONDS: u64 = 30;

pub struct TaskRunner {
    ecs: aws_sdk_ecs::Client,
    binaries: PathBuf,
    runtime_env: BTreeMap<String, String>,
    seen: HashSet<String>,
    running: Vec<RunningProcess>,
    /// Cancelling it stops every task; each task's own token is its child.
    shutdown: CancellationToken,
}

/// A task's process as the executor watches it.
struct RunningProcess {
    cluster: String,
    task_arn: String,
    stop: CancellationToken,
    watcher: JoinHandle<()>,
}

#[derive(Debug, thiserror::Error)]
#[error("ECS {operation} failed: {message}")]
pub struct EcsError {
    operation: &'static str,
    message: String,
}

fn failed<E: std::error::Error + 'static, R: std::fmt::Debug>(
    operation: &'static str,
) -> impl FnOnce(aws_sdk_ecs::error::SdkError<E, R>) -> EcsError {
    move |err| EcsError {
        operation,
        message: aws_sdk_ecs::error::DisplayErrorContext(&err).to_string(),
    }
}

impl TaskRunner {
    pub fn new(
        ecs: aws_sdk_ecs::Client,
        binaries: PathBuf,
        runtime_env: BTreeMap<String, String>,
    ) -> Self {
        Self {
            ecs,
            binaries,
            runtime_env,
            seen: HashSet::new(),
            running: Vec::new(),
            shutdown: CancellationToken::new(),
        }
    }

    /// Starts every task recorded since the last poll, and stops those ECS was told to stop;
    /// returns how many it started.
    pub async fn poll_once(&mut self) -> Result<usize, EcsError> {
        self.stop_the_stopped().await?;
        let mut started = 0;
        let clusters = self
            .ecs
            .list_clusters()
            .send()
            .await
            .map_err(failed("ListClusters"))?;
        for cluster in clusters.cluster_arns() {
            let listed = self
                .ecs
                .list_tasks()
                .cluster(cluster)
                .desired_status(DesiredStatus::Running)
                .send()
                .await
                .map_err(failed("ListTasks"))?;
            let new: Vec<String> = listed
                .task_arns()
                .iter()
                .filter(|arn| !self.seen.contains(*arn))
                .cloned()
                .collect();
            if new.is_empty() {
                continue;
            }
            let described = self
                .ecs
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(new.clone()))
                .send()
                .await
                .map_err(failed("DescribeTasks"))?;
            self.seen.extend(new);
            for task in described.tasks() {
                self.start(cluster, task).await?;
                started += 1;
            }
        }
        Ok(started)
    }

    async fn start(&mut self, cluster: &str, task: &Task) -> Result<(), EcsError> {
        let task_arn = task.task_arn().unwrap_or_default().to_owned();
        let definition = self
            .ecs
            .describe_task_definition()
            .task_definition(task.task_definition_arn().unwrap_or_default())
            .send()
            .await
            .map_err(failed("DescribeTaskDefinition"))?;
        let containers = definition
            .task_definition()
            .map(|d| d.container_definitions())
            .unwrap_or_default();
        // One essential container per task is what s3-triage declares; run the first with a binary.
        let Some((container, binary)) = containers
            .iter()
            .find_map(|c| Some((c, c.docker_labels()?.get(BINARY_TAG)?)))
        else {
            self.stop(
                cluster,
                &task_arn,
                &format!("no container has a {BINARY_TAG} docker label"),
            )
            .await?;
            return Ok(());
        };
        let environment = self.environment(container, task);
        let name = container.name().unwrap_or("task").to_owned();
        let stop_timeout = Duration::from_secs(
            container
                .stop_timeout()
                .and_then(|seconds| u64::try_from(seconds).ok())
                .unwrap_or(DEFAULT_STOP_TIMEOUT_SECONDS),
        );
        let mut child = match Command::new(self.binaries.join(binary))
            .envs(environment)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(child) => child,
            Err(err) => {
                let reason = format!(
                    "CannotStartContainerError: {}: {err}",
                    self.binaries.join(binary).display()
                );
                return self.stop(cluster, &task_arn, &reason).await;
            }
        };
        eprintln!(
            "[executor] started task {name} (pid {})",
            child.id().unwrap_or_default()
        );
        let stop = self.shutdown.child_token();
        let (ecs, task_cluster, stopping, arn, executor_stopping) = (
            self.ecs.clone(),
            cluster.to_owned(),
            stop.clone(),
            task_arn.clone(),
            self.shutdown.clone(),
        );
        let watcher = tokio::spawn(async move {
            let reason = tokio::select! {
                status = child.wait() => Some(match status.ok().and_then(|s| s.code()) {
                    Some(code) => format!("Essential container in task exited with code {code}"),
                    None => "Essential container in task was killed".to_owned(),
                }),
                () = stopping.cancelled() => {
                    // As Fargate stops a task: SIGTERM, then SIGKILL after the stop timeout.
                    if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
                        // SAFETY: signals our own child, which has not been reaped yet.
                        unsafe { libc::kill(pid, libc::SIGTERM) };
                    }
                    if tokio::time::timeout(stop_timeout, child.wait()).await.is_err() {
                        let _ = child.kill().await;
                    }
                    // A StopTask already stopped it in ECS, with its own reason.
                    executor_stopping
                        .is_cancelled()
                        .then(|| "Task stopped by the local executor".to_owned())
                }
            };
            let Some(reason) = reason else {
                eprintln!("[executor] task {name}: stopped through ECS");
                return;
            };
            eprintln!("[executor] task {name}: {reason}");
            if let Err(err) = ecs
                .stop_task()
                .cluster(task_cluster)
                .task(arn)
                .reason(reason)
                .send()
                .await
            {
                eprintln!(
                    "[executor] task {name}: StopTask failed: {}",
                    aws_sdk_ecs::error::DisplayErrorContext(&err)
                );
            }
        });
        self.running.push(RunningProcess {
            cluster: cluster.to_owned(),
            task_arn,
            stop,
            watcher,
        });
        Ok(())
    }

    /// Stops the processes of tasks whose desired status ECS has turned to STOPPED.
    async fn stop_the_stopped(&mut self) -> Result<(), EcsError> {
        self.running
            .retain(|process| !process.watcher.is_finished());
        let clusters: HashSet<String> = self
            .running
            .iter()
            .filter(|process| !process.stop.is_cancelled())
            .map(|process| process.cluster.clone())
            .collect();
        for cluster in clusters {
            let stopped = self
                .ecs
                .list_tasks()
                .cluster(&cluster)
                .desired_status(DesiredStatus::Stopped)
                .send()
                .await
                .map_err(failed("ListTasks"))?;
            for process in &self.running {
                if process.cluster == cluster && stopped.task_arns().contains(&process.task_arn) {
                    process.stop.cancel();
                }
            }
        }
        Ok(())
    }

    /// The container definition's environment, the run's overrides over it, and what the
    /// platform provides (endpoint, credentials, region) over both.
    fn environment(
        &self,
        container: &ContainerDefinition,
        task: &Task,
    ) -> BTreeMap<String, String> {
        let mut environment: BTreeMap<String, String> = container
            .environment()
            .iter()
            .filter_map(|pair| Some((pair.name()?.to_owned(), pair.value()?.to_owned())))
            .collect();
        let overrides = task
            .overrides()
            .map(|o| o.container_overrides())
            .unwrap_or_default();
        for container_override in overrides.iter().filter(|o| o.name() == container.name()) {
            for pair in container_override.environment() {
                if let (Some(name), Some(value)) = (pair.name(), pair.value()) {
                    environment.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        environment.extend(self.runtime_env.clone());
        environment
    }

    async fn stop(&self, cluster: &str, task_arn: &str, reason: &str) -> Result<(), EcsError> {
        eprintln!("[executor] task {task_arn}: {reason}");
        self.ecs
            .stop_task()
            .cluster(cluster)
            .task(task_arn)
            .reason(reason)
            .send()
            .await
            .map_err(failed("StopTask"))?;
        Ok(())
    }

    /// Stops every running task process and waits until each is gone and marked stopped.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        for process in self.running {
            let _ = process.watcher.await;
        }
    }
}

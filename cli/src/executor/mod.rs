//! Runs what the emulator can only record. [`lambda::FunctionHost`] runs one function's real
//! binary against a Lambda Runtime API it serves; [`sqs::SqsEventSource`] feeds it an SQS
//! queue as a Lambda event source mapping would; [`invoke_api`] serves `Invoke`, with AWS's
//! asynchronous retries and on-failure destination; [`fargate::TaskRunner`] runs recorded ECS
//! tasks.

pub mod discover;
pub mod fargate;
pub mod invoke_api;
pub mod lambda;
pub mod sqs;

use discover::Declared;
use lambda::FunctionHost;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

const INVOKE_ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_LAMBDA";

/// Every declared function, hosted, the Invoke API in front of them, and a poller per event
/// source.
pub struct Executor {
    hosts: BTreeMap<String, Arc<FunctionHost>>,
    sqs_sources: Vec<(Arc<FunctionHost>, sqs::SqsEventSource)>,
    _invoke_api: invoke_api::InvokeApi,
    invoke_endpoint: String,
    tasks: Option<fargate::TaskRunner>,
    configuration_updates: Option<ConfigurationUpdates>,
}

/// Where a function's current declaration is read, and what Lambda adds to its environment.
struct ConfigurationUpdates {
    lambda: aws_sdk_lambda::Client,
    provided: BTreeMap<String, String>,
}

/// How soon an `UpdateFunctionConfiguration` reaches the next invocation; Lambda's take a
/// few seconds too.
const CONFIGURATION_POLL: Duration = Duration::from_secs(1);

impl Executor {
    /// `retry_delay` spaces asynchronous retries (AWS uses about a minute).
    pub async fn start(
        declared: Declared,
        sqs: aws_sdk_sqs::Client,
        retry_delay: Duration,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let invoke_endpoint = format!("http://{}", listener.local_addr()?);
        let mut hosts = BTreeMap::new();
        for mut spec in declared.functions {
            spec.environment
                .insert(INVOKE_ENDPOINT_VARIABLE.into(), invoke_endpoint.clone());
            hosts.insert(
                spec.name.clone(),
                Arc::new(FunctionHost::start(spec).await?),
            );
        }
        let invoke_api = invoke_api::InvokeApi::serve(listener, hosts.clone(), sqs, retry_delay);
        let sqs_sources = declared
            .sqs_sources
            .into_iter()
            .filter_map(|(function, source)| Some((Arc::clone(hosts.get(&function)?), source)))
            .collect();
        Ok(Self {
            hosts,
            sqs_sources,
            _invoke_api: invoke_api,
            invoke_endpoint,
            tasks: None,
            configuration_updates: None,
        })
    }

    /// Also run the ECS tasks recorded on the emulator.
    pub fn with_tasks(mut self, runner: fargate::TaskRunner) -> Self {
        self.tasks = Some(runner);
        self
    }

    /// Also follow changes to the functions' environment variables on the emulator (an
    /// `UpdateFunctionConfiguration`, a `terraform apply`), as Lambda does: the next invocation
    /// runs a new process with them. `runtime_env` is what discovery added to each.
    pub fn with_configuration_updates(
        mut self,
        lambda: aws_sdk_lambda::Client,
        runtime_env: &BTreeMap<String, String>,
    ) -> Self {
        let mut provided = runtime_env.clone();
        provided.insert(
            INVOKE_ENDPOINT_VARIABLE.into(),
            self.invoke_endpoint.clone(),
        );
        self.configuration_updates = Some(ConfigurationUpdates { lambda, provided });
        self
    }

    /// Where the Lambda `Invoke` API of the hosted functions is served: what S3 Batch
    /// Operations and other direct invokers call.
    pub fn invoke_endpoint(&self) -> &str {
        &self.invoke_endpoint
    }

    pub fn functions(&self) -> impl Iterator<Item = &str> {
        self.hosts.keys().map(String::as_str)
    }

    /// Polls every event source until `shutdown` completes; then every function process ends.
    pub async fn run_until(self, sqs: aws_sdk_sqs::Client, shutdown: impl Future<Output = ()>) {
        let mut pollers: Vec<_> = self
            .sqs_sources
            .into_iter()
            .map(|(host, source)| {
                let sqs = sqs.clone();
                tokio::spawn(async move {
                    loop {
                        if let Err(err) = source.poll_once(&sqs, &host, 1).await {
                            eprintln!("[executor] {}: {err}", host.name());
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                })
            })
            .collect();
        if let Some(updates) = self.configuration_updates {
            let hosts: Vec<_> = self.hosts.values().cloned().collect();
            pollers.push(tokio::spawn(updates.follow(hosts)));
        }
        let mut tasks = self.tasks;
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(Duration::from_secs(1)) => {
                    if let Some(tasks) = tasks.as_mut() {
                        if let Err(err) = tasks.poll_once().await {
                            eprintln!("[executor] {err}");
                        }
                    }
                }
            }
        }
        if let Some(tasks) = tasks {
            tasks.shutdown().await;
        }
        for poller in &pollers {
            poller.abort();
        }
        for poller in pollers {
            let _ = poller.await;
        }
        for host in self.hosts.values() {
            host.stop().await;
        }
    }
}

impl ConfigurationUpdates {
    async fn follow(self, hosts: Vec<Arc<FunctionHost>>) {
        loop {
            tokio::time::sleep(CONFIGURATION_POLL).await;
            let mut declared = match discover::declared_variables(&self.lambda).await {
                Ok(declared) => declared,
                Err(err) => {
                    eprintln!("[executor] {err}");
                    continue;
                }
            };
            for host in &hosts {
                // A function gone from the emulator keeps running as it was.
                let Some(mut environment) = declared.remove(host.name()) else {
                    continue;
                };
                environment.extend(self.provided.clone());
                if host.reconfigure(environment).await {
                    eprintln!(
                        "[executor] {}: environment changed, the next invocation starts a new process",
                        host.name()
                    );
                }
            }
        }
    }
}

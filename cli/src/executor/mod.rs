//! Runs what the emulator can only record. [`lambda::FunctionHost`] runs one function's real
//! binary against a Lambda Runtime API it serves; [`sqs::SqsEventSource`] feeds it an SQS
//! queue as a Lambda event source mapping would.

pub mod discover;
pub mod lambda;
pub mod sqs;

use discover::Declared;
use lambda::FunctionHost;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Every declared function, hosted, and a poller per event source.
pub struct Executor {
    hosts: BTreeMap<String, Arc<FunctionHost>>,
    sqs_sources: Vec<(Arc<FunctionHost>, sqs::SqsEventSource)>,
}

impl Executor {
    pub async fn start(declared: Declared) -> std::io::Result<Self> {
        let mut hosts = BTreeMap::new();
        for spec in declared.functions {
            hosts.insert(
                spec.name.clone(),
                Arc::new(FunctionHost::start(spec).await?),
            );
        }
        let sqs_sources = declared
            .sqs_sources
            .into_iter()
            .filter_map(|(function, source)| Some((Arc::clone(hosts.get(&function)?), source)))
            .collect();
        Ok(Self { hosts, sqs_sources })
    }

    pub fn functions(&self) -> impl Iterator<Item = &str> {
        self.hosts.keys().map(String::as_str)
    }

    /// Polls every event source until `shutdown` completes; then every function process ends.
    pub async fn run_until(self, sqs: aws_sdk_sqs::Client, shutdown: impl Future<Output = ()>) {
        let pollers: Vec<_> = self
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
        shutdown.await;
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

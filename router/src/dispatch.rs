//! Hands routed objects to their tiers. The [`Dispatcher`] trait is the port the handler sees;
//! [`AwsDispatcher`] is the adapter that talks to Lambda, SQS, SNS and ECS.

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, ContainerOverride,
    KeyValuePair, NetworkConfiguration, TaskOverride,
};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use futures::future::join_all;
use object_events::{Dispatch, Tier};
use platform::is_transient;
use std::future::Future;

/// The environment variable the large-file task reads its dispatch message from.
pub const TASK_DISPATCH_VARIABLE: &str = "TRIAGE_DISPATCH";
/// SQS's limit on entries per `SendMessageBatch`.
const SQS_BATCH_LIMIT: usize = 10;

#[derive(Debug, Clone, thiserror::Error)]
#[error("dispatch to the {tier} tier failed: {message}")]
pub struct DispatchError {
    pub tier: Tier,
    pub message: String,
    pub transient: bool,
}

/// Sends each dispatch to its tier; one result per dispatch, in order.
pub trait Dispatcher: Send + Sync {
    fn dispatch(
        &self,
        batch: &[Dispatch],
    ) -> impl Future<Output = Vec<Result<(), DispatchError>>> + Send;
}

/// Where each tier's work goes, as terraform created it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DispatchTargets {
    pub thumbnail_function: String,
    pub extractor_queue_url: String,
    pub compliance_topic_arn: String,
    pub large_task: LargeTaskTarget,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LargeTaskTarget {
    pub cluster: String,
    pub task_definition: String,
    pub container: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
    pub capacity: Capacity,
}

/// Runs a task on each provider in turn until one starts it. `run_on` answers None when the task
/// started, else the provider's shortfall. Ok(Err) holds every provider's shortfall.
async fn first_started<F, R>(
    providers: &[&'static str],
    mut run_on: F,
) -> Result<Result<(), String>, DispatchError>
where
    F: FnMut(&'static str) -> R,
    R: Future<Output = Result<Option<String>, DispatchError>>,
{
    let mut shortfalls = Vec::new();
    for provider in providers {
        match run_on(provider).await? {
            None => return Ok(Ok(())),
            Some(shortfall) => shortfalls.push(format!("{provider}: {shortfall}")),
        }
    }
    Ok(Err(shortfalls.join(" | ")))
}

/// Which Fargate capacity a large-file task runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capacity {
    OnDemand,
    /// Fargate Spot (about 70% cheaper; AWS may reclaim a task with two minutes' notice),
    /// on-demand when Spot has none to give.
    Spot,
}

impl Capacity {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "on-demand" => Ok(Capacity::OnDemand),
            "spot" => Ok(Capacity::Spot),
            other => Err(format!("{other:?} is neither on-demand nor spot")),
        }
    }

    /// The cluster's capacity providers tried in turn.
    pub fn providers(self) -> &'static [&'static str] {
        match self {
            Capacity::OnDemand => &["FARGATE"],
            Capacity::Spot => &["FARGATE_SPOT", "FARGATE"],
        }
    }
}

pub struct AwsDispatcher {
    pub lambda: aws_sdk_lambda::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub targets: DispatchTargets,
}

impl Dispatcher for AwsDispatcher {
    async fn dispatch(&self, batch: &[Dispatch]) -> Vec<Result<(), DispatchError>> {
        let mut results: Vec<Result<(), DispatchError>> = vec![Ok(()); batch.len()];
        let documents: Vec<usize> = (0..batch.len())
            .filter(|&i| batch[i].tier == Tier::Document)
            .collect();
        let singles = (0..batch.len())
            .filter(|&i| batch[i].tier != Tier::Document)
            .map(|i| async move { (i, self.dispatch_one(&batch[i]).await) });
        let document_chunks = documents
            .chunks(SQS_BATCH_LIMIT)
            .map(|chunk| self.send_documents(batch, chunk));
        let (singles, chunks) = futures::join!(join_all(singles), join_all(document_chunks));
        for (index, result) in singles.into_iter().chain(chunks.into_iter().flatten()) {
            results[index] = result;
        }
        results
    }
}

impl AwsDispatcher {
    async fn dispatch_one(&self, dispatch: &Dispatch) -> Result<(), DispatchError> {
        let body = body(dispatch);
        let failed = |message: String, transient: bool| DispatchError {
            tier: dispatch.tier,
            message,
            transient,
        };
        match dispatch.tier {
            // An async invoke only queues the event: 202 is success, the function runs later.
            Tier::Thumbnail => {
                self.lambda
                    .invoke()
                    .function_name(&self.targets.thumbnail_function)
                    .invocation_type(InvocationType::Event)
                    .payload(Blob::new(body))
                    .send()
                    .await
                    .map_err(|err| failed(describe(&err), is_transient(&err)))?;
                Ok(())
            }
            Tier::Compliance => {
                let attribute = |value: &str| {
                    MessageAttributeValue::builder()
                        .data_type("String")
                        .string_value(value)
                        .build()
                };
                let mut publish = self
                    .sns
                    .publish()
                    .topic_arn(&self.targets.compliance_topic_arn)
                    .message(body);
                for (name, value) in [
                    ("tier", dispatch.tier.as_str()),
                    ("content_kind", dispatch.content_kind.as_str()),
                    ("size_class", size_class(dispatch.object.size)),
                    ("correlation_id", dispatch.correlation_id.as_str()),
                ] {
                    let value = attribute(value).map_err(|err| failed(err.to_string(), false))?;
                    publish = publish.message_attributes(name, value);
                }
                publish
                    .send()
                    .await
                    .map_err(|err| failed(describe(&err), is_transient(&err)))?;
                Ok(())
            }
            Tier::Large => self.run_large_task(dispatch, body).await,
            Tier::Document => {
                self.send_documents(std::slice::from_ref(dispatch), &[0])
                    .await
                    .remove(0)
                    .1
            }
        }
    }

    async fn run_large_task(&self, dispatch: &Dispatch, body: String) -> Result<(), DispatchError> {
        let failed = |message: String, transient: bool| DispatchError {
            tier: Tier::Large,
            message,
            transient,
        };
        let target = &self.targets.large_task;
        let network = AwsVpcConfiguration::builder()
            .set_subnets(Some(target.subnets.clone()))
            .set_security_groups(Some(target.security_groups.clone()))
            .assign_public_ip(if target.assign_public_ip {
                AssignPublicIp::Enabled
            } else {
                AssignPublicIp::Disabled
            })
            .build()
            .map_err(|err| failed(err.to_string(), false))?;
        let overrides = TaskOverride::builder()
            .container_overrides(
                ContainerOverride::builder()
                    .name(&target.container)
                    .environment(
                        KeyValuePair::builder()
                            .name(TASK_DISPATCH_VARIABLE)
                            .value(body)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let network = NetworkConfiguration::builder()
            .awsvpc_configuration(network)
            .build();
        let run_on = |provider: &'static str| {
            let (network, overrides) = (network.clone(), overrides.clone());
            async move {
                let strategy = CapacityProviderStrategyItem::builder()
                    .capacity_provider(provider)
                    .weight(1)
                    .build()
                    .map_err(|err| failed(err.to_string(), false))?;
                let started = self
                    .ecs
                    .run_task()
                    .cluster(&target.cluster)
                    .task_definition(&target.task_definition)
                    .capacity_provider_strategy(strategy)
                    .count(1)
                    .started_by(truncate(dispatch.correlation_id.as_str(), 36))
                    .network_configuration(network)
                    .overrides(overrides)
                    .send()
                    .await
                    .map_err(|err| failed(describe(&err), is_transient(&err)))?;
                let failures = started.failures.unwrap_or_default();
                if !started.tasks.unwrap_or_default().is_empty() && failures.is_empty() {
                    return Ok(None);
                }
                let reasons: Vec<String> = failures
                    .iter()
                    .map(|f| {
                        format!(
                            "{} ({})",
                            f.reason.as_deref().unwrap_or("unknown"),
                            f.detail.as_deref().unwrap_or("")
                        )
                    })
                    .collect();
                Ok(Some(reasons.join("; ")))
            }
        };
        first_started(target.capacity.providers(), run_on)
            .await?
            // Capacity shortfalls are the common cause; they clear up, so retry.
            .map_err(|shortfalls| failed(format!("RunTask started no task: {shortfalls}"), true))
    }

    /// One `SendMessageBatch` for up to ten documents; per-entry results.
    async fn send_documents(
        &self,
        batch: &[Dispatch],
        indices: &[usize],
    ) -> Vec<(usize, Result<(), DispatchError>)> {
        let failed = |message: String, transient: bool| DispatchError {
            tier: Tier::Document,
            message,
            transient,
        };
        let entries: Result<Vec<_>, _> = indices
            .iter()
            .map(|&i| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body(&batch[i]))
                    .build()
            })
            .collect();
        let sent = match entries {
            Ok(entries) => self
                .sqs
                .send_message_batch()
                .queue_url(&self.targets.extractor_queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|err| failed(describe(&err), is_transient(&err))),
            Err(err) => Err(failed(err.to_string(), false)),
        };
        match sent {
            Err(err) => indices.iter().map(|&i| (i, Err(err.clone()))).collect(),
            Ok(output) => indices
                .iter()
                .map(|&i| {
                    let entry_failure = output.failed.iter().find(|f| f.id == i.to_string());
                    let result = match entry_failure {
                        None => Ok(()),
                        Some(f) => Err(failed(
                            format!(
                                "{}: {}",
                                f.code,
                                f.message.as_deref().unwrap_or("no message")
                            ),
                            !f.sender_fault,
                        )),
                    };
                    (i, result)
                })
                .collect(),
        }
    }
}

fn body(dispatch: &Dispatch) -> String {
    serde_json::to_string(dispatch).unwrap_or_default()
}

fn describe<E: std::error::Error + 'static, R: std::fmt::Debug>(
    err: &aws_sdk_sqs::error::SdkError<E, R>,
) -> String {
    aws_sdk_sqs::error::DisplayErrorContext(err).to_string()
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// A coarse size bucket compliance subscribers can filter on without numeric policies.
pub fn size_class(bytes: u64) -> &'static str {
    use crate::policy::MIB;
    match bytes {
        0..=MIB => "small",
        _ if bytes <= 100 * MIB => "medium",
        _ => "large",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::MIB;

    #[tokio::test]
    async fn spot_falls_back_to_on_demand_only_when_it_starts_nothing() {
        let tried = std::sync::Mutex::new(Vec::new());
        let short_of_spot = |provider: &'static str| {
            tried.lock().expect("lock").push(provider);
            async move {
                Ok((provider == "FARGATE_SPOT")
                    .then(|| "RESOURCE:FARGATE_SPOT (capacity is unavailable)".to_owned()))
            }
        };
        let started = first_started(Capacity::Spot.providers(), short_of_spot).await;
        assert_eq!(started.expect("no error"), Ok(()));
        assert_eq!(*tried.lock().expect("lock"), ["FARGATE_SPOT", "FARGATE"]);

        let none = |provider: &'static str| async move { Ok(Some(format!("no {provider}"))) };
        let started = first_started(Capacity::Spot.providers(), none).await;
        assert_eq!(
            started.expect("no error"),
            Err("FARGATE_SPOT: no FARGATE_SPOT | FARGATE: no FARGATE".into())
        );
        let failing = |_: &'static str| async move {
            Err(DispatchError {
                tier: Tier::Large,
                message: "AccessDenied".into(),
                transient: false,
            })
        };
        let started = first_started(Capacity::Spot.providers(), failing).await;
        assert_eq!(
            started.expect_err("stops at an error").message,
            "AccessDenied"
        );
        let on_demand = |provider: &'static str| async move {
            Ok((provider != "FARGATE").then(|| "not tried".to_owned()))
        };
        let started = first_started(Capacity::OnDemand.providers(), on_demand).await;
        assert_eq!(started.expect("no error"), Ok(()));
    }

    #[test]
    fn size_classes() {
        assert_eq!(size_class(MIB), "small");
        assert_eq!(size_class(MIB + 1), "medium");
        assert_eq!(size_class(100 * MIB + 1), "large");
    }
}

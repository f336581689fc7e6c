//! Hands routed objects to their tiers. The [`Dispatcher`] trait is the port the handler sees;
//! [`AwsDispatcher`] is the adapter that talks to Lambda, SQS, SNS and ECS.
//!
//! Large files go to the large-file queue; after sending, the router starts the tasks the
//! queue's backlog calls for ([`crate::fleet`]).

use crate::fleet::{self, Fleet, RunningTask};
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, DesiredStatus,
    NetworkConfiguration,
};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use futures::future::join_all;
use object_events::{Dispatch, Tier};
use platform::is_transient;
use std::future::Future;
use tracing::{info, warn};

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

    /// Starts the large-file tasks the large-file queue's backlog calls for, counting at least
    /// `just_sent` dispatches (SQS's counts lag behind its sends), and stops any a racing
    /// router started in a slot already taken. After each send, and on a schedule: a dispatch
    /// whose task was reclaimed, or exited as it arrived, is not left waiting for the next upload.
    fn keep_large_fleet(
        &self,
        just_sent: usize,
    ) -> impl Future<Output = Result<(), DispatchError>> + Send;
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
    pub queue_url: String,
    pub fleet: Fleet,
    pub cluster: String,
    /// The task definition's family: what RunTask runs (its latest revision) and ListTasks
    /// counts.
    pub family: String,
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
        let queued = |tier: Tier| -> Vec<usize> {
            (0..batch.len())
                .filter(|&i| batch[i].tier == tier)
                .collect()
        };
        let (documents, large) = (queued(Tier::Document), queued(Tier::Large));
        let singles = (0..batch.len())
            .filter(|&i| !matches!(batch[i].tier, Tier::Document | Tier::Large))
            .map(|i| async move { (i, self.dispatch_one(&batch[i]).await) });
        let chunks = documents
            .chunks(SQS_BATCH_LIMIT)
            .chain(large.chunks(SQS_BATCH_LIMIT))
            .map(|chunk| self.send_queued(batch, chunk));
        let (singles, chunks) = futures::join!(join_all(singles), join_all(chunks));
        for (index, result) in singles.into_iter().chain(chunks.into_iter().flatten()) {
            results[index] = result;
        }
        let sent_large = large.iter().filter(|&&i| results[i].is_ok()).count();
        if sent_large > 0 {
            // A dispatch waiting for a task that was never started is not delivered: retry the
            // whole step (the duplicate it sends is one the task's claim turns away).
            // Boxed: the whole dispatch future is otherwise too deep for the compiler's layout.
            if let Err(err) = Box::pin(self.keep_large_fleet(sent_large)).await {
                for &i in &large {
                    results[i] = Err(err.clone());
                }
            }
        }
        results
    }

    async fn keep_large_fleet(&self, just_sent: usize) -> Result<(), DispatchError> {
        let fleet = self.targets.large_task.fleet;
        let backlog = self
            .large_backlog()
            .await?
            .max(u64::try_from(just_sent).unwrap_or(u64::MAX));
        let running = self.one_task_per_slot().await?;
        let slots = fleet.slots_to_start(backlog, &running);
        for &slot in &slots {
            self.run_large_task(slot).await?;
        }
        if !slots.is_empty() {
            let running = self.one_task_per_slot().await?;
            info!(
                backlog,
                started = slots.len(),
                running = running.len(),
                "large-file tasks started for the queue's backlog"
            );
        }
        Ok(())
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
            Tier::Document | Tier::Large => {
                self.send_queued(std::slice::from_ref(dispatch), &[0])
                    .await
                    .remove(0)
                    .1
            }
        }
    }

    /// The family's running tasks, after stopping those a racing router started in a slot
    /// already taken.
    async fn one_task_per_slot(&self) -> Result<Vec<RunningTask>, DispatchError> {
        let mut running = self.running_large_tasks().await?;
        let surplus = fleet::surplus(&running);
        for task in &surplus {
            warn!(task, "stopping a second task in one slot");
            self.ecs
                .stop_task()
                .cluster(&self.targets.large_task.cluster)
                .task(task)
                .reason("another router started a task in the same slot at the same time")
                .send()
                .await
                .map_err(|err| large_failed(describe(&err), true))?;
        }
        running.retain(|task| !surplus.contains(&task.arn));
        Ok(running)
    }

    /// The large-file queue's messages, waiting and in progress.
    async fn large_backlog(&self) -> Result<u64, DispatchError> {
        let counts = [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        ];
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.targets.large_task.queue_url)
            .set_attribute_names(Some(counts.to_vec()))
            .send()
            .await
            .map_err(|err| large_failed(describe(&err), true))?
            .attributes
            .unwrap_or_default();
        Ok(counts
            .iter()
            .filter_map(|name| attributes.get(name)?.parse::<u64>().ok())
            .sum())
    }

    /// The family's tasks running or starting in the cluster, with their slots.
    async fn running_large_tasks(&self) -> Result<Vec<RunningTask>, DispatchError> {
        let target = &self.targets.large_task;
        let mut arns = Vec::new();
        let mut next_token = None;
        loop {
            let listed = self
                .ecs
                .list_tasks()
                .cluster(&target.cluster)
                .family(&target.family)
                .desired_status(DesiredStatus::Running)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|err| large_failed(describe(&err), true))?;
            arns.extend(listed.task_arns.unwrap_or_default());
            next_token = listed.next_token;
            if next_token.is_none() {
                break;
            }
        }
        let mut running = Vec::with_capacity(arns.len());
        // DescribeTasks takes up to 100 tasks.
        for chunk in arns.chunks(100) {
            let described = self
                .ecs
                .describe_tasks()
                .cluster(&target.cluster)
                .set_tasks(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|err| large_failed(describe(&err), true))?;
            running.extend(described.tasks.unwrap_or_default().into_iter().map(|task| {
                RunningTask {
                    slot: task.started_by.as_deref().and_then(fleet::slot_of),
                    created_at_ms: task.created_at.and_then(|at| at.to_millis().ok()),
                    arn: task.task_arn.unwrap_or_default(),
                }
            }));
        }
        Ok(running)
    }

    async fn run_large_task(&self, slot: u32) -> Result<(), DispatchError> {
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
            .map_err(|err| large_failed(err.to_string(), false))?;
        let network = NetworkConfiguration::builder()
            .awsvpc_configuration(network)
            .build();
        let run_on = |provider: &'static str| {
            let network = network.clone();
            async move {
                let strategy = CapacityProviderStrategyItem::builder()
                    .capacity_provider(provider)
                    .weight(1)
                    .build()
                    .map_err(|err| large_failed(err.to_string(), false))?;
                let started = self
                    .ecs
                    .run_task()
                    .cluster(&target.cluster)
                    .task_definition(&target.family)
                    .capacity_provider_strategy(strategy)
                    .count(1)
                    .started_by(fleet::started_by(slot))
                    .network_configuration(network)
                    .send()
                    .await
                    .map_err(|err| large_failed(describe(&err), is_transient(&err)))?;
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
            .map_err(|shortfalls| {
                warn!(slot, shortfalls, "RunTask started no large-file task");
                large_failed(format!("RunTask started no task: {shortfalls}"), true)
            })
    }

    /// One `SendMessageBatch` for up to ten dispatches of one queued tier; per-entry results.
    async fn send_queued(
        &self,
        batch: &[Dispatch],
        indices: &[usize],
    ) -> Vec<(usize, Result<(), DispatchError>)> {
        let tier = indices.first().map_or(Tier::Document, |&i| batch[i].tier);
        let queue_url = match tier {
            Tier::Large => &self.targets.large_task.queue_url,
            _ => &self.targets.extractor_queue_url,
        };
        let failed = |message: String, transient: bool| DispatchError {
            tier,
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
                .queue_url(queue_url)
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

fn large_failed(message: String, transient: bool) -> DispatchError {
    DispatchError {
        tier: Tier::Large,
        message,
        transient,
    }
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

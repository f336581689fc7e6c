//! The task's work loop: dispatches taken from the large-file queue a few at a time, each kept
//! hidden from other tasks while its object streams and settled by its pass's outcome. The task
//! ends once the queue has stayed empty for the idle time, or on SIGTERM once every pass has
//! given its object back.
//!
//! [`Inbox`] is the port the loop sees; [`SqsInbox`] is the adapter that talks to SQS.

use crate::config::QueueSettings;
use crate::task::Outcome;
use audit::RecordError;
use futures::future::Either;
use futures::stream::{FuturesUnordered, StreamExt};
use object_events::{Dispatch, Tier};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use worker_common::step::parse_dispatch;
use worker_common::Failure;

/// The longest one receive waits: short enough that SIGTERM is answered well inside Fargate's
/// stop timeout (30 s), long enough that an idle task asks SQS a few times a minute.
const LONGEST_WAIT: Duration = Duration::from_secs(10);
/// A pause after a failed receive, so a queue that cannot be reached is not asked in a loop.
const AFTER_FAILED_RECEIVE: Duration = Duration::from_secs(1);

/// One message taken from the queue.
#[derive(Clone, Debug)]
pub struct Taken {
    pub receipt: String,
    pub body: String,
}

/// Where dispatches come from.
pub trait Inbox: Sync {
    /// Up to `at_most` messages, each hidden for `hidden_for`, waiting up to `wait` for one.
    fn take_dispatches(
        &self,
        at_most: usize,
        wait: Duration,
        hidden_for: Duration,
    ) -> impl Future<Output = Result<Vec<Taken>, Failure>> + Send;
    /// Hides a taken message for `hidden_for` from now (zero: delivers it again at once).
    fn keep_hidden(
        &self,
        receipt: &str,
        hidden_for: Duration,
    ) -> impl Future<Output = Result<(), Failure>> + Send;
    /// Removes a message whose object is recorded.
    fn acknowledge(&self, receipt: &str) -> impl Future<Output = Result<(), Failure>> + Send;
}

/// What became of the messages one task took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Consumed {
    /// Recorded (or found recorded) and removed from the queue.
    pub settled: usize,
    /// Given back for another pass (SIGTERM, a transient fault, another pass's live claim).
    pub released: usize,
    /// Not large-file dispatches, or their pass could not record: left for redelivery and,
    /// after maxReceiveCount, the queue's DLQ.
    pub left: usize,
}

enum Settled {
    Acknowledged,
    Released,
    Left,
}

/// Takes and processes dispatches with `pass` until the queue has been empty for the idle
/// time, or `cancel` fires and every pass has ended. `busy_retry` is how long a dispatch whose
/// object another pass holds waits (the claim lease).
pub async fn consume<I, P, Fut>(
    inbox: &I,
    settings: &QueueSettings,
    busy_retry: Duration,
    cancel: &CancellationToken,
    pass: P,
) -> Consumed
where
    I: Inbox,
    P: Fn(Dispatch) -> Fut,
    Fut: Future<Output = Result<Outcome, RecordError>>,
{
    type Receiving<'a> = Pin<Box<dyn Future<Output = Result<Vec<Taken>, Failure>> + Send + 'a>>;
    enum Event {
        Received(Result<Vec<Taken>, Failure>),
        Handled(Settled),
        Cancelled,
    }
    async fn next_receipt(receiving: &mut Option<Receiving<'_>>) -> Result<Vec<Taken>, Failure> {
        match receiving {
            Some(receive) => receive.await,
            None => std::future::pending().await,
        }
    }

    let pass = &pass;
    let mut passes = FuturesUnordered::new();
    let mut receiving: Option<Receiving<'_>> = None;
    let mut idle_since = Some(Instant::now());
    let mut consumed = Consumed::default();
    loop {
        let room = settings.messages_at_once.saturating_sub(passes.len());
        if receiving.is_none() && room > 0 && !cancel.is_cancelled() {
            let wait = match idle_since {
                Some(since) => settings.idle.saturating_sub(since.elapsed()),
                None => settings.idle,
            };
            if wait.is_zero() {
                info!(
                    idle_s = settings.idle.as_secs(),
                    "the queue stayed empty; exiting"
                );
                break;
            }
            receiving = Some(Box::pin(inbox.take_dispatches(
                room,
                wait.min(LONGEST_WAIT),
                settings.visibility,
            )));
        }
        if receiving.is_none() && passes.is_empty() {
            break;
        }
        let event = tokio::select! {
            received = next_receipt(&mut receiving) => Event::Received(received),
            Some(handled) = passes.next(), if !passes.is_empty() => Event::Handled(handled),
            () = cancel.cancelled(), if receiving.is_none() => Event::Cancelled,
        };
        match event {
            Event::Received(Ok(taken)) => {
                receiving = None;
                for message in taken {
                    idle_since = None;
                    passes.push(if cancel.is_cancelled() {
                        // Taken as SIGTERM came: back to the queue unread.
                        let now = Ok(Outcome::Released {
                            retry_after: Duration::ZERO,
                        });
                        Either::Left(settle(inbox, message, now, busy_retry))
                    } else {
                        Either::Right(handle(inbox, settings, busy_retry, message, pass))
                    });
                }
            }
            Event::Received(Err(failure)) => {
                receiving = None;
                warn!(error = %failure, "receiving from the large-file queue failed");
                tokio::time::sleep(AFTER_FAILED_RECEIVE).await;
            }
            Event::Handled(settled) => {
                match settled {
                    Settled::Acknowledged => consumed.settled += 1,
                    Settled::Released => consumed.released += 1,
                    Settled::Left => consumed.left += 1,
                }
                if passes.is_empty() {
                    idle_since = Some(Instant::now());
                }
            }
            // Woken to stop receiving; the passes see the token themselves.
            Event::Cancelled => {}
        }
    }
    consumed
}

/// One message: its pass, with the message kept hidden while it runs, then settled.
async fn handle<I, P, Fut>(
    inbox: &I,
    settings: &QueueSettings,
    busy_retry: Duration,
    message: Taken,
    pass: &P,
) -> Settled
where
    I: Inbox,
    P: Fn(Dispatch) -> Fut,
    Fut: Future<Output = Result<Outcome, RecordError>>,
{
    let dispatch = match large_file_dispatch(&message.body) {
        Ok(dispatch) => dispatch,
        Err(reason) => {
            warn!(
                reason,
                "not a large-file dispatch; left for the dead-letter queue"
            );
            return Settled::Left;
        }
    };
    let correlation_id = dispatch.correlation_id.clone();
    let outcome = tokio::select! {
        outcome = pass(dispatch) => outcome,
        never = keep_hidden_while_streaming(inbox, &message.receipt, settings.visibility) => match never {},
    };
    if let Err(err) = &outcome {
        warn!(%correlation_id, error = %err, "the pass could not record; left for redelivery");
    }
    settle(inbox, message, outcome, busy_retry).await
}

async fn settle<I: Inbox>(
    inbox: &I,
    message: Taken,
    outcome: Result<Outcome, RecordError>,
    busy_retry: Duration,
) -> Settled {
    let (settled, done) = match outcome {
        Ok(Outcome::Recorded(_) | Outcome::Duplicate) => (
            Settled::Acknowledged,
            inbox.acknowledge(&message.receipt).await,
        ),
        Ok(Outcome::Released { retry_after }) => (
            Settled::Released,
            inbox.keep_hidden(&message.receipt, retry_after).await,
        ),
        Ok(Outcome::Busy) => (
            Settled::Released,
            inbox.keep_hidden(&message.receipt, busy_retry).await,
        ),
        Err(_) => return Settled::Left,
    };
    if let Err(failure) = done {
        // The message comes back when its visibility lapses; the claim makes that harmless.
        warn!(error = %failure, "settling the message failed; it will be delivered again");
    }
    settled
}

/// Renews the message's visibility every third of it, so no other task takes it meanwhile.
async fn keep_hidden_while_streaming<I: Inbox>(
    inbox: &I,
    receipt: &str,
    visibility: Duration,
) -> std::convert::Infallible {
    loop {
        tokio::time::sleep(visibility / 3).await;
        if let Err(failure) = inbox.keep_hidden(receipt, visibility).await {
            warn!(error = %failure, "renewing the message's visibility failed");
        }
    }
}

/// The message's dispatch, if it is one this task can read: tier large, its read pinned to a
/// version or an eTag.
fn large_file_dispatch(body: &str) -> Result<Dispatch, String> {
    let dispatch = parse_dispatch(body).map_err(|err| err.to_string())?;
    if dispatch.tier != Tier::Large {
        return Err(format!("dispatched to tier {}, not large", dispatch.tier));
    }
    if dispatch.object.version_id.is_none() && dispatch.object.etag.is_none() {
        return Err("the object has neither a versionId nor an eTag to pin the read to".into());
    }
    Ok(dispatch)
}

/// The large-file queue through the SQS API.
pub struct SqsInbox {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
}

fn whole_seconds(duration: Duration) -> i32 {
    i32::try_from(duration.as_secs()).unwrap_or(i32::MAX)
}

impl Inbox for SqsInbox {
    async fn take_dispatches(
        &self,
        at_most: usize,
        wait: Duration,
        hidden_for: Duration,
    ) -> Result<Vec<Taken>, Failure> {
        let received = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(i32::try_from(at_most.clamp(1, 10)).unwrap_or(1))
            .wait_time_seconds(whole_seconds(wait).max(1))
            .visibility_timeout(whole_seconds(hidden_for))
            .send()
            .await
            .map_err(|err| Failure::of_call("SQS ReceiveMessage", &err))?;
        Ok(received
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|message| {
                Some(Taken {
                    receipt: message.receipt_handle?,
                    body: message.body.unwrap_or_default(),
                })
            })
            .collect())
    }

    async fn keep_hidden(&self, receipt: &str, hidden_for: Duration) -> Result<(), Failure> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(whole_seconds(hidden_for))
            .send()
            .await
            .map_err(|err| Failure::of_call("SQS ChangeMessageVisibility", &err))?;
        Ok(())
    }

    async fn acknowledge(&self, receipt: &str) -> Result<(), Failure> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|err| Failure::of_call("SQS DeleteMessage", &err))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use audit::Status;
    use chrono::Utc;
    use object_events::{ObjectKey, S3Object};
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    /// A queue in memory that records what was done to each message.
    #[derive(Default)]
    struct Recorded {
        waiting: Mutex<VecDeque<Taken>>,
        acknowledged: Mutex<Vec<String>>,
        hidden: Mutex<Vec<(String, Duration)>>,
    }

    impl Inbox for Recorded {
        async fn take_dispatches(
            &self,
            at_most: usize,
            wait: Duration,
            _hidden_for: Duration,
        ) -> Result<Vec<Taken>, Failure> {
            let taken: Vec<Taken> = {
                let mut waiting = self.waiting.lock().expect("lock");
                let n = at_most.min(waiting.len());
                waiting.drain(..n).collect()
            };
            if taken.is_empty() {
                tokio::time::sleep(wait).await;
            }
            Ok(taken)
        }

        async fn keep_hidden(&self, receipt: &str, hidden_for: Duration) -> Result<(), Failure> {
            let mut hidden = self.hidden.lock().expect("lock");
            hidden.push((receipt.to_owned(), hidden_for));
            Ok(())
        }

        async fn acknowledge(&self, receipt: &str) -> Result<(), Failure> {
            let mut acknowledged = self.acknowledged.lock().expect("lock");
            acknowledged.push(receipt.to_owned());
            Ok(())
        }
    }

    fn inbox(bodies: &[String]) -> Recorded {
        let waiting = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| Taken {
                receipt: format!("receipt-{i}"),
                body: body.clone(),
            })
            .collect();
        Recorded {
            waiting: Mutex::new(waiting),
            ..Recorded::default()
        }
    }

    fn dispatch(key: &str) -> String {
        let object = S3Object::put(
            "uploads",
            ObjectKey::new(key).expect("key"),
            1 << 30,
            Some("etag".into()),
        );
        serde_json::to_string(&Dispatch::new(object, Tier::Large, "large", Utc::now()))
            .expect("JSON")
    }

    fn settings(messages_at_once: usize) -> QueueSettings {
        QueueSettings {
            url: "queue".into(),
            messages_at_once,
            idle: Duration::from_millis(300),
            visibility: Duration::from_millis(300),
        }
    }

    const LEASE: Duration = Duration::from_secs(120);

    #[tokio::test]
    async fn passes_run_a_few_at_a_time_and_the_task_exits_once_idle() {
        let bodies: Vec<String> = (0..5).map(|i| dispatch(&format!("big/{i}.bin"))).collect();
        let inbox = inbox(&bodies);
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let started = Instant::now();
        let consumed = consume(
            &inbox,
            &settings(2),
            LEASE,
            &CancellationToken::new(),
            |_| async {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                // Long enough for one visibility renewal (every third of 300 ms).
                tokio::time::sleep(Duration::from_millis(150)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(Outcome::Recorded(Status::Succeeded))
            },
        )
        .await;
        assert_eq!(
            consumed,
            Consumed {
                settled: 5,
                released: 0,
                left: 0
            }
        );
        assert_eq!(most.load(Ordering::SeqCst), 2, "two objects at once");
        let mut acknowledged = inbox.acknowledged.lock().expect("lock").clone();
        acknowledged.sort();
        assert_eq!(
            acknowledged,
            (0..5).map(|i| format!("receipt-{i}")).collect::<Vec<_>>()
        );
        let renewed = inbox.hidden.lock().expect("lock").clone();
        assert!(
            renewed
                .iter()
                .all(|(_, hidden)| *hidden == Duration::from_millis(300)),
            "renewed for the whole visibility: {renewed:?}"
        );
        assert!(!renewed.is_empty(), "visibility renewed while streaming");
        // 3 rounds of 150 ms, then the idle time.
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(750), "{took:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }

    #[tokio::test]
    async fn sigterm_gives_the_object_back_and_ends_without_waiting_for_idle() {
        let inbox = inbox(&[dispatch("big/stopped.bin")]);
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            stop.cancel();
        });
        let mut slow = settings(1);
        slow.idle = Duration::from_secs(30);
        let started = Instant::now();
        let consumed = consume(&inbox, &slow, LEASE, &cancel, |_| async {
            cancel.cancelled().await;
            Ok(Outcome::Released {
                retry_after: Duration::ZERO,
            })
        })
        .await;
        assert_eq!(consumed.released, 1);
        assert_eq!(
            *inbox.hidden.lock().expect("lock"),
            [("receipt-0".to_owned(), Duration::ZERO)],
            "delivered again at once"
        );
        assert!(inbox.acknowledged.lock().expect("lock").is_empty());
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn other_tiers_and_bodies_are_left_and_a_held_claim_waits_out_its_lease() {
        let thumbnail = dispatch("big/a.bin").replace("\"large\"", "\"thumbnail\"");
        let inbox = inbox(&["not JSON".into(), thumbnail, dispatch("big/held.bin")]);
        let consumed = consume(
            &inbox,
            &settings(3),
            LEASE,
            &CancellationToken::new(),
            |_| async { Ok(Outcome::Busy) },
        )
        .await;
        assert_eq!(
            consumed,
            Consumed {
                settled: 0,
                released: 1,
                left: 2
            }
        );
        assert_eq!(
            *inbox.hidden.lock().expect("lock"),
            [("receipt-2".to_owned(), LEASE)]
        );
        assert!(large_file_dispatch(&dispatch("big/b.bin")).is_ok());
    }
}

//! How many large-file tasks the large-file queue needs, decided from what the router sees: the
//! queue's backlog and the tasks running. Pure; `dispatch.rs` asks AWS and acts on it.
//!
//! Each task is started into a numbered slot, named in its `startedBy`. Routers that race see
//! the same free slots and start the same ones; once started, a slot holding two tasks keeps
//! its oldest and the others are stopped (each gives back whatever it took), so the fleet
//! settles at no more than `max_tasks` however many routers ran at once.

/// `startedBy` of a task in slot N is this prefix and N (ECS allows 36 characters).
pub const SLOT_PREFIX: &str = "s3-triage-slot-";

/// The fleet's bounds, as terraform sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fleet {
    pub max_tasks: u32,
    /// Objects one task streams at once (the task's `TRIAGE_LARGE_MESSAGES_PER_TASK`).
    pub messages_per_task: u32,
}

/// A task the cluster reports as running or about to (desired status RUNNING).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunningTask {
    pub arn: String,
    /// Its slot, from `startedBy`; None for a task someone else started.
    pub slot: Option<u32>,
    /// When ECS created it, in epoch milliseconds, when reported.
    pub created_at_ms: Option<i64>,
}

pub fn started_by(slot: u32) -> String {
    format!("{SLOT_PREFIX}{slot}")
}

pub fn slot_of(started_by: &str) -> Option<u32> {
    started_by.strip_prefix(SLOT_PREFIX)?.parse().ok()
}

impl Fleet {
    /// Tasks the backlog calls for: enough that each has `messages_per_task` objects, at most
    /// `max_tasks`.
    pub fn wanted(&self, backlog: u64) -> u32 {
        let per_task = u64::from(self.messages_per_task.max(1));
        u32::try_from(backlog.div_ceil(per_task))
            .unwrap_or(u32::MAX)
            .min(self.max_tasks)
    }

    /// The slots to start tasks in, lowest free first: none while the running tasks cover the
    /// backlog.
    pub fn slots_to_start(&self, backlog: u64, running: &[RunningTask]) -> Vec<u32> {
        let running_count = u32::try_from(running.len()).unwrap_or(u32::MAX);
        let missing = self.wanted(backlog).saturating_sub(running_count);
        (0..self.max_tasks)
            .filter(|slot| !running.iter().any(|task| task.slot == Some(*slot)))
            .take(usize::try_from(missing).unwrap_or(usize::MAX))
            .collect()
    }
}

/// The tasks racing routers started in a slot already taken: all but the first created in
/// each slot (by creation time, then ARN, so every router picks the same).
pub fn surplus(running: &[RunningTask]) -> Vec<String> {
    let mut slotted: Vec<&RunningTask> = running.iter().filter(|t| t.slot.is_some()).collect();
    slotted
        .sort_by(|a, b| (a.slot, a.created_at_ms, &a.arn).cmp(&(b.slot, b.created_at_ms, &b.arn)));
    slotted
        .windows(2)
        .filter(|pair| pair[0].slot == pair[1].slot)
        .map(|pair| pair[1].arn.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(arn: &str, slot: Option<u32>, created_at_ms: Option<i64>) -> RunningTask {
        RunningTask {
            arn: arn.into(),
            slot,
            created_at_ms,
        }
    }

    const FLEET: Fleet = Fleet {
        max_tasks: 4,
        messages_per_task: 2,
    };

    #[test]
    fn the_backlog_calls_for_tasks_up_to_the_maximum() {
        assert_eq!(FLEET.wanted(0), 0);
        assert_eq!(FLEET.wanted(1), 1);
        assert_eq!(FLEET.wanted(2), 1);
        assert_eq!(FLEET.wanted(3), 2);
        assert_eq!(FLEET.wanted(20), 4);
        assert_eq!(FLEET.wanted(u64::MAX), 4);
        assert_eq!(FLEET.slots_to_start(20, &[]), [0, 1, 2, 3]);
        assert_eq!(FLEET.slots_to_start(0, &[]), Vec::<u32>::new());
    }

    #[test]
    fn running_tasks_count_and_their_slots_are_skipped() {
        let running = [task("a", Some(0), None), task("b", Some(2), None)];
        assert_eq!(FLEET.slots_to_start(20, &running), [1, 3]);
        assert_eq!(FLEET.slots_to_start(5, &running), [1]);
        assert_eq!(
            FLEET.slots_to_start(4, &running),
            Vec::<u32>::new(),
            "two tasks cover four objects"
        );
        // A task started by someone else counts, and holds no slot.
        let foreign = [task("x", None, None)];
        assert_eq!(FLEET.slots_to_start(4, &foreign), [0]);
    }

    #[test]
    fn racing_routers_start_the_same_slots_and_agree_on_which_task_stays() {
        let seen = [task("a", Some(0), None)];
        let first = FLEET.slots_to_start(6, &seen);
        let second = FLEET.slots_to_start(6, &seen);
        assert_eq!(first, second, "the same observation, the same slots");
        let after = [
            task("a", Some(0), Some(1)),
            task("late", Some(1), Some(30)),
            task("early", Some(1), Some(20)),
            task("c", Some(2), Some(25)),
            task("c2", Some(2), Some(25)),
            task("x", None, Some(5)),
        ];
        assert_eq!(surplus(&after), ["late", "c2"]);
        let reversed: Vec<RunningTask> = after.iter().rev().cloned().collect();
        assert_eq!(
            surplus(&reversed),
            ["late", "c2"],
            "the order seen does not matter"
        );
    }

    #[test]
    fn slots_are_named_in_started_by() {
        assert_eq!(started_by(7), "s3-triage-slot-7");
        assert!(started_by(u32::MAX).len() <= 36);
        assert_eq!(slot_of("s3-triage-slot-7"), Some(7));
        assert_eq!(slot_of("ecs-svc/123"), None);
    }
}

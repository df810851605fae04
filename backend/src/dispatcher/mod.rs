//! The dispatcher: one consumer of the `k8x-dispatcher` group.
//!
//! For each delivery it finds the services it triggers, records the event (when there are any), creates one execution per
//! (event, service) and hands each to the executor — and only then commits. A crash anywhere before the
//! commit means redelivery; since execution ids derive from (event, service) and an executor launches only a
//! queued execution, redelivery never runs anything twice.
//!
//! Deliveries are handled side by side ([`IN_FLIGHT`] at most), except that those sharing an ordering key
//! (subject, else source) go one after another in bus order ([`flow`]): one slow launch holds up its own key
//! only. Commits follow every [`COMMIT_EVERY`], up to the first delivery not yet handled.
//!
//! Poison never stops the line: a record that is no CloudEvent is dead-lettered at once, and one whose handling
//! keeps failing for a reason a retry will not fix (say, a value the database refuses) after
//! [`MAX_ATTEMPTS`]; both with the reason and the original record, then committed past. Failures a retry may fix
//! (the database or the executor unreachable) are retried for as long as they last, and [`Readiness`] shows it.

mod flow;
mod handle;
pub mod index;
mod manual;
pub mod queue;
mod readiness;
mod relaunch;
#[cfg(test)]
mod tests;
pub mod ticker;

use std::{sync::Arc, time::Duration};

use cloudevents::AttributesReader;
use tokio_util::sync::CancellationToken;

pub use manual::{request_run, RunError, RunRequested, RUN_REQUESTED};
pub use readiness::Readiness;
pub use relaunch::StoredLaunches;

use crate::{
    bus::{Bus, Delivery, Subscription, Verdict},
    executor::Executor,
    store::{NewDeadLetter, Store},
};

/// The consumer group every k8x replica's dispatcher joins.
pub const GROUP: &str = "k8x-dispatcher";

/// How often a commit is tried before the dispatcher moves on.
const COMMIT_ATTEMPTS: u32 = 5;

/// How often handling may fail for a reason a retry will not fix before the record is dead-lettered.
pub const MAX_ATTEMPTS: u32 = 5;

/// The most deliveries handled at once.
pub const IN_FLIGHT: usize = 32;
/// The most deliveries taken from the bus and not yet committed (handled, being handled, or waiting for their
/// key): memory stays bounded whatever the bus holds.
const MAX_TAKEN: usize = 1024;
/// How often handled deliveries are committed.
pub const COMMIT_EVERY: Duration = Duration::from_millis(50);

/// The slowest retry of a failing step.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Dispatches events from the bus to executors.
#[derive(Clone)]
pub struct Dispatcher {
    /// Executions and events are recorded here.
    store: Store,
    /// Where events come from.
    bus: Arc<dyn Bus>,
    /// What starts executions.
    executor: Arc<dyn Executor>,
    /// Whether the line moves.
    readiness: Readiness,
    /// The most executions one outside event may cause through chains.
    chain_budget: u64,
    /// The stored services, parsed and indexed by event type.
    catalog: index::Catalog,
}

impl Dispatcher {
    pub fn new(store: Store, bus: Arc<dyn Bus>, executor: Arc<dyn Executor>) -> Self {
        let catalog = index::Catalog::new(store.clone());
        Self {
            store,
            bus,
            executor,
            readiness: Readiness::default(),
            chain_budget: crate::chain::MAX_EXECUTIONS,
            catalog,
        }
    }

    /// The same dispatcher, letting one outside event cause at most `budget` executions through chains.
    pub fn limiting_chains_to(self, budget: u64) -> Self {
        Self { chain_budget: budget, ..self }
    }

    /// The same dispatcher, reporting whether it keeps up to `readiness`.
    pub fn reporting_to(self, readiness: Readiness) -> Self {
        Self { readiness, ..self }
    }

    /// Consumes until `shutdown` is cancelled. A step that fails is retried with backoff, never skipped.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut subscription = loop {
            match self.bus.subscribe(GROUP).await {
                Ok(subscription) => break subscription,
                Err(err) => {
                    tracing::error!(%err, "dispatcher cannot subscribe; retrying");
                    if !pause(&shutdown, MAX_BACKOFF / 10).await {
                        return;
                    }
                }
            }
        };
        let mut backoff = Backoff::default();
        let mut flow = flow::Flow::default();
        let mut handling = tokio::task::JoinSet::new();
        let mut commit_due = tokio::time::interval(COMMIT_EVERY);
        commit_due.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stopping = false;
        while !stopping {
            let room = flow.in_flight() < IN_FLIGHT && flow.taken() < MAX_TAKEN;
            let step = tokio::select! {
                _ = shutdown.cancelled() => Step::Stop,
                Some(done) = handling.join_next(), if !handling.is_empty() => Step::Handled(done),
                _ = commit_due.tick(), if flow.can_commit() => Step::Commit,
                delivery = subscription.next(), if room => Step::Delivered(delivery),
            };
            match step {
                Step::Stop => stopping = true,
                Step::Commit => {
                    if !commit(subscription.as_mut(), flow.committable(), &shutdown).await {
                        stopping = true;
                    }
                }
                Step::Handled(done) => match done {
                    Ok((delivery, true)) => {
                        if let Some(next) = flow.finish(delivery) {
                            handling.spawn(self.clone().handle_in_turn(next, shutdown.clone()));
                        }
                    }
                    // Only a stop ends handling unfinished (a panic is caught and dead-lettered).
                    Ok((_, false)) | Err(_) => stopping = true,
                },
                Step::Delivered(Ok(delivery)) => {
                    // The bus answers again (a failed read said otherwise).
                    self.readiness.moving();
                    backoff = Backoff::default();
                    if let Some(ready) = flow.add(delivery) {
                        handling.spawn(self.clone().handle_in_turn(ready, shutdown.clone()));
                    }
                }
                Step::Delivered(Err(err)) => {
                    tracing::error!(%err, "reading the bus failed");
                    self.readiness.failing(format!("reading the bus failed: {err}"));
                    if !pause(&shutdown, backoff.next()).await {
                        stopping = true;
                    }
                }
            }
        }
        // Stopping: what is being handled ends soon (a retry waiting for the database gives up at once), and
        // what finished is committed; the rest comes again after a restart.
        while let Some(done) = handling.join_next().await {
            if let Ok((delivery, true)) = done {
                let _ = flow.finish(delivery);
            }
        }
        commit(subscription.as_mut(), flow.committable(), &CancellationToken::new()).await;
        // A clean stop lets go of the embedded bus's group at once. (A Kafka consumer with static membership stays
        // in its group until its session times out, 10 s: a restart within that takes its partitions back.)
        subscription.close().await;
    }
}

/// What the consume loop does next.
enum Step {
    Stop,
    Commit,
    Handled(Result<(Delivery, bool), tokio::task::JoinError>),
    Delivered(crate::bus::Result<Delivery>),
}

/// Commits each delivery (per partition, everything up to it). A commit that keeps failing (say, the partition
/// moved to another replica) is given up: the work is done and idempotent, so at worst the events are delivered
/// again and change nothing. `false` when k8x stops while retrying.
async fn commit(subscription: &mut dyn Subscription, deliveries: Vec<Delivery>, shutdown: &CancellationToken) -> bool {
    for delivery in deliveries {
        let mut backoff = Backoff::default();
        for attempt in 1..=COMMIT_ATTEMPTS {
            match subscription.commit(&delivery).await {
                Ok(()) => break,
                Err(err) if attempt < COMMIT_ATTEMPTS => {
                    tracing::warn!(%err, offset = delivery.position.offset, attempt, "committing failed; retrying");
                    if !pause(shutdown, backoff.next()).await {
                        return false;
                    }
                }
                Err(err) => tracing::error!(%err, offset = delivery.position.offset, "committing failed; moving on"),
            }
        }
    }
    true
}

impl Dispatcher {
    /// Settles a delivery on a task of its own and hands it back with whether it was settled (`false`: k8x
    /// stopped first). A panic while handling it makes it a dead letter rather than stopping the line.
    async fn handle_in_turn(self, delivery: Delivery, shutdown: CancellationToken) -> (Delivery, bool) {
        use futures::FutureExt;
        let settled = std::panic::AssertUnwindSafe(self.settle(&delivery, &shutdown)).catch_unwind().await;
        match settled {
            Ok(settled) => (delivery, settled),
            Err(panic) => {
                let reason = format!("handling it panicked: {}", crate::panics::message(&*panic));
                let settled = self.dead_letter(&delivery, reason, 1, &shutdown).await;
                (delivery, settled)
            }
        }
    }

    /// Handles a delivery, or dead-letters it: `false` only when k8x stops first.
    async fn settle(&self, delivery: &Delivery, shutdown: &CancellationToken) -> bool {
        let event = match &delivery.event {
            Ok(event) => event,
            Err(why) => return self.dead_letter(delivery, format!("not a CloudEvent: {why}"), 1, shutdown).await,
        };
        let mut backoff = Backoff::default();
        let mut failures = 0;
        loop {
            let err = match self.handle(event).await {
                Ok(()) => {
                    self.readiness.moving();
                    return true;
                }
                Err(err) => err,
            };
            self.readiness.failing(format!("event `{}`: {err}", event.id().escape_debug()));
            if !err.is_transient() {
                failures += 1;
                if failures >= MAX_ATTEMPTS {
                    return self.dead_letter(delivery, err.to_string(), failures, shutdown).await;
                }
            }
            tracing::error!(%err, offset = delivery.position.offset, failures, "dispatching failed; retrying");
            if !pause(shutdown, backoff.next()).await {
                return false;
            }
        }
    }

    /// Keeps the record as a dead letter: first where the bus keeps them (Kafka's dead-letter topic, with the
    /// original bytes), then in the table admins list and replay from, each write retried while its target is
    /// away. Should k8x stop in between, the record comes again: the table keeps it once, the topic may get a
    /// second copy (at least once; its `k8x-dead-letter-*` headers name the original record). A topic that keeps
    /// refusing it (too large, not allowed) is given up after [`MAX_ATTEMPTS`] and the table row says so.
    async fn dead_letter(
        &self,
        delivery: &Delivery,
        mut reason: String,
        attempts: u32,
        shutdown: &CancellationToken,
    ) -> bool {
        let verdict = Verdict { group: GROUP, reason: &reason, attempts };
        let bus = || self.bus.dead_letter(delivery, verdict);
        match self.persist("putting a dead letter on the bus", shutdown, Some(MAX_ATTEMPTS), bus).await {
            Persisted::Done => {}
            Persisted::Stopped => return false,
            Persisted::GaveUp(err) => reason.push_str(&format!(" (not on the dead-letter topic: {err})")),
        }
        let event = delivery.event.as_ref().ok();
        let letter = NewDeadLetter {
            group: GROUP.to_owned(),
            position: format!("{}/{}/{}", delivery.origin, delivery.position.partition, delivery.position.offset),
            reason: reason.clone(),
            // A decodable event is kept as structured JSON (replayable on either bus); anything else as it came.
            record: event.and_then(|e| serde_json::to_string(e).ok()).unwrap_or_else(|| delivery.raw.clone()),
            event_id: event.map(|e| e.id().to_owned()),
            event_type: event.map(|e| e.ty().to_owned()),
            attempts: attempts.try_into().unwrap_or(i32::MAX),
        };
        let table = || self.store.add_dead_letter(letter.clone());
        if !matches!(self.persist("keeping a dead letter", shutdown, None, table).await, Persisted::Done) {
            return false;
        }
        tracing::warn!(offset = delivery.position.offset, %reason, "gave up on a record; it is a dead letter now");
        self.readiness.moving();
        true
    }

    /// Runs `write` until it succeeds (or `limit` attempts failed), with backoff, reporting failures as `what`
    /// failing.
    async fn persist<F, Fut, E>(
        &self,
        what: &str,
        shutdown: &CancellationToken,
        limit: Option<u32>,
        write: F,
    ) -> Persisted
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(), E>>,
        E: std::fmt::Display,
    {
        let mut backoff = Backoff::default();
        let mut failures = 0;
        loop {
            match write().await {
                Ok(()) => return Persisted::Done,
                Err(err) => {
                    failures += 1;
                    if limit.is_some_and(|limit| failures >= limit) {
                        tracing::error!(%err, "{what} failed {failures} times; giving up");
                        return Persisted::GaveUp(err.to_string());
                    }
                    tracing::error!(%err, "{what} failed; retrying");
                    self.readiness.failing(format!("{what} failed: {err}"));
                    if !pause(shutdown, backoff.next()).await {
                        return Persisted::Stopped;
                    }
                }
            }
        }
    }
}

/// How [`Dispatcher::persist`] ended.
enum Persisted {
    Done,
    GaveUp(String),
    Stopped,
}

/// Sleeps, unless shutdown comes first; `false` means stop.
async fn pause(shutdown: &CancellationToken, how_long: Duration) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(how_long) => true,
    }
}

/// Doubling delays from 100 ms up to [`MAX_BACKOFF`].
struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Self(Duration::from_millis(100))
    }
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let now = self.0;
        self.0 = (self.0 * 2).min(MAX_BACKOFF);
        now
    }
}

//! The dispatcher: one consumer of the `k8x-dispatcher` group.
//!
//! For each delivery it records the event, finds the services it triggers, creates one execution per
//! (event, service) and hands each to the executor — and only then commits. A crash anywhere before the
//! commit means redelivery; since execution ids derive from (event, service) and an executor launches only a
//! queued execution, redelivery never runs anything twice.

mod handle;
mod manual;

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

pub use manual::{request_run, RunError, RunRequested, RUN_REQUESTED};

use crate::{bus::Bus, executor::Executor, store::Store};

/// The consumer group every k8x replica's dispatcher joins.
pub const GROUP: &str = "k8x-dispatcher";

/// How often a commit is tried before the dispatcher moves on.
const COMMIT_ATTEMPTS: u32 = 5;

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
}

impl Dispatcher {
    pub fn new(store: Store, bus: Arc<dyn Bus>, executor: Arc<dyn Executor>) -> Self {
        Self { store, bus, executor }
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
        loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => return,
                delivery = subscription.next() => delivery,
            };
            let delivery = match delivery {
                Ok(delivery) => delivery,
                Err(err) => {
                    tracing::error!(%err, "reading the bus failed");
                    if !pause(&shutdown, backoff.next()).await {
                        return;
                    }
                    continue;
                }
            };
            backoff = Backoff::default();
            while let Err(err) = self.handle(&delivery).await {
                tracing::error!(%err, offset = delivery.position.offset, "dispatching failed; retrying");
                if !pause(&shutdown, backoff.next()).await {
                    return;
                }
            }
            // A commit that keeps failing (say, the partition moved to another replica) is given up: the work
            // is done and idempotent, so at worst the event is delivered again and changes nothing.
            for attempt in 1..=COMMIT_ATTEMPTS {
                match subscription.commit(&delivery).await {
                    Ok(()) => break,
                    Err(err) if attempt < COMMIT_ATTEMPTS => {
                        tracing::warn!(%err, offset = delivery.position.offset, attempt, "committing failed; retrying");
                        if !pause(&shutdown, backoff.next()).await {
                            return;
                        }
                    }
                    Err(err) => {
                        tracing::error!(%err, offset = delivery.position.offset, "committing failed; moving on")
                    }
                }
            }
        }
    }
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

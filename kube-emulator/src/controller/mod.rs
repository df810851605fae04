//! The control plane's background work: one loop that follows every change in the store, hands new and
//! deleted pods to the kubelet, and reconciles every Job (on each change and on a short tick, for
//! deadlines, backoff and TTLs).
//!
//! - [`job`]: the Job controller.
//! - [`gc`]: deletion with owner-reference garbage collection (used by the API routes too).

pub mod gc;
pub mod job;

use std::sync::Arc;
use std::time::Duration;

use crate::kinds::Kind;
use crate::kubelet::Stop;
use crate::meta;
use crate::shared::Shared;
use crate::store::EventType;

/// How often Jobs are reconciled when nothing changes (deadlines, retry pauses, TTLs).
const TICK: Duration = Duration::from_millis(200);

/// Runs until shutdown.
pub async fn run(shared: Arc<Shared>) {
    let mut changed = shared.store.subscribe();
    let mut tick = tokio::time::interval(TICK);
    let mut jobs = job::JobController::default();
    let mut cursor = 0;
    loop {
        changed.borrow_and_update();
        for change in shared.store.history_since(cursor) {
            cursor = change.rv;
            if change.kind != Kind::Pod {
                continue;
            }
            match change.event_type {
                EventType::Added => shared.kubelet.start(&shared, &change.object),
                EventType::Deleted => {
                    let uid = meta::uid(&change.object);
                    shared.kubelet.stop(uid, Stop::Deleted);
                    shared.logs.remove_pod(uid);
                }
                EventType::Modified => {}
            }
        }
        jobs.reconcile_all(&shared);
        tokio::select! {
            _ = changed.changed() => {}
            _ = tick.tick() => {}
            _ = shared.shutdown.cancelled() => return,
        }
    }
}

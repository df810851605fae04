//! The queue: launches the executions that wait — a retry whose backoff has passed, one held back by its
//! service's `max_concurrency` or the host's cap until a slot frees, one a stopped k8x left queued — and ends,
//! as interrupted, the executions whose process died (their lease ran out). Every k8x process runs one; the
//! executors' claims make sure each execution starts once, and the claims count the service's slots.

use std::{collections::HashMap, sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use crate::{
    executor::{
        stored::{NotLaunchable, Relaunch},
        Executor,
    },
    store::{Ending, Store},
};

/// How often the queue is looked at without a wake-up (executions queued by other processes, backoffs).
const POLL: Duration = Duration::from_secs(1);
/// How often executions whose process died are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// Executions considered per pass.
const BATCH: u64 = 200;

/// Runs until `shutdown` is cancelled.
pub async fn run(store: Store, executor: Arc<dyn Executor>, shutdown: CancellationToken) {
    let mut swept = tokio::time::Instant::now() - SWEEP_EVERY;
    loop {
        if swept.elapsed() >= SWEEP_EVERY {
            swept = tokio::time::Instant::now();
            match store.interrupt_abandoned("the k8x process running it stopped (its lease ran out)", None).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(executions = n, "ended executions whose k8x process is gone as interrupted"),
                Err(err) => tracing::warn!(%err, "could not look for executions whose process is gone"),
            }
            // A cancel of a queued execution whose ending could not be recorded at once.
            for id in store.cancelled_waiting().await.unwrap_or_default() {
                if let Err(err) = store.finish_execution(&id, &Ending::cancelled()).await {
                    tracing::warn!(%err, execution = %id, "could not end a cancelled execution");
                }
            }
        }
        if let Err(err) = pass(&store, executor.as_ref(), &shutdown).await {
            tracing::warn!(%err, "launching queued executions failed; trying again");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = store.queue_changed() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Launches what may start now, oldest first.
async fn pass(store: &Store, executor: &dyn Executor, shutdown: &CancellationToken) -> Result<(), String> {
    if !executor.has_room() {
        return Ok(());
    }
    // Services at their cap are left out, so what waits behind them is not held up.
    let mut active: HashMap<String, i64> = store.active_by_service().await.map_err(|e| e.to_string())?;
    let full: Vec<String> = capped(store, &active).await?;
    let waiting = store.launchable(BATCH, &full).await.map_err(|e| e.to_string())?;
    for row in waiting {
        if shutdown.is_cancelled() || !executor.has_room() {
            break;
        }
        let launch = match (super::StoredLaunches { store: store.clone() }).relaunch(&row).await {
            Ok(launch) => launch,
            Err(NotLaunchable::Gone(why)) => {
                let ending = Ending::failed(None, format!("cannot be launched: {why}"));
                store.finish_execution(&row.id, &ending).await.map_err(|e| e.to_string())?;
                continue;
            }
            Err(NotLaunchable::Store(err)) => return Err(err.to_string()),
        };
        let busy = active.entry(row.service.clone()).or_default();
        if launch.service.max_concurrency.is_some_and(|max| *busy >= i64::from(max)) {
            continue;
        }
        *busy += 1;
        executor.launch(launch).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The services with active executions that are at their `max_concurrency`.
async fn capped(store: &Store, active: &HashMap<String, i64>) -> Result<Vec<String>, String> {
    let mut full = Vec::new();
    for (service, busy) in active {
        let row = store.service(service).await.map_err(|e| e.to_string())?;
        let max = row.and_then(|row| crate::catalog::read_service(&row).ok()).and_then(|spec| spec.max_concurrency);
        if max.is_some_and(|max| *busy >= i64::from(max)) {
            full.push(service.clone());
        }
    }
    Ok(full)
}

//! The relay: puts completion events from the outbox on the bus, then deletes them. Every k8x process runs
//! one; a claim with a lease keeps two from relaying the same row at once, and rows of a relay that died are
//! taken over once its lease runs out. An event relayed twice (a crash between publish and delete) is a
//! duplicate by id, which the dispatcher handles once.

use std::{sync::Arc, time::Duration};

use cloudevents::AttributesReader;
use tokio_util::sync::CancellationToken;

use crate::{bus::Bus, store::Store};

/// Rows taken per pass.
const BATCH: u64 = 100;
/// How long a pass holds its rows.
const LEASE: Duration = Duration::from_secs(30);
/// How often the outbox is looked at without a wake-up (rows written by other processes, retries).
const POLL: Duration = Duration::from_secs(1);
/// The longest wait after a failure.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long a stopping k8x keeps relaying what its last executions announced.
const LAST_PASS: Duration = Duration::from_secs(5);

/// Relays until `stop` is cancelled, then makes one last bounded pass.
pub async fn run(store: Store, bus: Arc<dyn Bus>, stop: CancellationToken) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match pass(&store, bus.as_ref()).await {
            Ok(0) => {
                backoff = Duration::from_millis(100);
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = store.outbox_written() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
            Ok(_) => backoff = Duration::from_millis(100),
            Err(err) => {
                tracing::warn!(%err, "relaying completion events failed; retrying");
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    // What was announced while stopping goes out now if the bus lets it; else the next start relays it.
    let last = async {
        while let Ok(relayed) = pass(&store, bus.as_ref()).await {
            if relayed == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(LAST_PASS, last).await;
}

/// Relays one batch; returns how many rows it settled.
async fn pass(store: &Store, bus: &dyn Bus) -> Result<usize, String> {
    let claim = uuid::Uuid::new_v4().to_string();
    let lease = chrono::Duration::from_std(LEASE).expect("a small duration");
    let rows = store.claim_outbox(&claim, BATCH, lease).await.map_err(|e| e.to_string())?;
    let mut done = Vec::with_capacity(rows.len());
    let mut failure = None;
    for (id, event) in rows {
        match event {
            Ok(event) => match bus.publish(&event).await {
                Ok(()) => done.push(id),
                Err(err) => {
                    failure = Some(format!("publishing `{}`: {err}", event.id()));
                    break;
                }
            },
            Err(why) => {
                tracing::error!(id, %why, "an outbox row is no event; dropped");
                done.push(id);
            }
        }
    }
    store.delete_outbox(&done).await.map_err(|e| e.to_string())?;
    if let Some(failure) = failure {
        // The rest goes back at once rather than when the lease runs out.
        let _ = store.release_outbox(&claim).await;
        return Err(failure);
    }
    Ok(done.len())
}

//! Recording an execution: its log lines, in batches, and its ending (which the store announces with the
//! completion event `k8x.execution.*` through its outbox: the executor never publishes to the bus).
//!
//! A recorder can take over an execution that another recorder began (after a k8x restart): its line
//! numbers go on from the last stored one.

use secrecy::ExposeSecret;
use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use backon::{ExponentialBuilder, Retryable};
use chrono::Utc;
use tokio::task::JoinHandle;

use super::{
    mask::Masker,
    spool::{Captured, Spool, Taken},
    Launch,
};
use crate::store::{Ending, LogCursor, NewLogLine, Settled, Store, StoreError};

/// Most lines written in one statement (SQLite binds at most 32,766 values; a line binds seven).
const BATCH: usize = 4_000;
/// How long the writer gathers lines before a small write, trading a little latency for far fewer writes.
const GATHER: Duration = Duration::from_millis(40);

/// Where an executor sends an execution's output: lines are queued ([`Spool`]) without ever waiting for the
/// database, so a program is never slowed by its own logging. Cheap to clone: one per stream reader; the
/// writer stops once every clone is gone and every line is stored.
#[derive(Clone)]
pub struct LogSink {
    shared: Arc<Shared>,
}

struct Shared {
    spool: Arc<Spool>,
    /// Secret values replaced by `***` before a line is stored (and cut).
    masker: Masker,
    /// Lines offered so far, and how many are kept.
    offered: AtomicU64,
    max_lines: u64,
    /// The line saying that the cap was reached has been queued.
    capped: AtomicBool,
}

impl Drop for Shared {
    /// The last sink is gone: no more lines will come.
    fn drop(&mut self) {
        self.spool.close();
    }
}

impl LogSink {
    /// Records one line from `stream` (`stdout`, `stderr`, `k8x`).
    pub async fn line(&self, stream: &'static str, text: impl Into<String>) {
        self.send(stream, text.into(), None);
    }

    /// Records one line read from a pod container's log, with its position there.
    pub async fn line_at(&self, stream: &'static str, text: impl Into<String>, at: LogCursor) {
        self.send(stream, text.into(), Some(at));
    }

    fn send(&self, stream: &'static str, text: String, source: Option<LogCursor>) {
        let shared = &self.shared;
        let offered = shared.offered.fetch_add(1, Ordering::Relaxed);
        if offered < shared.max_lines {
            let text = shared.masker.mask(&text);
            shared.spool.push(Captured { stream, text, source });
        } else if !shared.capped.swap(true, Ordering::Relaxed) {
            let text = format!(
                "k8x: this execution's log reached its limit of {} lines (K8X_LOG_MAX_LINES); the rest of its output is not kept",
                shared.max_lines
            );
            shared.spool.push(Captured { stream: "k8x", text, source });
        }
    }
}

/// Records one execution.
pub struct Recorder {
    store: Store,
    launch: Launch,
    sink: Option<LogSink>,
    writer: JoinHandle<()>,
}

impl Recorder {
    /// Starts the log writer for `launch`, which keeps at most `max_lines` lines of its output.
    pub fn start(store: Store, launch: Launch, max_lines: u64) -> Self {
        let spool = Arc::new(Spool::default());
        let masker = Masker::new(launch.service.secrets.values().map(ExposeSecret::expose_secret));
        let writer = tokio::spawn(write_lines(store.clone(), launch.execution_id.clone(), spool.clone()));
        let shared =
            Arc::new(Shared { spool, masker, offered: AtomicU64::new(0), max_lines, capped: AtomicBool::new(false) });
        // The cap is the execution's, not this recorder's: lines an earlier recorder stored (before a restart)
        // count too.
        let (counted, id) = (Arc::downgrade(&shared), launch.execution_id.clone());
        let earlier = store.clone();
        tokio::spawn(async move {
            if let (Ok(stored), Some(shared)) = (earlier.last_log_seq(&id).await, counted.upgrade()) {
                shared.offered.fetch_add(u64::try_from(stored).unwrap_or(0), Ordering::Relaxed);
            }
        });
        Self { store, launch, sink: Some(LogSink { shared }), writer }
    }

    /// A sink for the execution's output.
    pub fn sink(&self) -> LogSink {
        self.sink.clone().expect("the sink lives until finish")
    }

    /// The execution recorded.
    pub fn launch(&self) -> &Launch {
        &self.launch
    }

    /// Stores the lines received so far and stops, leaving the execution unfinished (k8x is stopping; the
    /// execution goes on elsewhere and is taken over later).
    pub async fn close(mut self) {
        drop(self.sink.take());
        let _ = (&mut self.writer).await;
    }

    /// Waits for every line to be stored, then records how the attempt ended: the execution ends (announced
    /// through the store's outbox) or, when its service allows another attempt, is queued again.
    pub async fn finish(mut self, ending: Ending) -> Result<Settled, StoreError> {
        drop(self.sink.take());
        // Every sink clone is owned by a stream reader that has ended by now; the writer drains and stops.
        let _ = (&mut self.writer).await;
        let id = &self.launch.execution_id;
        // An ending must not be lost to a busy or briefly unreachable database: it is tried again for a while.
        let retries = ExponentialBuilder::default().with_min_delay(Duration::from_millis(50)).with_max_times(10);
        let settled = (|| self.store.finish_attempt(id, self.launch.attempt, &ending))
            .retry(retries)
            .notify(|err, _| tracing::warn!(execution = %id, %err, "recording an ending failed; retrying"))
            .await?;
        let service = &self.launch.service.name;
        match settled {
            Settled::Ended => {
                tracing::info!(execution = %id, %service, status = ending.status.as_str(), "execution ended")
            }
            Settled::Retrying { attempt, at } => {
                tracing::info!(execution = %id, %service, attempt, %at, status = ending.status.as_str(), "attempt ended; retrying")
            }
            Settled::Already => {}
        }
        Ok(settled)
    }
}

async fn write_lines(store: Store, execution_id: String, spool: Arc<Spool>) {
    let mut seq = None;
    while let Taken::Lines(mut batch) = spool.take(BATCH).await {
        if batch.len() < BATCH {
            // A trickle: wait a moment for more, so that a chatty program costs few writes.
            tokio::time::sleep(GATHER).await;
            if let Taken::Lines(more) = spool.take_ready(BATCH - batch.len()) {
                batch.extend(more);
            }
        }
        // The first try numbers on from what this writer stored; a retry reads it again, since a write that
        // failed may have happened after all.
        let known = seq.take();
        let retried = AtomicBool::new(false);
        let attempt = || {
            let known = if retried.swap(true, Ordering::Relaxed) { None } else { known };
            store_batch(&store, &execution_id, &batch, known)
        };
        let retries = ExponentialBuilder::default().with_min_delay(Duration::from_millis(100)).with_max_times(7);
        let stored = attempt
            .retry(retries)
            .notify(|err, _| tracing::warn!(execution = %execution_id, %err, "storing log lines failed; retrying"))
            .await;
        match stored {
            Ok(last) => seq = Some(last),
            Err(err) => tracing::error!(execution = %execution_id, %err, lines = batch.len(), "log lines lost"),
        }
    }
}

/// Stores `batch` numbered after `known` (or after the last stored line); returns the last number used.
async fn store_batch(
    store: &Store,
    execution_id: &str,
    batch: &[Captured],
    known: Option<i64>,
) -> Result<i64, StoreError> {
    // Numbering goes on from what is stored, for a recorder that takes over after a restart.
    let next = match known {
        Some(next) => next,
        None => store.last_log_seq(execution_id).await?,
    };
    let at = Utc::now();
    let lines: Vec<NewLogLine> = batch
        .iter()
        .zip(next + 1..)
        .map(|(line, seq)| NewLogLine {
            seq,
            stream: line.stream,
            text: line.text.clone(),
            at,
            source: line.source.clone(),
        })
        .collect();
    store.append_log(execution_id, &lines).await?;
    Ok(next + lines.len() as i64)
}

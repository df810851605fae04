//! Recording an execution: its log lines, in batches, and its ending (which the store announces with the
//! completion event `k8x.execution.*` through its outbox: the executor never publishes to the bus).
//!
//! A recorder can take over an execution that another recorder began (after a k8x restart): its line
//! numbers go on from the last stored one.

use secrecy::ExposeSecret;
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use backon::{ExponentialBuilder, Retryable};
use chrono::Utc;
use tokio::{sync::mpsc, task::JoinHandle};

use super::{mask::Masker, Launch};
use crate::store::{Ending, LogCursor, NewLogLine, Settled, Store, StoreError};

/// Most lines written in one statement.
const BATCH: usize = 400;
/// How long the writer gathers lines before a write, trading a little latency for far fewer writes.
const GATHER: Duration = Duration::from_millis(40);

/// One captured line on its way to the store.
struct Captured {
    stream: &'static str,
    text: String,
    source: Option<LogCursor>,
}

/// Where an executor sends an execution's output. Cheap to clone: one per stream reader.
#[derive(Clone)]
pub struct LogSink {
    lines: mpsc::Sender<Captured>,
    /// Secret values replaced by `***` before a line is stored (and cut).
    masker: Arc<Masker>,
}

impl LogSink {
    /// Records one line from `stream` (`stdout`, `stderr`, `k8x`).
    pub async fn line(&self, stream: &'static str, text: impl Into<String>) {
        self.send(stream, text.into(), None).await;
    }

    /// Records one line read from a pod container's log, with its position there.
    pub async fn line_at(&self, stream: &'static str, text: impl Into<String>, at: LogCursor) {
        self.send(stream, text.into(), Some(at)).await;
    }

    async fn send(&self, stream: &'static str, text: String, source: Option<LogCursor>) {
        let text = self.masker.mask(&text);
        // The writer only stops after every sink is dropped, so this cannot fail while we hold one.
        let _ = self.lines.send(Captured { stream, text, source }).await;
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
    /// Starts the log writer for `launch`.
    pub fn start(store: Store, launch: Launch) -> Self {
        let (tx, rx) = mpsc::channel(4 * BATCH);
        let masker = Arc::new(Masker::new(launch.service.secrets.values().map(ExposeSecret::expose_secret)));
        let writer = tokio::spawn(write_lines(store.clone(), launch.execution_id.clone(), rx));
        Self { store, launch, sink: Some(LogSink { lines: tx, masker }), writer }
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

async fn write_lines(store: Store, execution_id: String, mut rx: mpsc::Receiver<Captured>) {
    let mut seq = None;
    while let Some(first) = rx.recv().await {
        tokio::time::sleep(GATHER).await;
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(line) => batch.push(line),
                Err(_) => break,
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

//! Recording an execution: its log lines, in batches, and its ending, followed by the completion event
//! (`k8x.execution.succeeded` / `k8x.execution.failed`) that lets services chain.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use cloudevents::{AttributesReader, EventBuilder, EventBuilderV10};
use model::views::ExecutionStatus;
use serde_json::json;
use tokio::{sync::mpsc, task::JoinHandle};

use super::{environment::correlation_id, Launch};
use crate::{
    bus::Bus,
    store::{NewLogLine, Store, StoreError},
};

/// Most lines written in one statement.
const BATCH: usize = 400;
/// How long the writer gathers lines before a write, trading a little latency for far fewer writes.
const GATHER: Duration = Duration::from_millis(40);
/// Secret values shorter than this are not masked: masking "1" would garble every log.
const MIN_MASKED_LEN: usize = 4;

/// Where an executor sends an execution's output. Cheap to clone: one per stream reader.
#[derive(Clone)]
pub struct LogSink {
    lines: mpsc::Sender<(&'static str, String)>,
    /// Secret values replaced by `***` before a line is stored.
    masks: Arc<Vec<String>>,
}

impl LogSink {
    /// Records one line from `stream` (`stdout`, `stderr`, `k8x`).
    pub async fn line(&self, stream: &'static str, text: impl Into<String>) {
        let mut text = text.into();
        for secret in self.masks.iter() {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "***");
            }
        }
        // The writer only stops after every sink is dropped, so this cannot fail while we hold one.
        let _ = self.lines.send((stream, text)).await;
    }
}

/// Records one execution.
pub struct Recorder {
    store: Store,
    bus: Arc<dyn Bus>,
    launch: Launch,
    sink: Option<LogSink>,
    writer: JoinHandle<()>,
}

impl Recorder {
    /// Starts the log writer for `launch`.
    pub fn start(store: Store, bus: Arc<dyn Bus>, launch: Launch) -> Self {
        let (tx, rx) = mpsc::channel(4 * BATCH);
        let mut masks: Vec<String> =
            launch.service.secrets.values().filter(|v| v.len() >= MIN_MASKED_LEN).cloned().collect();
        // Longest first, so a secret that contains another is masked whole.
        masks.sort_by_key(|m| std::cmp::Reverse(m.len()));
        let writer = tokio::spawn(write_lines(store.clone(), launch.execution_id.clone(), rx));
        Self { store, bus, launch, sink: Some(LogSink { lines: tx, masks: Arc::new(masks) }), writer }
    }

    /// A sink for the execution's output.
    pub fn sink(&self) -> LogSink {
        self.sink.clone().expect("the sink lives until finish")
    }

    /// Waits for every line to be stored, records the ending, and announces it on the bus.
    pub async fn finish(
        mut self,
        status: ExecutionStatus,
        exit_code: Option<i32>,
        error: Option<String>,
    ) -> Result<(), StoreError> {
        drop(self.sink.take());
        // Every sink clone is owned by a stream reader that has ended by now; the writer drains and stops.
        let _ = (&mut self.writer).await;
        let id = &self.launch.execution_id;
        if !self.store.finish_execution(id, status, exit_code, error.clone()).await? {
            return Ok(());
        }
        tracing::info!(execution = %id, service = %self.launch.service.name, status = status.as_str(), "execution ended");
        let event = completion_event(&self.launch, status, exit_code, error);
        if let Err(err) = self.bus.publish(&event).await {
            tracing::warn!(execution = %id, %err, "could not publish the completion event");
        }
        Ok(())
    }
}

/// The event announcing how an execution ended. Its id derives from the execution, so a repeat is a duplicate.
fn completion_event(
    launch: &Launch,
    status: ExecutionStatus,
    exit_code: Option<i32>,
    error: Option<String>,
) -> cloudevents::Event {
    let trigger = &launch.event;
    EventBuilderV10::new()
        .id(crate::ids::derived(&[&launch.execution_id, status.as_str()]))
        .source("/k8x/executions")
        .ty(format!("k8x.execution.{}", status.as_str()))
        .subject(launch.service.name.clone())
        .time(Utc::now())
        .extension("correlationid", correlation_id(trigger))
        .extension(crate::chain::DEPTH_EXTENSION, i64::from(crate::chain::depth(trigger) + 1))
        .data(
            "application/json",
            json!({
                "execution_id": launch.execution_id,
                "service": launch.service.name,
                "project": launch.service.project,
                "status": status.as_str(),
                "exit_code": exit_code,
                "error": error,
                "trigger": {"id": trigger.id(), "source": trigger.source().to_string(), "type": trigger.ty()},
            }),
        )
        .build()
        .expect("every required attribute is set")
}

async fn write_lines(store: Store, execution_id: String, mut rx: mpsc::Receiver<(&'static str, String)>) {
    let mut seq = 0i64;
    while let Some(first) = rx.recv().await {
        tokio::time::sleep(GATHER).await;
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(line) => batch.push(line),
                Err(_) => break,
            }
        }
        let at = Utc::now();
        let lines: Vec<NewLogLine> = batch
            .into_iter()
            .map(|(stream, text)| {
                seq += 1;
                NewLogLine { seq, stream, text, at }
            })
            .collect();
        let mut delay = Duration::from_millis(100);
        for attempt in 1..=8 {
            match store.append_log(&execution_id, &lines).await {
                Ok(()) => break,
                Err(err) if attempt < 8 => {
                    tracing::warn!(execution = %execution_id, %err, attempt, "storing log lines failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(err) => tracing::error!(execution = %execution_id, %err, lines = lines.len(), "log lines lost"),
            }
        }
    }
}

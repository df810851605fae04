//! An execution's log: `GET /api/v1/executions/{id}/log` (the whole log as text, for download) and
//! `GET /api/v1/executions/{id}/log/stream?after=N` (server-sent events that follow a running execution).
//!
//! The stream reads the store, so it works whichever replica runs the execution: it looks again as soon as
//! the store announces new lines or an ending for the execution ([`Store::execution_updates`]: in-process, and
//! from every process on PostgreSQL), and every second regardless. It sends `line` events (JSON [`LogLine`]),
//! a `status` event when the state changes, and ends after the execution has ended and every line has been sent.
//!
//! The download streams the log from the database a page at a time: a log of millions of lines is never held
//! in memory.

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::header,
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse,
    },
    routing::get,
    Router,
};
use futures::Stream;
use model::views::{ExecutionStatus, LogLine, StatusUpdate};
use serde::Deserialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::ApiError;
use crate::{access::Permission, auth::Principal, state::AppState, store::Store};

/// How often the stream looks by itself (a new state; lines written by a process it hears nothing from).
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How long the stream waits for an execution that does not exist yet (a run just requested).
const WAIT_FOR_CREATION: Duration = Duration::from_secs(30);
/// Lines per read.
const PAGE: u64 = 1000;
/// Lines per read of a download (a line is at most 64 KB: a page stays within 64 MB even then).
const DOWNLOAD_PAGE: u64 = 1_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/executions/{id}/log", get(download))
        .route("/api/v1/executions/{id}/log/stream", get(stream))
}

async fn download(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    principal.require(Permission::Read)?;
    state.store.execution(&id).await?.ok_or_else(|| ApiError::NotFound(format!("no execution `{id}`")))?;
    let disposition = format!("attachment; filename=\"{id}.log\"");
    let pages =
        futures::stream::try_unfold((state.store.clone(), id, 0_i64, false), |(store, id, after, done)| async move {
            if done {
                return Ok(None);
            }
            let lines = store.log_after(&id, after, DOWNLOAD_PAGE).await?;
            let done = (lines.len() as u64) < DOWNLOAD_PAGE;
            let after = lines.last().map_or(after, |line| line.seq);
            let mut text = String::with_capacity(lines.iter().map(|line| line.text.len() + 1).sum());
            for line in lines {
                text.push_str(&line.text);
                text.push('\n');
            }
            Ok::<_, crate::store::StoreError>(Some((text, (store, id, after, done))))
        });
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        Body::from_stream(pages),
    ))
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: i64,
}

async fn stream(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(After { after }): Query<After>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Sse::new(follow(state.store.clone(), state.shutdown.clone(), id, after)).keep_alive(KeepAlive::default()))
}

fn follow(
    store: Store,
    shutdown: CancellationToken,
    id: String,
    mut after: i64,
) -> impl Stream<Item = Result<Event, Infallible>> {
    channel_stream(move |tx| async move {
        // Listening before the first look: an update between a look and the wait is not missed.
        let mut updates = store.execution_updates();
        let mut last_status = None;
        let started = tokio::time::Instant::now();
        loop {
            let execution = match store.execution(&id).await {
                Ok(execution) => execution,
                Err(err) => {
                    tracing::warn!(%err, "log stream: reading the execution failed");
                    None
                }
            };
            let Some(execution) = execution else {
                if started.elapsed() >= WAIT_FOR_CREATION {
                    let _ = tx.send(Event::default().event("gone").data("no such execution")).await;
                    return;
                }
                if !pause(&tx, &shutdown, &mut updates, &id).await {
                    return;
                }
                continue;
            };
            // Read the status before the lines: if it says finished, the lines read after it are the last.
            let status = ExecutionStatus::parse(&execution.status);
            let lines = store.log_after(&id, after, PAGE).await.unwrap_or_default();
            let full_page = lines.len() as u64 == PAGE;
            for line in lines {
                after = line.seq;
                let view = LogLine { seq: line.seq, stream: line.stream, text: line.text };
                let event = Event::default().event("line").id(view.seq.to_string()).json_data(&view);
                if tx.send(event.unwrap_or_default()).await.is_err() {
                    return;
                }
            }
            if last_status != Some(status) {
                last_status = Some(status);
                let update = StatusUpdate { status, exit_code: execution.exit_code, error: execution.error.clone() };
                let event = Event::default().event("status").json_data(&update).unwrap_or_default();
                if tx.send(event).await.is_err() {
                    return;
                }
            }
            if full_page {
                continue;
            }
            if status.is_finished() {
                let _ = tx.send(Event::default().event("end").data("end")).await;
                return;
            }
            if !pause(&tx, &shutdown, &mut updates, &id).await {
                return;
            }
        }
    })
}

/// Waits until the execution `id` is announced as updated, or for [`LOOK_EVERY`]; `false` when the viewer has
/// gone or k8x is stopping, so the task ends even while nothing new is there to send.
async fn pause(
    tx: &tokio::sync::mpsc::Sender<Event>,
    shutdown: &CancellationToken,
    updates: &mut broadcast::Receiver<Arc<str>>,
    id: &str,
) -> bool {
    let announced = async {
        loop {
            match updates.recv().await {
                Ok(updated) if &*updated == id => return,
                Ok(_) => {}
                // Fell behind: whatever was missed may have been this one.
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    };
    tokio::select! {
        _ = tx.closed() => false,
        _ = shutdown.cancelled() => false,
        _ = announced => true,
        _ = tokio::time::sleep(LOOK_EVERY) => true,
    }
}

/// A stream fed by a task through a channel; the task stops when the client goes away.
fn channel_stream<F, Fut>(body: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(body(tx));
    futures::StreamExt::map(tokio_stream::wrappers::ReceiverStream::new(rx), Ok)
}

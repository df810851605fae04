//! Watch streams: newline-delimited JSON events, one chunk per event.
//!
//! Where a watch starts: with `resourceVersion=N` (N > 0) it replays every change after N from the store's
//! full history and then follows live changes; without one (or with "0") it first sends a synthetic ADDED
//! for every current object. `sendInitialEvents=true` adds the bookmark annotated
//! `k8s.io/initial-events-end` after those, for clients using streaming lists.
//!
//! Selectors apply as on a real server: an object that starts matching arrives as ADDED, one that stops
//! matching as DELETED (carrying its new state), changes outside the selection are not sent.
//!
//! The stream ends on `timeoutSeconds`, on `break_watches()`, on shutdown, or when the client goes away.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::query::Query;
use crate::error::Result;
use crate::kinds::Kind;
use crate::meta;
use crate::selectors::Selectors;
use crate::shared::Shared;
use crate::store::{Change, EventType};

/// How often a watch that asked for bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(5);

/// What a watch request asked for.
struct Request {
    kind: Kind,
    namespace: Option<String>,
    selectors: Selectors,
    /// Replay changes after this version; `None` means "start from a snapshot".
    since: Option<u64>,
    send_initial_end: bool,
    bookmarks: bool,
    timeout: Option<Duration>,
}

/// Starts a watch and returns the streaming response.
pub fn respond(shared: Arc<Shared>, kind: Kind, namespace: Option<String>, query: &Query) -> Result<Response> {
    let since = query.get("resourceVersion").and_then(|rv| rv.parse::<u64>().ok()).filter(|rv| *rv > 0);
    let request = Request {
        kind,
        namespace,
        selectors: query.selectors()?,
        since: if query.flag("sendInitialEvents") { None } else { since },
        send_initial_end: query.flag("sendInitialEvents"),
        bookmarks: query.flag("allowWatchBookmarks"),
        timeout: query.number("timeoutSeconds")?.filter(|t| *t > 0).map(|t| Duration::from_secs(t as u64)),
    };
    // A task feeds the body through a small channel; when the client disconnects the receiver drops,
    // `tx.closed()` fires and the task ends.
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(64);
    tokio::spawn(stream(shared, request, tx));
    Ok(Response::builder()
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(ReceiverStream::new(rx)))
        .expect("static headers are valid"))
}

fn encode(event_type: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({ "type": event_type, "object": object })).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

fn bookmark(kind: Kind, rv: u64, initial_end: bool) -> Bytes {
    let mut metadata = json!({ "resourceVersion": rv.to_string() });
    if initial_end {
        metadata["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
    }
    encode("BOOKMARK", &json!({ "apiVersion": kind.api_version(), "kind": kind.kind(), "metadata": metadata }))
}

/// The event a change becomes for this watch, if any.
fn translate(request: &Request, change: &Change) -> Option<Bytes> {
    if change.kind != request.kind {
        return None;
    }
    let object = &*change.object;
    if request.namespace.as_deref().is_some_and(|ns| ns != meta::namespace(object)) {
        return None;
    }
    let now = request.selectors.matches(object);
    let event_type = match change.event_type {
        EventType::Modified => {
            let before = change.previous.as_deref().is_some_and(|p| request.selectors.matches(p));
            match (before, now) {
                (true, true) => "MODIFIED",
                (false, true) => "ADDED",
                (true, false) => "DELETED",
                (false, false) => return None,
            }
        }
        other if now => other.as_str(),
        _ => return None,
    };
    Some(encode(event_type, object))
}

async fn stream(shared: Arc<Shared>, request: Request, tx: mpsc::Sender<Result<Bytes, Infallible>>) {
    let mut changed = shared.store.subscribe();
    let mut breaks = shared.control.watch_breaks();
    changed.borrow_and_update();
    breaks.borrow_and_update();
    let mut cursor = match request.since {
        Some(rv) => rv,
        None => {
            let (items, rv) = shared.store.list(request.kind, request.namespace.as_deref());
            for item in items.iter().filter(|o| request.selectors.matches(o)) {
                if tx.send(Ok(encode("ADDED", item))).await.is_err() {
                    return;
                }
            }
            if request.send_initial_end && tx.send(Ok(bookmark(request.kind, rv, true))).await.is_err() {
                return;
            }
            rv
        }
    };
    let deadline = tokio::time::sleep(request.timeout.unwrap_or(Duration::from_secs(365 * 24 * 3600)));
    tokio::pin!(deadline);
    let mut bookmarks = tokio::time::interval_at(tokio::time::Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
    loop {
        for change in shared.store.history_since(cursor) {
            cursor = change.rv;
            if let Some(event) = translate(&request, &change) {
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
        }
        tokio::select! {
            _ = changed.changed() => {}
            _ = bookmarks.tick(), if request.bookmarks => {
                if tx.send(Ok(bookmark(request.kind, cursor, false))).await.is_err() {
                    return;
                }
            }
            _ = &mut deadline => return,
            _ = breaks.changed() => return,
            _ = tx.closed() => return,
            _ = shared.shutdown.cancelled() => return,
        }
    }
}

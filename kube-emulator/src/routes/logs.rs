//! `GET /api/v1/namespaces/{ns}/pods/{name}/log`: a container's output, whole or followed.
//!
//! Supports `container`, `follow`, `timestamps`, `sinceTime`, `sinceSeconds`, `tailLines`, `limitBytes` and
//! `previous` (which always fails: emulated containers never restart). Errors use the real server's words.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::query::Query;
use crate::error::{ApiError, Result};
use crate::kinds::Kind;
use crate::logs::LogLine;
use crate::meta;
use crate::shared::Shared;

/// How lines are selected and printed.
struct Format {
    timestamps: bool,
    since: Option<DateTime<Utc>>,
    tail: Option<usize>,
    limit_bytes: Option<usize>,
}

impl Format {
    fn line(&self, line: &LogLine) -> Bytes {
        Bytes::from(match self.timestamps {
            true => format!("{} {}\n", meta::nanos(line.time), line.text),
            false => format!("{}\n", line.text),
        })
    }

    /// A line for a followed stream, cut to what is left of `limitBytes`; `sent` counts bytes so far.
    fn chunk(&self, line: &LogLine, sent: &mut usize) -> Bytes {
        let mut bytes = self.line(line);
        if let Some(limit) = self.limit_bytes {
            bytes.truncate(limit.saturating_sub(*sent));
        }
        *sent += bytes.len();
        bytes
    }

    /// The lines of a first read that pass `sinceTime` and `tailLines`.
    fn select(&self, lines: Vec<LogLine>) -> Vec<LogLine> {
        let mut lines: Vec<LogLine> = lines.into_iter().filter(|l| self.since.is_none_or(|s| l.time >= s)).collect();
        if let Some(tail) = self.tail {
            lines.drain(..lines.len().saturating_sub(tail));
        }
        lines
    }
}

fn names(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|cs| cs.iter().filter_map(|c| c.get("name")?.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The container the request means, or the real server's 400 when it is ambiguous or unknown.
fn pick_container(pod: &Value, requested: Option<&str>) -> Result<String> {
    let name = meta::name(pod);
    let containers = names(pod.pointer("/spec/containers"));
    let init = names(pod.pointer("/spec/initContainers"));
    match requested.filter(|c| !c.is_empty()) {
        Some(c) if containers.iter().chain(&init).any(|n| n == c) => Ok(c.to_owned()),
        Some(c) => Err(ApiError::BadRequest(format!("container {c} is not valid for pod {name}"))),
        None if containers.len() == 1 && init.is_empty() => Ok(containers[0].clone()),
        None => {
            let mut message =
                format!("a container name must be specified for pod {name}, choose one of: [{}]", containers.join(" "));
            if !init.is_empty() {
                message.push_str(&format!(" or one of the init containers: [{}]", init.join(" ")));
            }
            Err(ApiError::BadRequest(message))
        }
    }
}

/// Why the container has no log yet, from its status.
fn waiting_reason(pod: &Value, container: &str) -> String {
    let has_init = pod.pointer("/spec/initContainers").and_then(Value::as_array).is_some_and(|i| !i.is_empty());
    ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|field| pod.pointer(&format!("/status/{field}"))?.as_array())
        .flatten()
        .find(|s| s.get("name").and_then(Value::as_str) == Some(container))
        .and_then(|s| s.pointer("/state/waiting/reason")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| if has_init { "PodInitializing" } else { "ContainerCreating" }.to_owned())
}

/// Answers a log request.
pub fn respond(shared: Arc<Shared>, namespace: &str, name: &str, query: &Query) -> Result<Response> {
    let pod = shared
        .store
        .get(Kind::Pod, namespace, name)
        .ok_or(ApiError::NotFound { kind: Kind::Pod, name: name.into() })?;
    let container = pick_container(&pod, query.get("container"))?;
    if query.flag("previous") {
        return Err(ApiError::BadRequest(format!(
            "previous terminated container \"{container}\" in pod \"{name}\" not found"
        )));
    }
    let since = match (query.get("sinceTime"), query.number("sinceSeconds")?) {
        (Some(t), _) => {
            Some(meta::parse_time(t).ok_or_else(|| ApiError::BadRequest(format!("invalid sinceTime {t:?}")))?)
        }
        (None, Some(s)) => Some(Utc::now() - chrono::Duration::seconds(s)),
        (None, None) => None,
    };
    let format = Format {
        timestamps: query.flag("timestamps"),
        since,
        tail: query.number("tailLines")?.map(|t| t.max(0) as usize),
        limit_bytes: query.number("limitBytes")?.filter(|l| *l > 0).map(|l| l as usize),
    };
    let uid = meta::uid(&pod).to_owned();
    let Some((lines, finished)) = shared.logs.read(&uid, &container, 0) else {
        let reason = waiting_reason(&pod, &container);
        return Err(ApiError::BadRequest(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"
        )));
    };
    let response = Response::builder().header(http::header::CONTENT_TYPE, "text/plain");
    let next = lines.len();
    let first = format.select(lines);
    if !query.flag("follow") || finished {
        let mut body: Vec<u8> = first.iter().flat_map(|l| format.line(l)).collect();
        if let Some(limit) = format.limit_bytes {
            body.truncate(limit);
        }
        return Ok(response.body(Body::from(body)).expect("static headers are valid"));
    }
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(64);
    tokio::spawn(follow(shared, uid, container, format, first, next, tx));
    Ok(response.body(Body::from_stream(ReceiverStream::new(rx))).expect("static headers are valid"))
}

/// Sends `first`, then every new line from index `next` on, one chunk per line, until the container's log
/// is complete (or a break, shutdown, or the client leaving).
async fn follow(
    shared: Arc<Shared>,
    uid: String,
    container: String,
    format: Format,
    first: Vec<LogLine>,
    mut next: usize,
    tx: mpsc::Sender<Result<Bytes, Infallible>>,
) {
    let mut changed = shared.logs.subscribe();
    let mut breaks = shared.control.log_breaks();
    changed.borrow_and_update();
    breaks.borrow_and_update();
    let mut sent = 0usize;
    for line in &first {
        if tx.send(Ok(format.chunk(line, &mut sent))).await.is_err() {
            return;
        }
    }
    loop {
        let Some((lines, finished)) = shared.logs.read(&uid, &container, next) else { return };
        next += lines.len();
        for line in &lines {
            if tx.send(Ok(format.chunk(line, &mut sent))).await.is_err() {
                return;
            }
        }
        if finished || format.limit_bytes.is_some_and(|l| sent >= l) {
            return;
        }
        tokio::select! {
            _ = changed.changed() => {}
            _ = breaks.changed() => return,
            _ = tx.closed() => return,
            _ = shared.shutdown.cancelled() => return,
        }
    }
}

//! Ingest: `POST /api/v1/events`, CloudEvents over HTTP in binary, structured and batch mode.
//!
//! An event is checked before anything is published, and the answer is 202 only once the bus has stored it.
//! A malformed event gets a 400 naming the problem; in a batch, one bad event refuses the whole batch.
//! The size limit holds for the body and for each event as structured JSON (a binary-mode body plus its
//! attributes): that is the size a service receives as `K8X_EVENT_FILE`, and what fits a Kubernetes Secret.

mod decode;

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    routing::post,
    Json, Router,
};
use cloudevents::AttributesReader;
use serde_json::{json, Value};

pub use decode::{decode, DecodeError};

use crate::{api_error::ApiError, state::AppState};

/// The ingest routes.
pub fn router(max_event_bytes: usize) -> Router<AppState> {
    Router::new().route("/api/v1/events", post(ingest)).layer(DefaultBodyLimit::max(max_event_bytes))
}

async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let events = decode(&headers, body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let limit = state.config.max_event_bytes;
    for event in &events {
        let size = serde_json::to_vec(event).map(|json| json.len()).unwrap_or(usize::MAX);
        if size > limit {
            return Err(ApiError::TooLarge(format!(
                "event `{}` is {size} bytes as structured JSON; at most {limit} are accepted",
                event.id()
            )));
        }
    }
    let mut ids = Vec::with_capacity(events.len());
    for event in &events {
        state.bus.publish(event).await.map_err(|err| {
            tracing::error!(%err, event = %event.id(), "the bus refused an event");
            ApiError::Unavailable("the event bus is not accepting events right now; retry later".into())
        })?;
        ids.push(event.id().to_owned());
    }
    let body = match ids.as_slice() {
        [one] => json!({ "id": one }),
        _ => json!({ "ids": ids }),
    };
    Ok((StatusCode::ACCEPTED, Json(body)))
}

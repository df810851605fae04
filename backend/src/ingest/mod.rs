//! Ingest: `POST /api/v1/events`, CloudEvents over HTTP in binary, structured and batch mode, for callers
//! with an API token that may ingest; and `POST /api/v1/sources/{source}/events`, the same for a registered
//! event source that signs its body (`X-Hub-Signature-256`) instead of sending a token.
//!
//! An event is checked before anything is published, and the answer is 202 only once the bus has stored it.
//! A malformed event gets a 400 naming the problem; in a batch, one bad event refuses the whole batch.
//! The size limit holds for the body and for each event as structured JSON (a binary-mode body plus its
//! attributes): that is the size a service receives as `K8X_EVENT_FILE`, and what fits a Kubernetes Secret.

mod decode;
pub mod rules;
pub mod webhook;

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State},
    http::{HeaderMap, StatusCode},
    routing::post,
    Json, Router,
};
use cloudevents::{AttributesReader, AttributesWriter};
use serde_json::{json, Value};

pub use decode::{decode, DecodeError};

use crate::{
    access::Permission,
    api_error::ApiError,
    auth::{signature, Principal},
    state::AppState,
    store::entities::event_source,
};

/// The ingest routes.
pub fn router(max_event_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/api/v1/events", post(ingest))
        .route("/api/v1/sources/{name}/events", post(ingest_signed))
        .route("/api/v1/webhooks/{name}", post(ingest_webhook))
        .layer(DefaultBodyLimit::max(max_event_bytes))
}

type Accepted = (StatusCode, Json<Value>);

async fn ingest(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Accepted, ApiError> {
    principal.require(Permission::Ingest)?;
    accept(&state, &headers, body, None).await
}

/// A registered source's events, accepted when the body's signature matches the source's secret. An unknown
/// source and a bad signature get the same 401, so names cannot be probed.
async fn ingest_signed(
    State(state): State<AppState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Accepted, ApiError> {
    let row = state.store.source(&source).await?;
    signed(row.as_ref(), &source, &headers, &body)?;
    accept(&state, &headers, body, Some(&source)).await
}

/// A plain webhook of a registered source, wrapped as a CloudEvent ([`webhook`]): accepted with the source's
/// signature, or from a caller whose token may ingest.
async fn ingest_webhook(
    State(state): State<AppState>,
    principal: Option<axum::Extension<Principal>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Accepted, ApiError> {
    let source = state.store.source(&name).await?;
    let may_ingest = principal.is_some_and(|axum::Extension(p)| p.allows(Permission::Ingest));
    if !may_ingest {
        signed(source.as_ref(), &name, &headers, &body)?;
    }
    let source = source.ok_or_else(|| ApiError::NotFound(format!("no event source `{}`", name.escape_debug())))?;
    let event = webhook::wrap(&name, &source.webhook_shape(), &headers, &body)
        .map_err(|e| ApiError::BadRequest(format!("webhook `{name}`: {e}")))?;
    decode::check(&event).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    publish(&state, vec![event]).await
}

/// `Ok` when `body` carries the signature of source `name` (`row`, if it is registered), or — for a GitLab
/// source (its type header `X-Gitlab-Event`) — its secret as `X-Gitlab-Token`. An unknown source is checked
/// against no secret at all, so that it gets the same answers a registered one would.
fn signed(row: Option<&event_source::Model>, name: &str, headers: &HeaderMap, body: &Bytes) -> Result<(), ApiError> {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().map_err(|_| signature::SignatureError::Malformed));
    let gitlab =
        row.is_some_and(|row| row.type_header.as_deref().is_some_and(|h| h.eq_ignore_ascii_case("X-Gitlab-Event")));
    let checked = (|| {
        let signature = header(signature::HEADER).transpose()?;
        let token = if gitlab { header(signature::TOKEN_HEADER).transpose()? } else { None };
        match row {
            Some(row) => signature::verify_request(row.secret.as_bytes(), body, signature, token),
            None => signature::verify_request(&[], body, signature, None).and(Err(signature::SignatureError::Mismatch)),
        }
    })();
    checked.map_err(|why| {
        tracing::warn!(source = %name.escape_debug(), %why, "refused an unsigned or wrongly signed request");
        ApiError::Unauthorized(format!("event source `{}`: {why}", name.escape_debug()))
    })
}

/// Decodes, checks and publishes; 202 once the bus holds every event. Events of a signed source get the
/// source's own `source` (`/sources/<name>`), the one they claimed kept as the `claimedsource` extension: a
/// source's secret lets it speak for itself only, and its ids cannot pre-empt another sender's.
async fn accept(
    state: &AppState,
    headers: &HeaderMap,
    body: Bytes,
    signed_by: Option<&str>,
) -> Result<Accepted, ApiError> {
    let mut events = decode(headers, body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if signed_by.is_none() {
        // Those sources are k8x's word for a signed sender: nobody else may take their ids first.
        if let Some(event) =
            events.iter().find(|e| ["/sources/", "/webhooks/", "/schedules/"].iter().any(|p| e.source().starts_with(p)))
        {
            return Err(ApiError::BadRequest(format!(
                "source `{}` is reserved: `/sources/…`, `/webhooks/…` and `/schedules/…` are set by k8x itself",
                event.source()
            )));
        }
    }
    if let Some(name) = signed_by {
        for event in &mut events {
            let claimed = event.source().to_string();
            event.set_source(format!("/sources/{name}"));
            event.set_extension("claimedsource", claimed);
        }
    }
    publish(state, events).await
}

/// Publishes checked events; 202 once the bus holds every one.
async fn publish(state: &AppState, events: Vec<cloudevents::Event>) -> Result<Accepted, ApiError> {
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
    // One call for the whole batch: on the embedded bus, one transaction (every event is stored, or none).
    state.bus.publish_all(&events).await.map_err(|err| {
        tracing::error!(%err, events = events.len(), "the bus refused events");
        ApiError::Unavailable("the event bus is not accepting events right now; retry later".into())
    })?;
    let ids: Vec<&str> = events.iter().map(|event| event.id()).collect();
    let body = match ids.as_slice() {
        [one] => json!({ "id": one }),
        _ => json!({ "ids": ids }),
    };
    Ok((StatusCode::ACCEPTED, Json(body)))
}

//! Dead letters for admins: `GET /api/v1/dead-letters` lists what the dispatcher gave up on (reason, original
//! record); `POST /api/v1/dead-letters/{id}/replay` puts a decodable one back on the bus (409 for a record that
//! is no CloudEvent: there is nothing to replay). Replays are audited.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use cloudevents::Event;
use model::access::DeadLetterView;

use super::ApiError;
use crate::{access::Permission, auth::Principal, state::AppState, views::access as views};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/dead-letters", get(list)).route("/api/v1/dead-letters/{id}/replay", post(replay))
}

async fn list(State(state): State<AppState>, principal: Principal) -> Result<Json<Vec<DeadLetterView>>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(views::dead_letters(&state.store, 500).await?))
}

async fn replay(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    principal.require(Permission::Admin)?;
    replay_one(&state, &principal, id).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "id": id, "replay": "published" }))))
}

/// Puts dead letter `id` back on the bus; shared with the admin page.
pub async fn replay_one(state: &AppState, principal: &Principal, id: i64) -> Result<(), ApiError> {
    let letter =
        state.store.dead_letter(id).await?.ok_or_else(|| ApiError::NotFound(format!("no dead letter {id}")))?;
    let event: Event = serde_json::from_str(&letter.record).map_err(|e| {
        ApiError::Conflict(format!("dead letter {id} is no CloudEvent k8x can read ({e}); there is nothing to replay"))
    })?;
    state.bus.publish(&event).await.map_err(|err| {
        tracing::error!(%err, "the bus refused a replay");
        ApiError::Unavailable("the event bus is not accepting events right now; retry later".into())
    })?;
    state.store.mark_replayed(id).await?;
    let mut record = principal.audit("dead-letter-replay", format!("dead letter {id}"));
    record.detail = letter.event_id;
    state.store.audit(record).await?;
    Ok(())
}

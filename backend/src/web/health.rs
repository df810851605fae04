//! `GET /health`: 200 when the database answers. `GET /ready`: 200 when, besides, the dispatcher runs (503
//! while k8x still loads its start-up project) and keeps up (503 with the reason once it has been stuck for
//! [`STUCK_GRACE`]). No session needed for either.

use axum::{extract::State, routing::get, Router};
use sea_orm::ConnectionTrait;

use super::ApiError;
use crate::state::AppState;

/// How long the dispatcher may fail on one thing before k8x is not ready.
pub const STUCK_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health)).route("/ready", get(ready))
}

async fn ready(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    health(State(state.clone())).await?;
    match state.readiness.stuck(STUCK_GRACE) {
        Some(why) => Err(ApiError::Unavailable(why)),
        None => Ok("ready"),
    }
}

async fn health(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state
        .store
        .db()
        .execute_unprepared("SELECT 1")
        .await
        .map_err(|e| ApiError::Unavailable(format!("database: {e}")))?;
    Ok("ok")
}

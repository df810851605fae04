//! `GET /health`: 200 when the database answers. No session needed.

use axum::{extract::State, routing::get, Router};
use sea_orm::ConnectionTrait;

use super::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
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

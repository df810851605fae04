//! `/emulator/*`: the control API tests (or a k8x test harness in another process) drive. These requests
//! are neither recorded nor subject to faults or the down switch.
//!
//! - `POST /emulator/faults` with a JSON [`Fault`]
//! - `POST /emulator/break-watches`, `POST /emulator/break-logs`
//! - `POST /emulator/down` with `{"down": true|false}`
//! - `GET /emulator/requests` (every recorded API request), `DELETE /emulator/requests` (forget them)

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::control::RecordedRequest;
use crate::options::Fault;
use crate::shared::Shared;

/// The control routes.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/emulator/faults", post(fault))
        .route("/emulator/break-watches", post(break_watches))
        .route("/emulator/break-logs", post(break_logs))
        .route("/emulator/down", post(down))
        .route("/emulator/requests", get(requests).delete(clear_requests))
}

async fn fault(State(shared): State<Arc<Shared>>, Json(fault): Json<Fault>) -> StatusCode {
    shared.control.inject_fault(fault);
    StatusCode::NO_CONTENT
}

async fn break_watches(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.control.break_watches();
    StatusCode::NO_CONTENT
}

async fn break_logs(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.control.break_log_streams();
    StatusCode::NO_CONTENT
}

/// Body of `POST /emulator/down`.
#[derive(Deserialize)]
struct Down {
    down: bool,
}

async fn down(State(shared): State<Arc<Shared>>, Json(body): Json<Down>) -> StatusCode {
    shared.control.set_down(body.down);
    StatusCode::NO_CONTENT
}

async fn requests(State(shared): State<Arc<Shared>>) -> Json<Vec<RecordedRequest>> {
    Json(shared.control.requests())
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.control.clear_requests();
    StatusCode::NO_CONTENT
}

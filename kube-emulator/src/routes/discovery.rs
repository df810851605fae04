//! `GET /version`: what `kubectl version` and kube-rs's `apiserver_version` read.

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::shared::Shared;

/// The route.
pub fn router() -> Router<Arc<Shared>> {
    Router::new().route("/version", get(version))
}

async fn version() -> Json<Value> {
    Json(json!({
        "major": "1",
        "minor": "35",
        "gitVersion": "v1.35.0-emulator",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }))
}

//! What happens to every API request before its handler: it is recorded, then refused if the API is
//! "down" (503) or a scripted fault matches (the fault's status), else passed on.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::control::RecordedRequest;
use crate::error::ApiError;
use crate::shared::Shared;

/// Larger bodies are refused; nothing k8x sends comes close.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The middleware.
pub async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    // The body is read whole so it can be recorded, then handed on unchanged.
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::BadRequest("request body too large or unreadable".into()).into_response();
    };
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    shared.control.record(RecordedRequest {
        method: method.clone(),
        path: path.clone(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        body: serde_json::from_slice(&bytes).ok(),
    });
    if shared.control.is_down() {
        let message = "the server is currently unable to handle the request".to_owned();
        return ApiError::Scripted { code: 503, message }.into_response();
    }
    if let Some(code) = shared.control.take_fault(&method, &path) {
        let message = format!("kube-emulator: injected fault ({code}) for {method} {path}");
        return ApiError::Scripted { code, message }.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

//! `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`: "may I?" answered from
//! `Options::denied`. Everything not denied is allowed.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use http::StatusCode;
use serde_json::{json, Value};

use crate::shared::Shared;

/// The route.
pub fn router() -> Router<Arc<Shared>> {
    Router::new().route("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", post(review))
}

async fn review(State(shared): State<Arc<Shared>>, Json(mut review): Json<Value>) -> Response {
    let attrs = review.pointer("/spec/resourceAttributes").cloned().unwrap_or(Value::Null);
    let field = |name: &str| attrs.get(name).and_then(Value::as_str).unwrap_or("").to_owned();
    let (verb, resource, subresource) = (field("verb"), field("resource"), field("subresource"));
    let full = if subresource.is_empty() { resource.clone() } else { format!("{resource}/{subresource}") };
    let allowed = !shared.options.is_denied(&verb, &full);
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["kind"] = json!("SelfSubjectAccessReview");
    if !review["metadata"].is_object() {
        review["metadata"] = json!({});
    }
    review["status"] = if allowed {
        json!({ "allowed": true, "reason": "kube-emulator allows everything not denied" })
    } else {
        json!({ "allowed": false, "reason": format!("kube-emulator denies {verb} on {full}") })
    };
    (StatusCode::CREATED, Json(review)).into_response()
}

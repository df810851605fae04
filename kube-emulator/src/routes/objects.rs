//! Create, get, list, replace, patch and delete for every served kind, in a namespace or (for list and
//! watch) across all of them. One set of handlers serves every kind: the URL's group, version and resource
//! pick the `Kind`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::{Json, Router};
use http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use super::query::Query;
use super::{logs, watch};
use crate::controller::gc::{self, Propagation};
use crate::defaults;
use crate::error::{ApiError, Result};
use crate::kinds::Kind;
use crate::meta;
use crate::patch;
use crate::shared::Shared;

type Params = Path<HashMap<String, String>>;

/// The object routes, core (`/api/v1`) and grouped (`/apis/{group}/{version}`).
pub fn router() -> Router<Arc<Shared>> {
    let collection = || -> MethodRouter<Arc<Shared>> { get(get_collection).post(create).delete(delete_collection) };
    let item = || -> MethodRouter<Arc<Shared>> { get(get_item).put(replace).patch(patch_item).delete(delete_item) };
    let sub = || -> MethodRouter<Arc<Shared>> { get(get_sub).put(replace_status).patch(patch_status) };
    let mut router = Router::new();
    for prefix in ["/api/{version}", "/apis/{group}/{version}"] {
        router = router
            .route(&format!("{prefix}/{{resource}}"), get(get_collection))
            .route(&format!("{prefix}/namespaces/{{ns}}/{{resource}}"), collection())
            .route(&format!("{prefix}/namespaces/{{ns}}/{{resource}}/{{name}}"), item())
            .route(&format!("{prefix}/namespaces/{{ns}}/{{resource}}/{{name}}/{{sub}}"), sub());
    }
    router
}

/// What a URL addresses.
struct Target {
    kind: Kind,
    namespace: Option<String>,
    name: String,
}

fn target(params: &HashMap<String, String>) -> Result<Target> {
    let version = params.get("version").map(String::as_str).unwrap_or("");
    let group_version = match params.get("group") {
        Some(group) => format!("{group}/{version}"),
        None => version.to_owned(),
    };
    let resource = params.get("resource").map(String::as_str).unwrap_or("");
    let kind = Kind::from_path(&group_version, resource).ok_or(ApiError::UnknownResource)?;
    Ok(Target { kind, namespace: params.get("ns").cloned(), name: params.get("name").cloned().unwrap_or_default() })
}

impl Target {
    fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }
}

/// The body as JSON: `null` when empty, else it must be a JSON object.
fn json_body(body: &Bytes) -> Result<Value> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("error decoding request body: {e}")))?;
    match value.is_object() {
        true => Ok(value),
        false => Err(ApiError::BadRequest("the request body must be a JSON object".into())),
    }
}

/// A body that must be present (patches).
fn required_body(body: &Bytes) -> Result<Value> {
    match json_body(body)? {
        Value::Null => Err(ApiError::BadRequest("the request body is empty".into())),
        value => Ok(value),
    }
}

async fn get_collection(
    State(shared): State<Arc<Shared>>,
    Path(params): Params,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let t = target(&params)?;
    let query = Query::parse(raw.as_deref());
    if query.flag("watch") {
        return watch::respond(shared, t.kind, t.namespace, &query);
    }
    let selectors = query.selectors()?;
    let (items, rv) = shared.store.list(t.kind, t.namespace.as_deref());
    let mut items: Vec<Value> = items.into_iter().filter(|o| selectors.matches(o)).collect();
    // Paging: the continue token is simply the offset of the next page.
    let offset: usize = query.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
    items.drain(..offset.min(items.len()));
    let mut metadata = json!({ "resourceVersion": rv.to_string() });
    if let Some(limit) = query.number("limit")?.filter(|l| *l > 0).map(|l| l as usize) {
        if items.len() > limit {
            metadata["continue"] = json!((offset + limit).to_string());
            metadata["remainingItemCount"] = json!(items.len() - limit);
            items.truncate(limit);
        }
    }
    Ok(Json(json!({
        "apiVersion": t.kind.api_version(),
        "kind": t.kind.list_kind(),
        "metadata": metadata,
        "items": items,
    }))
    .into_response())
}

async fn create(State(shared): State<Arc<Shared>>, Path(params): Params, body: Bytes) -> Result<Response> {
    let t = target(&params)?;
    let mut obj = json_body(&body)?;
    // `generateName` is resolved first so defaulting sees the final name (a Job's `job-name` labels). As on
    // a real server, the rare clash with an existing name is a 409.
    let prefix = obj.pointer("/metadata/generateName").and_then(Value::as_str).map(str::to_owned);
    if let Some(prefix) = prefix.filter(|_| meta::name(&obj).is_empty()) {
        obj["metadata"]["name"] = json!(format!("{prefix}{}", meta::random_suffix(5)));
    }
    let obj = defaults::for_create(t.kind, t.ns(), obj)?;
    let created = shared.store.create(t.kind, t.ns(), obj)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn get_item(State(shared): State<Arc<Shared>>, Path(params): Params) -> Result<Json<Value>> {
    let t = target(&params)?;
    shared.store.get(t.kind, t.ns(), &t.name).map(Json).ok_or(ApiError::NotFound { kind: t.kind, name: t.name })
}

/// Fails with 409 when `body` names a resourceVersion other than the stored one.
fn check_version(kind: Kind, current: &Value, body: &Value) -> Result<()> {
    let wanted = body.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("");
    let have = current.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("");
    if !wanted.is_empty() && wanted != have {
        return Err(ApiError::Conflict { kind, name: meta::name(current).to_owned() });
    }
    Ok(())
}

/// Makes `next` the new main-resource state of `current`: `status` cannot change through the main
/// resource, and `generation` counts changes to `spec`.
fn settle(kind: Kind, current: &mut Value, mut next: Value) -> Result<()> {
    if kind.has_status() {
        next["status"] = current["status"].clone();
    }
    if next.get("spec") != current.get("spec") {
        let generation = current.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
        next["metadata"]["generation"] = json!(generation + 1);
    } else {
        next["metadata"]["generation"] = current["metadata"]["generation"].clone();
    }
    defaults::for_write(kind, &mut next)?;
    *current = next;
    Ok(())
}

async fn replace(State(shared): State<Arc<Shared>>, Path(params): Params, body: Bytes) -> Result<Json<Value>> {
    let t = target(&params)?;
    let body = json_body(&body)?;
    if meta::name(&body) != t.name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({}) does not match the name on the URL ({})",
            meta::name(&body),
            t.name
        )));
    }
    let updated = shared.store.update(t.kind, t.ns(), &t.name, |current| {
        check_version(t.kind, current, &body)?;
        settle(t.kind, current, body)
    })?;
    Ok(Json(updated))
}

/// The patch types, from the Content-Type header.
enum PatchType {
    Merge,
    Apply,
}

fn patch_type(headers: &HeaderMap) -> Result<PatchType> {
    let content_type = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    match content_type.split(';').next().unwrap_or("").trim() {
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => Ok(PatchType::Merge),
        "application/apply-patch+yaml" => Ok(PatchType::Apply),
        other => Err(ApiError::UnsupportedMediaType(other.to_owned())),
    }
}

async fn patch_item(
    State(shared): State<Arc<Shared>>,
    Path(params): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>> {
    let t = target(&params)?;
    let kind_of_patch = patch_type(&headers)?;
    // Apply bodies are YAML; kube-rs (like kubectl) sends JSON, which is YAML too. Only JSON is accepted here.
    let body = required_body(&body)?;
    if matches!(kind_of_patch, PatchType::Apply) && shared.store.get(t.kind, t.ns(), &t.name).is_none() {
        // Server-side apply of a missing object creates it.
        let mut obj = body;
        obj["metadata"]["name"] = json!(t.name);
        let obj = defaults::for_create(t.kind, t.ns(), obj)?;
        return Ok(Json(shared.store.create(t.kind, t.ns(), obj)?));
    }
    let updated = shared.store.update(t.kind, t.ns(), &t.name, |current| {
        check_version(t.kind, current, &body)?;
        let mut next = current.clone();
        patch::merge(&mut next, &body);
        settle(t.kind, current, next)
    })?;
    Ok(Json(updated))
}

async fn delete_item(
    State(shared): State<Arc<Shared>>,
    Path(params): Params,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response> {
    let t = target(&params)?;
    let propagation = propagation(&Query::parse(raw.as_deref()), &json_body(&body).unwrap_or(Value::Null))?;
    let deleted = gc::delete(&shared, t.kind, t.ns(), &t.name, propagation)?;
    Ok(Json(deleted_response(t.kind, deleted)).into_response())
}

/// The propagation policy from the query or a DeleteOptions body.
fn propagation(query: &Query, body: &Value) -> Result<Propagation> {
    let policy = query.get("propagationPolicy").or_else(|| body.get("propagationPolicy").and_then(Value::as_str));
    let orphan = query.get("orphanDependents").map(|v| v == "true").or_else(|| body.get("orphanDependents")?.as_bool());
    match (policy, orphan) {
        (Some("Orphan"), _) | (None, Some(true)) => Ok(Propagation::Orphan),
        (Some("Background"), _) | (None, Some(false)) => Ok(Propagation::Background),
        (Some("Foreground"), _) => Ok(Propagation::Foreground),
        (None, None) => Ok(Propagation::Default),
        (Some(other), _) => Err(ApiError::BadRequest(format!("unsupported propagationPolicy {other:?}"))),
    }
}

/// Pods answer a delete with the object (their deletion is graceful on a real server); other kinds with a
/// success `Status`, as a real server does for objects removed at once.
fn deleted_response(kind: Kind, deleted: Value) -> Value {
    if kind == Kind::Pod {
        return deleted;
    }
    let mut details = json!({ "name": meta::name(&deleted), "kind": kind.resource(), "uid": meta::uid(&deleted) });
    if !kind.group().is_empty() {
        details["group"] = json!(kind.group());
    }
    json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details })
}

async fn delete_collection(
    State(shared): State<Arc<Shared>>,
    Path(params): Params,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Json<Value>> {
    let t = target(&params)?;
    let query = Query::parse(raw.as_deref());
    let selectors = query.selectors()?;
    let propagation = propagation(&query, &json_body(&body).unwrap_or(Value::Null))?;
    let (items, rv) = shared.store.list(t.kind, t.namespace.as_deref());
    let mut deleted = Vec::new();
    for item in items.iter().filter(|o| selectors.matches(o)) {
        // An object already removed by an earlier deletion's garbage collection is simply skipped.
        if let Ok(obj) = gc::delete(&shared, t.kind, meta::namespace(item), meta::name(item), propagation) {
            deleted.push(obj);
        }
    }
    Ok(Json(json!({
        "apiVersion": t.kind.api_version(),
        "kind": t.kind.list_kind(),
        "metadata": { "resourceVersion": rv.to_string() },
        "items": deleted,
    })))
}

async fn get_sub(State(shared): State<Arc<Shared>>, Path(params): Params, RawQuery(raw): RawQuery) -> Result<Response> {
    let t = target(&params)?;
    match (t.kind, params.get("sub").map(String::as_str)) {
        (Kind::Pod, Some("log")) => logs::respond(shared, t.ns(), &t.name, &Query::parse(raw.as_deref())),
        (kind, Some("status")) if kind.has_status() => Ok(get_item(State(shared), Path(params)).await?.into_response()),
        _ => Err(ApiError::UnknownResource),
    }
}

fn status_target(params: &HashMap<String, String>) -> Result<Target> {
    let t = target(params)?;
    match params.get("sub").map(String::as_str) {
        Some("status") if t.kind.has_status() => Ok(t),
        _ => Err(ApiError::UnknownResource),
    }
}

async fn replace_status(State(shared): State<Arc<Shared>>, Path(params): Params, body: Bytes) -> Result<Json<Value>> {
    let t = status_target(&params)?;
    let body = json_body(&body)?;
    let updated = shared.store.update(t.kind, t.ns(), &t.name, |current| {
        check_version(t.kind, current, &body)?;
        current["status"] = body.get("status").cloned().unwrap_or(json!({}));
        Ok(())
    })?;
    Ok(Json(updated))
}

async fn patch_status(
    State(shared): State<Arc<Shared>>,
    Path(params): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>> {
    let t = status_target(&params)?;
    patch_type(&headers)?;
    let body = required_body(&body)?;
    let updated = shared.store.update(t.kind, t.ns(), &t.name, |current| {
        check_version(t.kind, current, &body)?;
        if let Some(status) = body.get("status") {
            patch::merge(&mut current["status"], status);
        }
        Ok(())
    })?;
    Ok(Json(updated))
}

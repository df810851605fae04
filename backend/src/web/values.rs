//! Secrets and configs by scope: `GET /api/v1/platform/values`, `PUT`/`DELETE
//! /api/v1/platform/{secrets|configs}/{key}`, and the same under `/api/v1/projects/{name}/` and
//! `/api/v1/services/{name}/`. Admins only, audited. A secret's value is write-only: lists say it is set, by
//! whom and when, never what it is.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, put},
    Json, Router,
};
use model::projects::{ConfigValue, ScopedValues, SecretState};
use serde::Deserialize;
use serde_json::Value;

use super::ApiError;
use crate::{
    access::Permission,
    auth::Principal,
    service::is_env_name,
    state::AppState,
    store::{Scope, ValueKind},
};

/// The largest value accepted (as JSON text for a config).
const MAX_VALUE_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/platform/values", get(list_platform))
        .route("/api/v1/platform/{kind}/{key}", put(set_platform).delete(remove_platform))
        .route("/api/v1/projects/{name}/values", get(list_project))
        .route("/api/v1/projects/{name}/{kind}/{key}", put(set_project).delete(remove_project))
        .route("/api/v1/services/{name}/values", get(list_service))
        .route("/api/v1/services/{name}/{kind}/{key}", put(set_service).delete(remove_service))
}

#[derive(Deserialize)]
struct NewValue {
    /// A secret: a string. A config: any JSON.
    value: Value,
}

/// `secrets` or `configs`.
fn kind(segment: &str) -> Result<ValueKind, ApiError> {
    match segment {
        "secrets" => Ok(ValueKind::Secret),
        "configs" => Ok(ValueKind::Config),
        other => Err(ApiError::NotFound(format!("`{other}` is neither `secrets` nor `configs`"))),
    }
}

/// The scope, checked to exist.
async fn existing(state: &AppState, scope: Scope) -> Result<Scope, ApiError> {
    let found = match &scope {
        Scope::Platform => true,
        Scope::Project(name) => state.store.project_kind(name).await?.is_some(),
        Scope::Service(name) => state.store.service(name).await?.is_some(),
    };
    found.then_some(scope.clone()).ok_or_else(|| ApiError::NotFound(format!("no {} `{}`", scope.name(), scope.owner())))
}

/// What a scope has set.
pub async fn scoped_values(state: &AppState, scope: &Scope) -> Result<ScopedValues, ApiError> {
    let mut values = ScopedValues::default();
    for row in state.store.values(scope).await? {
        if row.kind == ValueKind::Secret.as_str() {
            values.secrets.push(SecretState {
                key: row.key,
                updated_by: row.updated_by,
                updated_at: row.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
        } else {
            values.configs.push(ConfigValue { key: row.key, value: row.value });
        }
    }
    Ok(values)
}

async fn list(state: AppState, principal: Principal, scope: Scope) -> Result<Json<ScopedValues>, ApiError> {
    principal.require(Permission::Admin)?;
    let scope = existing(&state, scope).await?;
    Ok(Json(scoped_values(&state, &scope).await?))
}

/// Checks and stores one value.
pub async fn set(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    kind: ValueKind,
    key: &str,
    value: Value,
) -> Result<(), ApiError> {
    principal.require(Permission::Admin)?;
    let scope = existing(state, scope).await?;
    if !is_env_name(key) {
        return Err(ApiError::Unprocessable(format!(
            "`{}` becomes an environment variable: use letters, digits and `_`, not starting with a digit",
            key.escape_debug()
        )));
    }
    let text = match (kind, value) {
        (ValueKind::Secret, Value::String(s)) => s,
        (ValueKind::Secret, _) => return Err(ApiError::Unprocessable("a secret's value must be a string".into())),
        (ValueKind::Config, value) => value.to_string(),
    };
    if text.len() > MAX_VALUE_BYTES {
        return Err(ApiError::TooLarge(format!("a value may have at most {MAX_VALUE_BYTES} bytes")));
    }
    state.store.set_value(&scope, kind, key, &text, &principal.name).await?;
    let target = format!("{} {} {}", scope.name(), scope.owner(), key);
    state
        .store
        .audit(principal.audit(if kind == ValueKind::Secret { "secret-set" } else { "config-set" }, target))
        .await?;
    Ok(())
}

/// Removes one value.
pub async fn remove(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    kind: ValueKind,
    key: &str,
) -> Result<(), ApiError> {
    principal.require(Permission::Admin)?;
    if !state.store.remove_value(&scope, kind, key).await? {
        return Err(ApiError::NotFound(format!("{} `{key}` is not set for this {}", kind.as_str(), scope.name())));
    }
    let target = format!("{} {} {}", scope.name(), scope.owner(), key);
    state
        .store
        .audit(principal.audit(if kind == ValueKind::Secret { "secret-remove" } else { "config-remove" }, target))
        .await?;
    Ok(())
}

async fn list_platform(State(state): State<AppState>, principal: Principal) -> Result<Json<ScopedValues>, ApiError> {
    list(state, principal, Scope::Platform).await
}

async fn list_project(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<Json<ScopedValues>, ApiError> {
    list(state, principal, Scope::Project(name)).await
}

async fn list_service(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<Json<ScopedValues>, ApiError> {
    list(state, principal, Scope::Service(name)).await
}

async fn set_platform(
    State(state): State<AppState>,
    principal: Principal,
    Path((segment, key)): Path<(String, String)>,
    Json(new): Json<NewValue>,
) -> Result<StatusCode, ApiError> {
    set(&state, &principal, Scope::Platform, kind(&segment)?, &key, new.value).await.map(|()| StatusCode::NO_CONTENT)
}

async fn set_project(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, segment, key)): Path<(String, String, String)>,
    Json(new): Json<NewValue>,
) -> Result<StatusCode, ApiError> {
    set(&state, &principal, Scope::Project(name), kind(&segment)?, &key, new.value)
        .await
        .map(|()| StatusCode::NO_CONTENT)
}

async fn set_service(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, segment, key)): Path<(String, String, String)>,
    Json(new): Json<NewValue>,
) -> Result<StatusCode, ApiError> {
    set(&state, &principal, Scope::Service(name), kind(&segment)?, &key, new.value)
        .await
        .map(|()| StatusCode::NO_CONTENT)
}

async fn remove_platform(
    State(state): State<AppState>,
    principal: Principal,
    Path((segment, key)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    remove(&state, &principal, Scope::Platform, kind(&segment)?, &key).await.map(|()| StatusCode::NO_CONTENT)
}

async fn remove_project(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, segment, key)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    remove(&state, &principal, Scope::Project(name), kind(&segment)?, &key).await.map(|()| StatusCode::NO_CONTENT)
}

async fn remove_service(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, segment, key)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    remove(&state, &principal, Scope::Service(name), kind(&segment)?, &key).await.map(|()| StatusCode::NO_CONTENT)
}

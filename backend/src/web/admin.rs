//! The admin API: users (`/api/v1/users`), API tokens (`/api/v1/tokens`), event sources
//! (`/api/v1/sources`) and the audit trail (`/api/v1/audit`). Admins only; every change is audited. Token
//! values and source secrets appear once, in the answer that creates them.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{delete, get},
    Json, Router,
};
use model::access::{AuditView, SourceView, TokenView, UserView};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};

use super::ApiError;
use crate::{
    access::{Permission, Role, Scope},
    auth::{manage, password, Principal},
    state::AppState,
    store::WebhookShape,
    views::access as views,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list_users).post(add_user))
        .route("/api/v1/users/{name}", delete(remove_user).patch(change_user))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/sources", get(list_sources).post(add_source))
        .route("/api/v1/sources/{name}", delete(remove_source))
        .route("/api/v1/audit", get(audit))
}

type Created = (StatusCode, Json<Value>);

async fn list_users(State(state): State<AppState>, principal: Principal) -> Result<Json<Vec<UserView>>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(views::users(&state.store).await?))
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
    role: Role,
    /// Generated (and answered once) when left out.
    password: Option<SecretString>,
}

async fn add_user(
    State(state): State<AppState>,
    principal: Principal,
    Json(user): Json<NewUser>,
) -> Result<Created, ApiError> {
    principal.require(Permission::Admin)?;
    let generated = user.password.is_none();
    let password = user.password.unwrap_or_else(password::generate);
    manage::add_user(&state.store, &user.name, user.role, password.clone()).await?;
    state.store.audit(principal.audit("user-add", &user.name)).await?;
    let mut body = json!({ "name": user.name, "role": user.role });
    if generated {
        body["password"] = password.expose_secret().into();
    }
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize)]
struct UserChange {
    role: Option<Role>,
    password: Option<SecretString>,
}

async fn change_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    Json(change): Json<UserChange>,
) -> Result<StatusCode, ApiError> {
    principal.require(Permission::Admin)?;
    if let Some(password) = change.password {
        manage::set_password(&state.store, &name, password).await?;
        state.store.audit(principal.audit("user-password", &name)).await?;
    }
    if let Some(role) = change.role {
        manage::set_role(&state.store, &name, role).await?;
        state.store.audit(principal.audit("user-role", format!("{name} → {}", role.as_str()))).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Permission::Admin)?;
    manage::remove_user(&state.store, &name).await?;
    state.store.audit(principal.audit("user-remove", &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_tokens(State(state): State<AppState>, principal: Principal) -> Result<Json<Vec<TokenView>>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(views::tokens(&state.store).await?))
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
    scopes: Vec<Scope>,
    /// The user it acts for; the caller when left out.
    owner: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewToken>,
) -> Result<Created, ApiError> {
    principal.require(Permission::Admin)?;
    let owner = new.owner.unwrap_or_else(|| principal.name.clone());
    let created = manage::create_token(&state.store, &owner, &new.name, &new.scopes, None).await?;
    state.store.audit(principal.audit("token-create", format!("{}… ({})", created.prefix, new.name))).await?;
    let body = json!({
        "id": created.id, "prefix": created.prefix, "owner": owner, "scopes": new.scopes,
        "token": created.token.expose_secret(),
    });
    Ok((StatusCode::CREATED, Json(body)))
}

async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Permission::Admin)?;
    let revoked = manage::revoke_token(&state.store, &id).await?;
    state.store.audit(principal.audit("token-revoke", format!("{}… ({})", revoked.prefix, revoked.name))).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_sources(State(state): State<AppState>, principal: Principal) -> Result<Json<Vec<SourceView>>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(views::sources(&state.store).await?))
}

#[derive(Deserialize)]
struct NewSource {
    name: String,
    /// `github`, `gitlab`, `gitea` or `minio`: how their plain webhooks become events.
    preset: Option<String>,
    /// Or the shape spelt out (fields given here win over the preset's).
    #[serde(flatten)]
    shape: WebhookShape,
}

async fn add_source(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewSource>,
) -> Result<Created, ApiError> {
    principal.require(Permission::Admin)?;
    let shape = manage::shape(new.preset.as_deref(), new.shape)?;
    let secret = manage::add_source(&state.store, &new.name, &shape, &principal.name).await?;
    state.store.audit(principal.audit("source-add", &new.name)).await?;
    let body = json!({
        "name": new.name, "endpoint": format!("/api/v1/sources/{}/events", new.name),
        "webhook": format!("/api/v1/webhooks/{}", new.name), "shape": shape,
        "secret": secret.expose_secret(),
    });
    Ok((StatusCode::CREATED, Json(body)))
}

async fn remove_source(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Permission::Admin)?;
    if !state.store.remove_source(&name).await? {
        return Err(ApiError::NotFound(format!("no event source `{name}`")));
    }
    state.store.audit(principal.audit("source-remove", &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default = "default_limit")]
    limit: u64,
}

fn default_limit() -> u64 {
    200
}

async fn audit(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Vec<AuditView>>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(views::audit(&state.store, query.limit.clamp(1, 5000)).await?))
}

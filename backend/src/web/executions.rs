//! Executions over the API, for scripts and the CLI: `GET /api/v1/executions` (newest first; filters
//! `service`, `status`, `event_id`; paged with `page` and `per_page`), `GET /api/v1/executions/{id}`, and
//! `POST /api/v1/executions/{id}/cancel`. The execution page's Cancel button posts to
//! `/executions/{id}/cancel`, which cancels the same way and returns to the page (works without JavaScript).

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect},
    routing::{get, post},
    Json, Router,
};
use model::views::{ExecutionStatus, ExecutionSummary};
use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::{
    access::Permission,
    auth::Principal,
    state::AppState,
    store::{entities::execution, ExecutionFilter},
    views::execution_summary,
};

/// The most executions one page holds.
const MAX_PER_PAGE: u64 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/executions", get(list))
        .route("/api/v1/executions/{id}", get(one))
        .route("/api/v1/executions/{id}/cancel", post(cancel_api))
        .route("/executions/{id}/cancel", post(cancel_form))
}

/// One execution as the API shows it.
#[derive(Serialize)]
struct ExecutionJson {
    #[serde(flatten)]
    summary: ExecutionSummary,
    /// Why it failed (or was cancelled), when k8x or the cluster knows.
    error: Option<String>,
    executor: String,
    /// The attempts before the current one (a single execution only).
    #[serde(skip_serializing_if = "Option::is_none")]
    attempts: Option<Vec<model::views::AttemptSummary>>,
}

impl From<execution::Model> for ExecutionJson {
    fn from(row: execution::Model) -> Self {
        let error = row.error.clone();
        let executor = row.executor.clone();
        Self { summary: execution_summary(row), error, executor, attempts: None }
    }
}

#[derive(Deserialize)]
struct ListQuery {
    service: Option<String>,
    status: Option<String>,
    event_id: Option<String>,
    #[serde(default = "first_page")]
    page: u64,
    #[serde(default = "default_per_page")]
    per_page: u64,
}

fn first_page() -> u64 {
    1
}

fn default_per_page() -> u64 {
    50
}

#[derive(Serialize)]
struct Page {
    executions: Vec<ExecutionJson>,
    page: u64,
    per_page: u64,
    /// The next page's number, when there may be one.
    next_page: Option<u64>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page>, ApiError> {
    principal.require(Permission::Read)?;
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(text) => Some(parse_status(text)?),
    };
    if query.page == 0 || query.per_page == 0 || query.per_page > MAX_PER_PAGE {
        return Err(ApiError::BadRequest(format!(
            "`page` counts from 1 and `per_page` is between 1 and {MAX_PER_PAGE}"
        )));
    }
    let filter = ExecutionFilter {
        service: query.service.filter(|s| !s.is_empty()),
        status,
        event_id: query.event_id.filter(|s| !s.is_empty()),
        offset: (query.page - 1).saturating_mul(query.per_page),
        limit: query.per_page,
    };
    let rows = state.store.find_executions(&filter).await?;
    let full = rows.len() as u64 == query.per_page;
    Ok(Json(Page {
        executions: rows.into_iter().map(ExecutionJson::from).collect(),
        page: query.page,
        per_page: query.per_page,
        next_page: full.then_some(query.page + 1),
    }))
}

fn parse_status(text: &str) -> Result<ExecutionStatus, ApiError> {
    let status = ExecutionStatus::parse(text);
    if status.as_str() == text {
        Ok(status)
    } else {
        Err(ApiError::BadRequest(format!(
            "`status` is one of queued, running, succeeded, failed, cancelled, interrupted; not `{text}`"
        )))
    }
}

async fn one(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<ExecutionJson>, ApiError> {
    principal.require(Permission::Read)?;
    let detail = crate::views::execution(&state.store, &id, model::views::LogWindow::Tail).await?;
    let detail = detail.ok_or_else(|| ApiError::NotFound(format!("no execution `{id}`")))?;
    let row = state.store.execution(&id).await?.ok_or_else(|| ApiError::NotFound(format!("no execution `{id}`")))?;
    Ok(Json(ExecutionJson { attempts: Some(detail.attempts), ..row.into() }))
}

/// Records the cancel and asks the executor to stop it.
async fn cancel(state: &AppState, principal: &Principal, id: &str) -> Result<(), ApiError> {
    principal.require(Permission::Operate)?;
    let Some(_) = state.store.execution(id).await? else {
        return Err(ApiError::NotFound(format!("no execution `{id}`")));
    };
    if state.store.request_cancel(id).await?.is_none() {
        return Err(ApiError::Conflict(format!("execution `{id}` has already ended")));
    }
    state.store.audit(principal.audit("cancel", id)).await?;
    state.executor.cancel(id).await.map_err(|e| ApiError::Internal(e.to_string()))
}

async fn cancel_api(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    cancel(&state, &principal, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({"id": id, "cancel": "requested"}))))
}

async fn cancel_form(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Redirect, ApiError> {
    match cancel(&state, &principal, &id).await {
        Ok(()) | Err(ApiError::Conflict(_)) => Ok(Redirect::to(&format!("/executions/{id}"))),
        Err(err) => Err(err),
    }
}

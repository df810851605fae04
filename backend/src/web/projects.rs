//! The projects API: `GET/POST /api/v1/projects`, `GET/PATCH/DELETE /api/v1/projects/{name}`,
//! `POST /api/v1/projects/{name}/sync`, `POST /api/v1/projects/{name}/archive` (a `.tar.gz` or `.zip` body), and the Git hosts' push webhook `POST /api/v1/git/push`. Reading needs
//! a session or token; syncing, operating; creating, changing and removing, admin (audited). A project's
//! webhook secret is shown to admins only; a token or deploy key's private half to nobody.

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Json, Router,
};
use model::projects::{ProjectDetail, ProjectView, SyncView};
use serde_json::{json, Value};

use super::ApiError;
use crate::{
    access::Permission,
    auth::{signature, Principal},
    projects::{
        manage::{NewProject, ProjectChange},
        views::WEBHOOK_PATH,
        webhook::{self, PushError},
        ProjectError,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/projects", get(list).post(create))
        .route("/api/v1/projects/{name}", get(detail).patch(change).delete(remove))
        .route("/api/v1/projects/{name}/sync", post(sync))
        .route(
            "/api/v1/projects/{name}/archive",
            post(upload).layer(DefaultBodyLimit::max(crate::projects::archive::MAX_ARCHIVE_BYTES)),
        )
        .route(WEBHOOK_PATH, post(push))
}

impl From<ProjectError> for ApiError {
    fn from(err: ProjectError) -> Self {
        match err {
            ProjectError::NotFound(_) => Self::NotFound(err.to_string()),
            ProjectError::Busy(_) | ProjectError::Exists(_) => Self::Conflict(err.to_string()),
            ProjectError::Invalid(_) | ProjectError::Archive(_) => Self::Unprocessable(err.to_string()),
            ProjectError::Store(store) => store.into(),
        }
    }
}

async fn list(State(state): State<AppState>, principal: Principal) -> Result<Json<Vec<ProjectView>>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(state.projects.list().await?))
}

async fn detail(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<Json<ProjectDetail>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(state.projects.detail(&name, principal.allows(Permission::Admin)).await?))
}

/// Creates the project and syncs it once; answers both.
async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewProject>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    principal.require(Permission::Admin)?;
    let row = state.projects.create(new).await?;
    state.store.audit(principal.audit("project-add", &row.name)).await?;
    let sync = match row.kind.as_str() {
        "archive" => None,
        _ => Some(state.projects.sync(&row.name, "manual").await?),
    };
    let detail = state.projects.detail(&row.name, true).await?;
    Ok((StatusCode::CREATED, Json(json!({ "project": detail, "sync": sync }))))
}

async fn change(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    Json(change): Json<ProjectChange>,
) -> Result<Json<ProjectDetail>, ApiError> {
    principal.require(Permission::Admin)?;
    state.projects.change(&name, change).await?;
    state.store.audit(principal.audit("project-change", &name)).await?;
    Ok(Json(state.projects.detail(&name, true).await?))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Permission::Admin)?;
    state.projects.remove(&name).await?;
    state.store.audit(principal.audit("project-remove", &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sync(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<Json<SyncView>, ApiError> {
    principal.require(Permission::Operate)?;
    let sync = state.projects.sync(&name, "manual").await?;
    state.store.audit(principal.audit("project-sync", &name)).await?;
    Ok(Json(sync))
}

/// An archive of service directories (`.tar.gz` or `.zip`) becomes an archive project's services: the raw body
/// (scripts: answered with the sync as JSON), or the `archive` field of a form (the project page, which works
/// without JavaScript: answered with a redirect back to the page, saying how it went).
async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    principal.require(Permission::Admin)?;
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_form {
        let body = Bytes::from_request(request, &state).await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let sync = state.projects.upload(&name, body).await?;
        state.store.audit(principal.audit("project-upload", &name)).await?;
        return Ok(Json(sync).into_response());
    }
    let mut form = Multipart::from_request(request, &state).await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let mut archive = None;
    while let Some(field) = form.next_field().await.map_err(|e| ApiError::BadRequest(e.body_text()))? {
        if field.name() == Some("archive") {
            archive = Some(field.bytes().await.map_err(|e| ApiError::BadRequest(e.body_text()))?);
        }
    }
    let page = format!("/projects/{}", form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>());
    let outcome = match archive {
        None => Err("choose an archive to upload".to_owned()),
        Some(bytes) => match state.projects.upload(&name, bytes).await {
            Ok(sync) => Ok(sync),
            Err(ProjectError::Store(err)) => return Err(err.into()),
            Err(err) => Err(err.to_string()),
        },
    };
    let query = match outcome {
        Ok(sync) => {
            state.store.audit(principal.audit("project-upload", &name)).await?;
            format!("uploaded={}", sync.result)
        }
        Err(error) => format!("upload_error={}", form_urlencoded::byte_serialize(error.as_bytes()).collect::<String>()),
    };
    Ok(Redirect::to(&format!("{page}?{query}")).into_response())
}

/// A Git host's push (GitHub, Gitea, GitLab): the projects following that branch of that repository whose secret the request
/// carries are synced (in the background: the host does not wait).
async fn push(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let push = webhook::parse(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    // Gitea signs as GitHub does, in its own header and without the `sha256=` prefix.
    let gitea = header("x-gitea-signature").map(|hex| format!("sha256={}", hex.trim()));
    let signature = header(signature::HEADER).map(str::to_owned).or(gitea);
    let names = state
        .projects
        .projects_for_push(&push, &body, signature.as_deref(), header(signature::TOKEN_HEADER))
        .await
        .map_err(|err| match err {
            PushError::NotAPush(_) => ApiError::BadRequest(err.to_string()),
            PushError::NoProject { .. } => ApiError::NotFound(err.to_string()),
            PushError::Signature(_) => ApiError::Unauthorized(err.to_string()),
            PushError::Project(err) => err.into(),
        })?;
    for name in &names {
        let (projects, name) = (state.projects.clone(), name.clone());
        tokio::spawn(async move {
            // A sync running now may have fetched before the push: wait for it to end, then fetch again.
            for _ in 0..600 {
                match projects.sync(&name, "webhook").await {
                    Err(ProjectError::Busy(_)) => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
                    Err(err) => return tracing::warn!(%err, project = %name, "push sync failed"),
                    Ok(_) => return,
                }
            }
            tracing::warn!(project = %name, "a push found the project busy for 10 minutes; not synced");
        });
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "syncing": names }))))
}

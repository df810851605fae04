//! The projects pages' server functions: list, one project, add / change / remove (admins, audited), sync now
//! (operators). The webhook secret reaches admins only; tokens and deploy keys' private halves nobody.

use leptos::prelude::*;
use model::projects::{ProjectDetail, ProjectView, SyncView};

#[cfg(feature = "ssr")]
use super::{allowed, audit, state};
#[cfg(feature = "ssr")]
use backend::{
    access::Permission::{Admin, Operate, Read},
    projects::{
        manage::{GitSource, NewProject, ProjectChange},
        ProjectError,
    },
};

#[cfg(feature = "ssr")]
fn refused(err: ProjectError) -> ServerFnError {
    match err {
        ProjectError::Store(err) => super::internal(err),
        other => ServerFnError::new(other.to_string()),
    }
}

/// Empty form fields are left out.
#[cfg(feature = "ssr")]
fn given(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

#[cfg(feature = "ssr")]
fn interval(text: Option<String>) -> Result<Option<i32>, ServerFnError> {
    given(text)
        .map(|t| t.parse().map_err(|_| ServerFnError::new(format!("`{t}` is not a number of seconds"))))
        .transpose()
}

#[server(endpoint = "list_projects")]
pub async fn list_projects() -> Result<Vec<ProjectView>, ServerFnError> {
    allowed(Read).await?;
    state()?.projects.list().await.map_err(refused)
}

/// One project; `None` when there is none.
#[server(endpoint = "get_project")]
pub async fn get_project(name: String) -> Result<Option<ProjectDetail>, ServerFnError> {
    let principal = allowed(Read).await?;
    match state()?.projects.detail(&name, principal.allows(Admin)).await {
        Ok(detail) => Ok(Some(detail)),
        Err(ProjectError::NotFound(_)) => Ok(None),
        Err(err) => Err(refused(err)),
    }
}

/// Adds a project from the form (`source`: `git`, `directory` or `archive`) and syncs it once; returns its
/// name.
#[server(endpoint = "add_project")]
pub async fn add_project(
    name: String,
    description: Option<String>,
    source: String,
    url: Option<String>,
    branch: Option<String>,
    path: Option<String>,
    token: Option<String>,
    interval_seconds: Option<String>,
) -> Result<String, ServerFnError> {
    let principal = allowed(Admin).await?;
    let state = state()?;
    let mut new = NewProject {
        name: name.trim().to_owned(),
        description: description.unwrap_or_default(),
        sync_interval_seconds: interval(interval_seconds)?,
        ..Default::default()
    };
    match source.as_str() {
        "git" => {
            let url = given(url).ok_or_else(|| ServerFnError::new("a Git project needs the repository's URL"))?;
            let token = given(token).map(Into::into);
            new.git = Some(GitSource { url, branch: given(branch), path: given(path), token });
        }
        "directory" => new.directory = Some(given(url).ok_or_else(|| ServerFnError::new("give the directory"))?),
        "archive" => new.archive = true,
        other => return Err(ServerFnError::new(format!("`{other}` is not a project source"))),
    }
    let row = state.projects.create(new).await.map_err(refused)?;
    audit(principal.audit("project-add", &row.name)).await?;
    if row.kind != "archive" {
        state.projects.sync(&row.name, "manual").await.map_err(refused)?;
    }
    Ok(row.name)
}

/// Changes a project's description, Git source and interval (an empty token keeps the one set).
#[server(endpoint = "edit_project")]
pub async fn edit_project(
    name: String,
    description: Option<String>,
    url: Option<String>,
    branch: Option<String>,
    path: Option<String>,
    token: Option<String>,
    interval_seconds: Option<String>,
) -> Result<(), ServerFnError> {
    let principal = allowed(Admin).await?;
    let state = state()?;
    let current = state.projects.detail(&name, false).await.map_err(refused)?;
    let git = match (current.project.kind.as_str(), given(url)) {
        ("git", Some(url)) => Some(GitSource { url, branch: given(branch), path, token: given(token).map(Into::into) }),
        _ => None,
    };
    let change =
        ProjectChange { description, git, directory: None, sync_interval_seconds: Some(interval(interval_seconds)?) };
    state.projects.change(&name, change).await.map_err(refused)?;
    audit(principal.audit("project-change", &name)).await
}

#[server(endpoint = "remove_project")]
pub async fn remove_project(name: String) -> Result<(), ServerFnError> {
    let principal = allowed(Admin).await?;
    state()?.projects.remove(&name).await.map_err(refused)?;
    audit(principal.audit("project-remove", &name)).await
}

/// Syncs a project now; returns the sync.
#[server(endpoint = "sync_project")]
pub async fn sync_project(name: String) -> Result<SyncView, ServerFnError> {
    let principal = allowed(Operate).await?;
    let sync = state()?.projects.sync(&name, "manual").await.map_err(refused)?;
    audit(principal.audit("project-sync", &name)).await?;
    Ok(sync)
}

/// `platform`, `project` or `service`, and whose.
#[cfg(feature = "ssr")]
fn scope(scope: &str, owner: String) -> Result<backend::store::Scope, ServerFnError> {
    use backend::store::Scope;
    match scope {
        "platform" => Ok(Scope::Platform),
        "project" => Ok(Scope::Project(owner)),
        "service" => Ok(Scope::Service(owner)),
        other => Err(ServerFnError::new(format!("`{other}` is not a scope"))),
    }
}

#[cfg(feature = "ssr")]
fn api_refused(err: backend::api_error::ApiError) -> ServerFnError {
    ServerFnError::new(err.to_string())
}

/// The secrets (names only) and configs set for a scope.
#[server(endpoint = "get_scoped_values")]
pub async fn get_scoped_values(scope: String, owner: String) -> Result<model::projects::ScopedValues, ServerFnError> {
    allowed(Admin).await?;
    let scope = self::scope(&scope, owner)?;
    backend::web::values::scoped_values(&state()?, &scope).await.map_err(api_refused)
}

/// Sets a secret (`kind` `secret`: the text) or a config (`config`: JSON, or else the text as a string).
#[server(endpoint = "set_scoped_value")]
pub async fn set_scoped_value(
    scope: String,
    owner: String,
    kind: String,
    key: String,
    value: String,
) -> Result<(), ServerFnError> {
    use backend::store::ValueKind;
    let principal = allowed(Admin).await?;
    let (kind, value) = match kind.as_str() {
        "secret" => (ValueKind::Secret, serde_json::Value::String(value)),
        "config" => (ValueKind::Config, serde_json::from_str(&value).unwrap_or(serde_json::Value::String(value))),
        other => return Err(ServerFnError::new(format!("`{other}` is neither a secret nor a config"))),
    };
    let scope = self::scope(&scope, owner)?;
    backend::web::values::set(&state()?, &principal, scope, kind, key.trim(), value).await.map_err(api_refused)
}

#[server(endpoint = "remove_scoped_value")]
pub async fn remove_scoped_value(scope: String, owner: String, kind: String, key: String) -> Result<(), ServerFnError> {
    use backend::store::ValueKind;
    let principal = allowed(Admin).await?;
    let kind = if kind == "secret" { ValueKind::Secret } else { ValueKind::Config };
    let scope = self::scope(&scope, owner)?;
    backend::web::values::remove(&state()?, &principal, scope, kind, &key).await.map_err(api_refused)
}

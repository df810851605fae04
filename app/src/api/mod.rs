//! Server functions: the UI's reads and the admin pages' actions. Each takes the backend state and the
//! caller from the request, checks the caller's permission itself (hiding a button is not a check), then
//! delegates to `backend`.

mod admin;
mod projects;

pub use admin::*;
pub use projects::*;

use leptos::prelude::*;
use model::{
    access::CurrentUser,
    views::{ExecutionDetail, ExecutionSummary, ServiceDetail, ServicePage},
};

#[cfg(feature = "ssr")]
fn state() -> Result<backend::AppState, ServerFnError> {
    use_context::<backend::AppState>().ok_or_else(|| ServerFnError::new("k8x state is missing"))
}

/// The caller, as the authentication layer found them.
#[cfg(feature = "ssr")]
async fn caller() -> Result<backend::auth::Principal, ServerFnError> {
    let parts = use_context::<http::request::Parts>().ok_or_else(|| ServerFnError::new("no request"))?;
    parts.extensions.get::<backend::auth::Principal>().cloned().ok_or_else(|| ServerFnError::new("sign in first"))
}

/// The caller, if they may do `permission`.
#[cfg(feature = "ssr")]
async fn allowed(permission: backend::access::Permission) -> Result<backend::auth::Principal, ServerFnError> {
    let principal = caller().await?;
    principal.require(permission).map_err(|refused| ServerFnError::new(refused.to_string()))?;
    Ok(principal)
}

/// Puts an action on the audit trail.
#[cfg(feature = "ssr")]
async fn audit(record: backend::store::AuditRecord) -> Result<(), ServerFnError> {
    state()?.store.audit(record).await.map_err(internal)
}

#[cfg(feature = "ssr")]
fn internal(err: backend::store::StoreError) -> ServerFnError {
    tracing::error!(%err, "a page could not be loaded");
    ServerFnError::new("k8x could not read its store; see the server log")
}

/// Who is signed in, if anyone.
#[server(endpoint = "who_am_i")]
pub async fn who_am_i() -> Result<Option<CurrentUser>, ServerFnError> {
    Ok(caller().await.ok().as_ref().map(backend::views::access::current_user))
}

/// Page `page` of the services matching `search` (all when it is empty), and the problems of the projects' last
/// syncs.
#[server(endpoint = "list_services")]
pub async fn list_services(search: String, page: u64) -> Result<(ServicePage, Vec<String>), ServerFnError> {
    allowed(backend::access::Permission::Read).await?;
    let state = state()?;
    let services = backend::views::services(&state.store, &search, page).await.map_err(internal)?;
    let problems = state.projects.problems().await.map_err(|err| {
        tracing::error!(%err, "the projects' problems could not be read");
        ServerFnError::new("k8x could not read its store; see the server log")
    })?;
    Ok((services, problems))
}

/// One service.
#[server(endpoint = "get_service")]
pub async fn get_service(name: String) -> Result<Option<ServiceDetail>, ServerFnError> {
    let principal = allowed(backend::access::Permission::Read).await?;
    let admin = principal.allows(backend::access::Permission::Admin);
    backend::views::service(&state()?.store, &name, admin).await.map_err(internal)
}

/// The newest executions.
#[server(endpoint = "list_executions")]
pub async fn list_executions() -> Result<Vec<ExecutionSummary>, ServerFnError> {
    allowed(backend::access::Permission::Read).await?;
    backend::views::executions(&state()?.store, 200).await.map_err(internal)
}

/// One execution with the part of its log the page's query asks for (`log`, `log_page`, `log_q`: the newest
/// lines, a page, search matches; see [`LogWindow::from_query`]). Plain strings, as the URL has them.
#[server(endpoint = "get_execution")]
pub async fn get_execution(
    id: String,
    log: Option<String>,
    log_page: Option<String>,
    log_q: Option<String>,
) -> Result<Option<ExecutionDetail>, ServerFnError> {
    allowed(backend::access::Permission::Read).await?;
    let window = model::views::LogWindow::from_query(log.as_deref(), log_page.as_deref(), log_q.as_deref());
    backend::views::execution(&state()?.store, &id, window).await.map_err(internal)
}

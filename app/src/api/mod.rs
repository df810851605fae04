//! Server functions: the UI's reads. Each takes the backend state from context and delegates.

use leptos::prelude::*;
use model::views::{ExecutionDetail, ExecutionSummary, ServiceDetail, ServiceSummary};

#[cfg(feature = "ssr")]
fn state() -> Result<backend::AppState, ServerFnError> {
    use_context::<backend::AppState>().ok_or_else(|| ServerFnError::new("k8x state is missing"))
}

#[cfg(feature = "ssr")]
fn internal(err: backend::store::StoreError) -> ServerFnError {
    tracing::error!(%err, "a page could not be loaded");
    ServerFnError::new("k8x could not read its store; see the server log")
}

/// The services matching `search` (all when it is empty), and the problems found loading them.
#[server]
pub async fn list_services(search: String) -> Result<(Vec<ServiceSummary>, Vec<String>), ServerFnError> {
    let state = state()?;
    let services = backend::views::services(&state.store, &search).await.map_err(internal)?;
    Ok((services, state.catalog_problems.iter().map(ToString::to_string).collect()))
}

/// One service.
#[server]
pub async fn get_service(name: String) -> Result<Option<ServiceDetail>, ServerFnError> {
    backend::views::service(&state()?.store, &name).await.map_err(internal)
}

/// The newest executions.
#[server]
pub async fn list_executions() -> Result<Vec<ExecutionSummary>, ServerFnError> {
    backend::views::executions(&state()?.store, 200).await.map_err(internal)
}

/// One execution with its log so far: the newest lines, or all of them with `whole_log`.
#[server]
pub async fn get_execution(id: String, whole_log: bool) -> Result<Option<ExecutionDetail>, ServerFnError> {
    backend::views::execution(&state()?.store, &id, whole_log).await.map_err(internal)
}

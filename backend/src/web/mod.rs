//! HTTP routes that are not Leptos pages: health, sign-in and out, manual runs from the form, executions
//! (list, one, cancel), the log stream and download, the admin API, dead letters, projects and scoped secrets and configs; plus the two layers every route
//! passes: [`browser`] (cross-site refusal, protective headers) and [`authenticate`] (who is asking).
//! Each file owns its routes; [`router`] merges them with ingest's.

mod admin;
pub mod authenticate;
pub mod browser;
pub mod dead_letters;
mod executions;
mod health;
mod login;
mod logs;
mod projects;
mod runs;
pub mod values;

use axum::Router;

pub use crate::api_error::ApiError;

use crate::state::AppState;

/// Every API route, ready to merge with the UI's.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(crate::ingest::router(state.config.max_event_bytes))
        .merge(health::router())
        .merge(runs::router())
        .merge(logs::router())
        .merge(executions::router())
        .merge(login::router())
        .merge(admin::router())
        .merge(dead_letters::router())
        .merge(projects::router())
        .merge(values::router())
}

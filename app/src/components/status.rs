//! Status badges and small formatting helpers.

use leptos::prelude::*;
use model::views::ExecutionStatus;

/// A coloured badge for an execution status.
#[component]
pub fn StatusBadge(status: ExecutionStatus) -> impl IntoView {
    view! { <span class=format!("badge status-{}", status.as_str())>{status.as_str()}</span> }
}

/// An RFC 3339 timestamp shortened to `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn short_time(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " ")
}

/// The first eight characters of an id, enough to tell executions apart in a list.
pub fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

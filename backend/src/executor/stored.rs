//! Executions rebuilt from the store: for a k8x that takes over Jobs it did not launch in this run (after a
//! restart), and for ending an execution that never started (a cancel before its launch) with its completion
//! event like any other ending.

use cloudevents::Event;

use super::Launch;
use crate::{
    catalog::ServiceSpec,
    store::{entities::execution, Ending, Store},
};

/// Why a stored execution cannot be launched again.
#[derive(Debug, thiserror::Error)]
pub enum NotLaunchable {
    /// Reading the store failed: try again later.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Its service or event is gone or broken: it never will be.
    #[error("{0}")]
    Gone(String),
}

/// The [`Launch`] of a stored execution, or why it cannot be rebuilt.
pub async fn stored_launch(store: &Store, row: &execution::Model) -> Result<Launch, NotLaunchable> {
    let gone = NotLaunchable::Gone;
    let service = store
        .service(&row.service)
        .await?
        .ok_or_else(|| gone(format!("its service `{}` is no longer in the catalog", row.service)))?;
    let service = ServiceSpec::from_row(&service).map_err(|e| gone(e.to_string()))?;
    let recorded = store.event(&row.event_key).await?.ok_or_else(|| gone("its event is not recorded".to_owned()))?;
    let event: Event = serde_json::from_str(&recorded.event).map_err(|e| gone(format!("its recorded event: {e}")))?;
    let params = serde_json::from_str(&row.params).map_err(|e| gone(format!("its parameters: {e}")))?;
    Ok(Launch { execution_id: row.id.clone(), attempt: row.attempt, service, event, params })
}

/// Ends an execution that is not running anywhere (a queued one that was cancelled), announced as any ending is.
pub async fn end_unstarted(store: &Store, id: &str, ending: Ending) -> Result<(), crate::store::StoreError> {
    let Some(row) = store.execution(id).await? else { return Ok(()) };
    if row.status == model::views::ExecutionStatus::Queued.as_str() {
        store.finish_execution(id, &ending).await?;
    }
    Ok(())
}

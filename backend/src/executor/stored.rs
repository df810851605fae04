//! Executions from the store: [`Relaunch`], how an executor gets the launch of an execution it takes over (after
//! a restart), and ending an execution that never started (a cancel before its launch) like any other ending.

use super::Launch;
use crate::store::{entities::execution, Ending, Store};

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

/// Rebuilds the [`Launch`] of a stored execution (its service and event as stored), for an executor taking over
/// executions it did not start. Provided by the layer above, which reads the catalog.
#[async_trait::async_trait]
pub trait Relaunch: Send + Sync {
    async fn relaunch(&self, row: &execution::Model) -> Result<Launch, NotLaunchable>;
}

/// Ends an execution that is not running anywhere (a queued one that was cancelled), announced as any ending is.
pub async fn end_unstarted(store: &Store, id: &str, ending: Ending) -> Result<(), crate::store::StoreError> {
    let Some(row) = store.execution(id).await? else { return Ok(()) };
    if row.status == model::views::ExecutionStatus::Queued.as_str() {
        store.finish_execution(id, &ending).await?;
    }
    Ok(())
}

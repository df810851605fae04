//! Launches rebuilt from the store — the service as the catalog has it now, the event as recorded — for the
//! queue and for executors that take over executions they did not start.

use async_trait::async_trait;
use cloudevents::Event;

use crate::{
    executor::{
        stored::{NotLaunchable, Relaunch},
        Launch,
    },
    store::{entities::execution, Store},
};

/// Rebuilds launches from the store.
#[derive(Clone)]
pub struct StoredLaunches {
    pub store: Store,
}

#[async_trait]
impl Relaunch for StoredLaunches {
    async fn relaunch(&self, row: &execution::Model) -> Result<Launch, NotLaunchable> {
        let gone = NotLaunchable::Gone;
        let store = &self.store;
        let service = store
            .service(&row.service)
            .await?
            .ok_or_else(|| gone(format!("its service `{}` is no longer in the catalog", row.service)))?;
        let service = crate::catalog::read_service(&service).map_err(|e| gone(e.to_string()))?;
        let service = crate::scopes::resolve(store, service).await?;
        let recorded =
            store.event(&row.event_key).await?.ok_or_else(|| gone("its event is not recorded".to_owned()))?;
        let event: Event =
            serde_json::from_str(&recorded.event).map_err(|e| gone(format!("its recorded event: {e}")))?;
        let params = serde_json::from_str(&row.params).map_err(|e| gone(format!("its parameters: {e}")))?;
        Ok(Launch { execution_id: row.id.clone(), attempt: row.attempt, service, event, params })
    }
}

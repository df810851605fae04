//! Handling one delivery: record, match, create, launch.

use cloudevents::{AttributesReader, Data, Event};
use serde_json::Value;

use super::{Dispatcher, RUN_REQUESTED};
use crate::{
    catalog::ServiceSpec,
    executor::{ExecutorError, Launch},
    ids,
    store::{entities::service, NewExecution, StoreError},
};

/// Handling failed in a way a retry may fix.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Executor(#[from] ExecutorError),
}

impl DispatchError {
    /// Whether a retry may fix it: the database or the executor could not be reached. Anything else (a value
    /// the database refuses, say) fails the same way every time.
    pub fn is_transient(&self) -> bool {
        use sea_orm::DbErr;
        match self {
            Self::Store(StoreError::Database(DbErr::Conn(_) | DbErr::ConnectionAcquire(_))) => true,
            Self::Store(_) => false,
            Self::Executor(_) => true,
        }
    }
}

impl Dispatcher {
    /// Everything one event calls for. Safe to repeat: that is what redelivery does.
    pub(super) async fn handle(&self, event: &Event) -> Result<(), DispatchError> {
        let key = ids::event_key(&event.source().to_string(), event.id());
        self.store.record_event(&key, event).await?;
        if crate::chain::depth(event) > crate::chain::MAX_DEPTH {
            tracing::warn!(event = %event.id(), ty = %event.ty(), "a chain of services is deeper than {}; stopping it here", crate::chain::MAX_DEPTH);
            return Ok(());
        }
        let params = params_of(event);
        for service in self.targets(event).await? {
            let execution = self
                .store
                .create_execution(NewExecution {
                    id: ids::execution_id(&key, &service.name),
                    event_key: key.clone(),
                    event_id: event.id().to_owned(),
                    event_type: event.ty().to_owned(),
                    service: service.name.clone(),
                    project: service.project.clone(),
                    params: params.clone(),
                })
                .await?;
            if execution.status == model::views::ExecutionStatus::Queued.as_str() {
                tracing::info!(execution = %execution.id, service = %service.name, event = %event.id(), "launching");
                let launch =
                    Launch { execution_id: execution.id, service, event: event.clone(), params: params.clone() };
                self.executor.launch(launch).await?;
            }
        }
        Ok(())
    }

    /// The services an event runs: the one named by a manual run request, else every active service
    /// subscribed to its type.
    async fn targets(&self, event: &Event) -> Result<Vec<ServiceSpec>, StoreError> {
        let manual = (event.ty() == RUN_REQUESTED).then(|| event.extension(super::manual::SERVICE_EXTENSION)).flatten();
        let rows: Vec<service::Model> = match manual {
            Some(name) => {
                let row = self.store.service(&name.to_string()).await?;
                let runnable = row.filter(|r| r.active && r.allow_manual_triggering);
                if runnable.is_none() {
                    tracing::warn!(service = %name, "a run request for a service that cannot be run by hand; ignored");
                }
                runnable.into_iter().collect()
            }
            // Only the cheap columns decide; the Job is parsed just for the services that will run.
            None => self.store.services().await?.into_iter().filter(|row| subscribes(row, event.ty())).collect(),
        };
        let mut targets = Vec::new();
        for row in rows {
            match ServiceSpec::from_row(&row) {
                Ok(spec) => targets.push(spec),
                Err(err) => tracing::error!(service = %row.name, %err, "stored service is broken; not run"),
            }
        }
        Ok(targets)
    }
}

/// Whether an active service subscribes to events of type `ty`.
fn subscribes(row: &service::Model, ty: &str) -> bool {
    row.active
        && serde_json::from_str::<Vec<String>>(&row.trigger_events).is_ok_and(|types| types.iter().any(|t| t == ty))
}

/// `K8X_PARAMS`: the event's data as JSON. Data that is not JSON arrives as a string; no data as `{}`.
pub fn params_of(event: &Event) -> Value {
    match event.data() {
        None => Value::Object(Default::default()),
        Some(Data::Json(value)) => value.clone(),
        Some(Data::String(text)) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone())),
        Some(Data::Binary(bytes)) => {
            serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
        }
    }
}

//! Handling one delivery: match, record, create, launch.

use cloudevents::{AttributesReader, Data, Event};
use serde_json::Value;

use super::{Dispatcher, RUN_REQUESTED};
use crate::{
    catalog::ServiceSpec,
    chain,
    dispatcher::index::ServiceIndex,
    executor::{ExecutorError, Launch},
    ids,
    store::{NewExecution, StoreError},
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
    /// Whether a retry may fix it: the database or the executor could not be reached, or the database was busy,
    /// shutting down, failing over or resolving a conflict. What the database refuses about the data itself
    /// (a NUL byte, a constraint) or a corrupt stored row fails the same way every time.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(StoreError::Database(err)) => crate::store::is_transient(err),
            Self::Store(_) => false,
            Self::Executor(ExecutorError::Store(StoreError::Database(err))) => crate::store::is_transient(err),
            Self::Executor(_) => true,
        }
    }
}

impl Dispatcher {
    /// Everything one event calls for. Safe to repeat: that is what redelivery does.
    pub(super) async fn handle(&self, event: &Event) -> Result<(), DispatchError> {
        let targets = self.targets(event).await?;
        if targets.is_empty() {
            // Nothing to run: nothing to keep either (the bus has the event), and no write on the way.
            return Ok(());
        }
        let key = ids::event_key(&event.source().to_string(), event.id());
        let depth = chain::depth(event);
        if depth > chain::MAX_DEPTH {
            tracing::warn!(event = %event.id(), ty = %event.ty(), "a chain of services is deeper than {}; stopping it here", chain::MAX_DEPTH);
            self.store.record_event(&key, event).await?;
            return Ok(());
        }
        let correlation = chain::correlation_id(event);
        // A chain may also grow wide (two services each subscribed to every success multiply): past its
        // budget, an event of the chain creates nothing new (what exists already is still launched).
        let full = depth > 0 && self.store.chain_size(&correlation).await? >= self.chain_budget;
        let params = params_of(event);
        let mut news = Vec::with_capacity(targets.len());
        for service in &targets {
            let id = ids::execution_id(&key, &service.name);
            if full && self.store.execution(&id).await?.is_none() {
                tracing::warn!(chain = %correlation, service = %service.name, "a chain of services has caused {} executions; not running more", self.chain_budget);
                continue;
            }
            news.push(NewExecution {
                id,
                event_key: key.clone(),
                event_id: event.id().to_owned(),
                event_type: event.ty().to_owned(),
                service: service.name.clone(),
                project: service.project.clone(),
                params: params.clone(),
                chain: correlation.clone(),
                max_attempts: i32::try_from(service.retries.count).unwrap_or(0).saturating_add(1),
                retry_backoff_seconds: i32::try_from(service.retries.backoff_seconds).unwrap_or(i32::MAX),
                revision: service.revision.clone(),
            });
        }
        // The event and its executions in one transaction, shared with the other events being handled.
        let executions = self.store.record_dispatch(&key, event, news).await?;
        for execution in executions {
            if execution.status != model::views::ExecutionStatus::Queued.as_str() || execution.job_name.is_some() {
                continue;
            }
            let Some(service) = targets.iter().find(|s| s.name == execution.service) else { continue };
            tracing::info!(execution = %execution.id, service = %service.name, event = %event.id(), "launching");
            let service = crate::scopes::resolve(&self.store, service.clone()).await?;
            let launch = Launch {
                execution_id: execution.id,
                attempt: execution.attempt,
                service,
                event: event.clone(),
                params: params.clone(),
            };
            // Launched now if a slot is free; else it waits, queued, and the queue launches it later.
            self.executor.launch(launch).await?;
        }
        Ok(())
    }

    /// The services an event runs: the one named by a manual run request, else every active service
    /// subscribed to its type (and subject), from the in-memory index.
    async fn targets(&self, event: &Event) -> Result<Vec<ServiceSpec>, StoreError> {
        let found = self.targets_in(&*self.catalog.index().await?, event, false);
        if !found.is_empty() {
            return Ok(found);
        }
        // None: a service just added by another process may not be in the index yet; look once more.
        Ok(self.targets_in(&*self.catalog.recheck().await?, event, true))
    }

    /// The services `index` runs for `event`; `last` when a miss is final (and worth a warning).
    fn targets_in(&self, index: &ServiceIndex, event: &Event, last: bool) -> Vec<ServiceSpec> {
        let named = |ty: &str| (event.ty() == ty).then(|| event.extension(super::manual::SERVICE_EXTENSION)).flatten();
        // A schedule's event runs its service (ingest keeps `/schedules/` sources to k8x).
        if let Some(name) =
            named(super::ticker::SCHEDULE_TICK).filter(|_| event.source().starts_with(super::ticker::SCHEDULE_SOURCE))
        {
            let scheduled = index.named(&name.to_string()).filter(|s| s.active && s.schedule.is_some());
            return scheduled.map(|spec| ServiceSpec::clone(spec)).into_iter().collect();
        }
        let manual = named(RUN_REQUESTED);
        let targets = match manual {
            Some(name) => {
                let runnable = index.named(&name.to_string()).filter(|s| s.active && s.allow_manual_triggering);
                if runnable.is_none() && last {
                    tracing::warn!(service = %name, "a run request for a service that cannot be run by hand; ignored");
                }
                runnable.map(|spec| ServiceSpec::clone(spec)).into_iter().collect()
            }
            None => index.matching(event.ty(), event.subject()).map(|spec| ServiceSpec::clone(spec)).collect(),
        };
        targets
    }
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

//! Executors: what turns an execution into running containers.
//!
//! The dispatcher hands a [`Launch`] to an [`Executor`]. The executor claims the execution (so that it is
//! launched once, whoever else sees it), starts it, and returns; a task of its own then records the log and
//! the ending through a [`Recorder`]. [`environment`] decides what every container sees, for all executors.
//!
//! - [`LocalExecutor`]: each container's `command` + `args` as a host process (development, one machine).
//! - Kubernetes: arrives with its own issue; [`environment::prepare_job`] already builds the Job it will submit.

pub mod environment;
mod local;
mod recorder;

use async_trait::async_trait;
use cloudevents::Event;
use serde_json::Value;

pub use local::LocalExecutor;
pub use recorder::Recorder;

use crate::{catalog::ServiceSpec, store::StoreError};

/// Everything needed to start one execution.
#[derive(Clone, Debug)]
pub struct Launch {
    pub execution_id: String,
    pub service: ServiceSpec,
    /// The event that caused it (for a manual run, the run request).
    pub event: Event,
    /// `K8X_PARAMS`.
    pub params: Value,
}

/// An executor could not record what it did. Failures of the execution itself are recorded on the
/// execution instead, and are not errors here.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Starts executions.
#[async_trait]
pub trait Executor: Send + Sync {
    /// Claims and starts the execution; returns once it is running (or recorded as failed to start).
    /// Launching an execution that is no longer queued does nothing.
    async fn launch(&self, launch: Launch) -> Result<(), ExecutorError>;
}

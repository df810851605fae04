//! Executors: what turns an execution into running containers.
//!
//! The dispatcher hands a [`Launch`] to an [`Executor`]. The executor claims the execution (so that it is
//! launched once, whoever else sees it), starts it, and returns; a task of its own then records the log and
//! the ending through a [`Recorder`]. [`environment`] decides what every container sees, for all executors.
//!
//! - [`LocalExecutor`]: each container's `command` + `args` as a host process (development, one machine).
//! - [`KubernetesExecutor`]: a Kubernetes Job per execution, watched, its pod logs followed, adopted again
//!   after a restart.

pub mod environment;
pub mod kubernetes;
mod lines;
pub mod local;
mod mask;
mod recorder;
mod spool;
pub mod stored;

use async_trait::async_trait;
use cloudevents::Event;
use serde_json::Value;

pub use kubernetes::KubernetesExecutor;
pub use local::LocalExecutor;
pub use recorder::{LogSink, Recorder};

use crate::{service::ServiceSpec, store::StoreError};

/// Everything needed to start one execution.
#[derive(Clone, Debug)]
pub struct Launch {
    pub execution_id: String,
    /// Which attempt of the execution this is (1 first).
    pub attempt: i32,
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
    #[error("{0}")]
    Kubernetes(String),
}

/// Starts and stops executions.
#[async_trait]
pub trait Executor: Send + Sync {
    /// Claims and starts the execution; returns once it is started (or recorded as failed to start).
    /// Launching an execution that is no longer queued does nothing; one without a free slot (its service's
    /// `max_concurrency`, the host's cap) stays queued for the queue to launch later.
    async fn launch(&self, launch: Launch) -> Result<(), ExecutorError>;

    /// Whether another execution could start here now (the local executor's host-wide cap); an execution
    /// launched without room stays queued.
    fn has_room(&self) -> bool {
        true
    }

    /// Stops an unfinished execution; it ends as `cancelled`. The caller has recorded the request
    /// ([`crate::store::Store::request_cancel`]). Cancelling one that is not running here does nothing.
    async fn cancel(&self, execution_id: &str) -> Result<(), ExecutorError>;
}

//! The Kubernetes executor: every execution a Job in the cluster — launched, watched, logged, cancelled,
//! and adopted again after a restart.
//!
//! At start-up k8x connects (a given kubeconfig, else kube's inference: in-cluster, `KUBECONFIG`,
//! `~/.kube/config`) and asks the API server whether it may do everything it needs in its namespace
//! ([`access`]); a missing permission stops it there, by name. A launch claims the execution in the store
//! (which names its Job, so a second launch does nothing) and hands it to the [`supervisor`], which creates
//! the objects ([`objects`], [`launch`]), watches Jobs and pods, follows the logs ([`follow`]) and records
//! the ending. API calls that fail for a while are retried with backoff ([`retry`]).
//!
//! Several k8x processes may share one database and one namespace: each execution is followed by one process
//! at a time, the one holding its lease (renewed every few seconds); a process that finds an execution whose
//! lease ran out (its process died) takes it over, as a restarted k8x does.
//!
//! ## Layout
//! - [`objects`]: the Job and Secrets an execution becomes (pure).
//! - [`observe`]: what a Job and its pods say about an execution (pure).
//! - [`launch`]: creating them, repeatably.
//! - [`supervisor`]: the watch loop that drives every execution.
//! - [`follow`]: one container's log into the store, resumable.
//! - [`access`]: the start-up permission check. [`retry`]: API calls with backoff.

mod access;
mod follow;
mod launch;
pub mod objects;
pub mod observe;
mod retry;
mod supervisor;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use kube::{
    config::{KubeConfigOptions, Kubeconfig},
    Api, Client,
};
use tokio::{sync::mpsc, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use self::supervisor::{Command, Context, Supervisor};
use super::{environment::job_name, Executor, ExecutorError, Launch};
use crate::{
    config::KubeConfig,
    store::{Cap, Store},
};

/// How long an execution stays with the k8x process that follows it without a renewal: after that (the
/// process died) another process takes it over.
pub const LEASE: Duration = Duration::from_secs(30);

/// What shapes the Jobs k8x creates.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The namespace of Jobs, pods and Secrets.
    pub namespace: String,
    /// `ttlSecondsAfterFinished` unless the service sets it.
    pub job_ttl_seconds: i32,
    /// `backoffLimit` unless the service sets it.
    pub backoff_limit: i32,
    /// `activeDeadlineSeconds` unless the service sets it.
    pub deadline_seconds: i64,
    /// How long an image may fail to pull before the execution is failed.
    pub image_pull_timeout: Duration,
    /// The most log lines kept of one execution.
    pub log_max_lines: u64,
}

impl From<&KubeConfig> for Settings {
    fn from(config: &KubeConfig) -> Self {
        Self {
            namespace: config.namespace.clone(),
            job_ttl_seconds: config.job_ttl_seconds,
            backoff_limit: config.backoff_limit,
            deadline_seconds: config.deadline_seconds,
            image_pull_timeout: Duration::from_secs(config.image_pull_timeout_seconds),
            log_max_lines: crate::config::Config::default().log_max_lines,
        }
    }
}

/// The executor could not start.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("no Kubernetes configuration: {0}")]
    Config(String),
    #[error("the Kubernetes API cannot be reached: {source}")]
    Unreachable { source: kube::Error },
    #[error(
        "k8x may not do what it needs in namespace `{namespace}`; missing: {}. Apply deploy/kubernetes/rbac.yaml (or grant these) and start again",
        missing.join(", ")
    )]
    Forbidden { namespace: String, missing: Vec<String> },
}

/// Runs executions as Kubernetes Jobs.
#[derive(Clone)]
pub struct KubernetesExecutor {
    /// Executions are claimed here.
    store: Store,
    /// This process, as the owner of the executions it follows.
    owner: String,
    /// Work for the supervisor.
    commands: mpsc::UnboundedSender<Command>,
    /// The supervisor, so that a stop can wait for it.
    supervisor: Arc<tokio::sync::Mutex<Option<JoinHandle<()>>>>,
}

impl KubernetesExecutor {
    /// A client for the cluster: `kubeconfig` if given, else kube's inference.
    pub async fn client(config: &KubeConfig) -> Result<Client, KubeError> {
        let kube_config = match &config.kubeconfig {
            Some(path) => {
                let file = Kubeconfig::read_from(path)
                    .map_err(|e| KubeError::Config(format!("reading {}: {e}", path.display())))?;
                kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                    .await
                    .map_err(|e| KubeError::Config(format!("{}: {e}", path.display())))?
            }
            None => kube::Config::infer().await.map_err(|e| KubeError::Config(e.to_string()))?,
        };
        Client::try_from(kube_config).map_err(|e| KubeError::Config(e.to_string()))
    }

    /// Checks access, then starts watching the namespace (adopting what runs there).
    pub async fn start(
        client: Client,
        settings: Settings,
        store: Store,
        relaunch: Arc<dyn crate::executor::stored::Relaunch>,
        shutdown: CancellationToken,
    ) -> Result<Self, KubeError> {
        access::check(&client, &settings.namespace).await?;
        let namespace = settings.namespace.clone();
        let owner = uuid::Uuid::new_v4().to_string();
        let ctx = Arc::new(Context {
            owner: owner.clone(),
            jobs: Api::namespaced(client.clone(), &namespace),
            pods: Api::namespaced(client.clone(), &namespace),
            secrets: Api::namespaced(client, &namespace),
            store: store.clone(),
            relaunch,
            settings,
        });
        tracing::info!(%namespace, "Kubernetes executor started");
        let (commands, rx) = mpsc::unbounded_channel();
        let supervisor = tokio::spawn(Supervisor::new(ctx, shutdown.clone()).run(rx));
        // Without its supervisor the executor would claim executions nobody follows: if it ends (or panics)
        // before shutdown, k8x stops, so that whatever supervises k8x starts it again.
        let supervisor = tokio::spawn(async move {
            let ended = supervisor.await;
            if !shutdown.is_cancelled() {
                tracing::error!(?ended, "the Kubernetes executor stopped unexpectedly; stopping k8x");
                shutdown.cancel();
            }
        });
        Ok(Self { store, owner, commands, supervisor: Arc::new(tokio::sync::Mutex::new(Some(supervisor))) })
    }

    /// Waits until the supervisor has stopped (after shutdown): lines read so far are stored.
    pub async fn wait(&self) {
        if let Some(supervisor) = self.supervisor.lock().await.take() {
            let _ = supervisor.await;
        }
    }

    fn send(&self, command: Command) -> Result<(), ExecutorError> {
        self.commands.send(command).map_err(|_| ExecutorError::Kubernetes("the Kubernetes executor has stopped".into()))
    }
}

#[async_trait]
impl Executor for KubernetesExecutor {
    async fn launch(&self, launch: Launch) -> Result<(), ExecutorError> {
        let name = job_name(&launch.service.name, &launch.execution_id, launch.attempt);
        let lease = chrono::Duration::from_std(LEASE).expect("a short duration");
        let cap = Cap::of(&launch.service.name, launch.service.max_concurrency);
        if !self.store.claim_for_job(&launch.execution_id, &name, &self.owner, lease, cap).await? {
            return Ok(());
        }
        self.send(Command::Track(Box::new(launch)))
    }

    async fn cancel(&self, execution_id: &str) -> Result<(), ExecutorError> {
        self.send(Command::Cancel(execution_id.to_owned()))
    }
}

#[cfg(test)]
mod tests;

//! One typed configuration: defaults, then an optional TOML file, then `K8X_*` environment variables.
//!
//! The file is `K8X_CONFIG` if set, else `k8x.toml` in the working directory if it exists. Every field can be
//! overridden by the upper-case variable of its name with a `K8X_` prefix (`listen` ← `K8X_LISTEN`).

use std::{net::SocketAddr, path::PathBuf};

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Which executor launches executions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    /// Each container's `command` + `args` as a host process: for one machine without a cluster.
    Local,
    /// A Kubernetes Job per execution, through kube-rs.
    Kubernetes,
}

/// Everything k8x can be told at start-up.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    /// Address the HTTP server (UI, API, ingest) listens on.
    pub listen: SocketAddr,
    /// Directory for k8x's own files; the embedded SQLite database lives here.
    pub data_dir: PathBuf,
    /// Database URL (`sqlite://…` or `postgres://…`); overrides the SQLite file in `data_dir`. Redacted in logs.
    #[serde(serialize_with = "serialize_secret", default)]
    pub database_url: Option<SecretString>,
    /// Comma-separated Kafka bootstrap servers; unset means the embedded bus on the database.
    pub kafka_brokers: Option<String>,
    /// Kafka topic that carries events; created at start when missing.
    pub kafka_topic: String,
    /// The partitions of the topic when k8x creates it (consumers of the group share them).
    pub kafka_partitions: i32,
    /// The Kafka topic records given up on go to (`<kafka_topic>.dead-letters` when unset); created at start.
    pub kafka_dead_letter_topic: Option<String>,
    /// `local` (default) or `kubernetes`.
    pub executor: ExecutorKind,
    /// A directory of services (each subdirectory with a `manifest.json`) loaded as a project at start-up;
    /// the project is named after the directory. Defaults to the bundled `demo` project.
    pub project_dir: Option<PathBuf>,
    /// Where the built UI assets (`pkg/k8x.js`, `pkg/k8x.wasm`, `pkg/k8x.css`) are served from.
    pub site_root: PathBuf,
    /// The largest event body ingest accepts, in bytes.
    pub max_event_bytes: usize,
    /// The Kubernetes executor's settings.
    pub kube: KubeConfig,
    /// The key (base64 of 32 bytes) that seals service secrets in the database; unset means the key file
    /// `secret.key` in `data_dir`, generated on first start. Redacted in logs.
    #[serde(serialize_with = "serialize_secret", default)]
    pub secret_key: Option<SecretString>,
    /// The first admin's password (`K8X_ADMIN_PASSWORD`), used when k8x starts with no users; unset means a
    /// random one written to `admin-password` in `data_dir`. Redacted in logs.
    #[serde(serialize_with = "serialize_secret", default)]
    pub admin_password: Option<SecretString>,
    /// An admin-scoped API token (`K8X_BOOTSTRAP_TOKEN`, at least 24 characters) stored at start if it is
    /// not yet, for automation that must call the API before anyone signs in. Redacted in logs.
    #[serde(serialize_with = "serialize_secret", default)]
    pub bootstrap_token: Option<SecretString>,
    /// The address people reach k8x at (`https://k8x.example.com`); with `https`, session cookies are
    /// marked `Secure`.
    pub public_url: Option<String>,
    /// A session ends after this many minutes without a request.
    pub session_idle_minutes: u64,
    /// A session ends this many hours after sign-in, however busy.
    pub session_lifetime_hours: u64,
    /// Requests a second one API token may make (per k8x process); over it, 429 with `Retry-After`.
    pub token_requests_per_second: u32,
    /// Seconds a stopping k8x lets running local executions finish (`K8X_SHUTDOWN_GRACE`); after that they are
    /// killed and recorded as interrupted, and retried per their service's policy.
    pub shutdown_grace: u64,
    /// The most executions one outside event may cause through chains of completion events (a chain's breadth;
    /// its depth is bounded at 16).
    pub max_chain_executions: u64,
    /// At most this many local executions run at once on this host (default: four per core); the others wait,
    /// queued.
    pub local_max_running: Option<usize>,
    /// The most log lines kept of one execution (`K8X_LOG_MAX_LINES`); its output past that is dropped, after a
    /// line saying so.
    pub log_max_lines: u64,
}

/// How the Kubernetes executor reaches its cluster and shapes its Jobs (`K8X_KUBE__NAMESPACE`, or
/// `[kube] namespace = ...` in the file; `K8X_KUBE_NAMESPACE` is read too).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct KubeConfig {
    /// The namespace k8x creates its Jobs and Secrets in.
    pub namespace: String,
    /// A kubeconfig file to use; unset means kube's own inference (in-cluster, else `KUBECONFIG`, else
    /// `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
    /// `ttlSecondsAfterFinished` for Jobs whose `deployment.yaml` does not set it: Kubernetes removes a
    /// finished Job (and its pods and Secret) this long after it ended. k8x keeps the logs itself.
    pub job_ttl_seconds: i32,
    /// `backoffLimit` for Jobs that do not set it: how many failed pods are retried.
    pub backoff_limit: i32,
    /// `activeDeadlineSeconds` for Jobs that do not set it: the longest an execution may run.
    pub deadline_seconds: i64,
    /// How long a pod may wait on an image that cannot be pulled (`ErrImagePull`, `ImagePullBackOff`) before
    /// k8x deletes the Job and fails the execution.
    pub image_pull_timeout_seconds: u64,
}

impl Default for KubeConfig {
    fn default() -> Self {
        Self {
            namespace: "k8x-jobs".into(),
            kubeconfig: None,
            job_ttl_seconds: 3600,
            backoff_limit: 0,
            deadline_seconds: 3600,
            image_pull_timeout_seconds: 120,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            kafka_brokers: None,
            kafka_topic: "k8x.events".into(),
            kafka_partitions: 6,
            kafka_dead_letter_topic: None,
            shutdown_grace: 30,
            local_max_running: None,
            log_max_lines: 1_000_000,
            max_chain_executions: crate::chain::MAX_EXECUTIONS,
            executor: ExecutorKind::Local,
            project_dir: Some(PathBuf::from("demo")),
            site_root: PathBuf::from("target/site"),
            max_event_bytes: 1024 * 1024,
            kube: KubeConfig::default(),
            secret_key: None,
            admin_password: None,
            bootstrap_token: None,
            public_url: None,
            session_idle_minutes: 8 * 60,
            session_lifetime_hours: 24,
            token_requests_per_second: 1000,
        }
    }
}

/// The configuration could not be read.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(#[from] Box<figment::Error>);

impl Config {
    /// Reads defaults, the config file and the environment, in that order.
    pub fn load() -> Result<Self, ConfigError> {
        Self::figment(Toml::file(Self::file())).extract().map_err(|e| ConfigError(Box::new(e)))
    }

    /// The config file read (or that would be): `K8X_CONFIG`, else `k8x.toml`.
    pub fn file() -> PathBuf {
        std::env::var_os("K8X_CONFIG").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("k8x.toml"))
    }

    fn figment(file: impl figment::Provider) -> Figment {
        Figment::from(Serialized::defaults(Config::default())).merge(file).merge(
            Env::prefixed("K8X_").ignore(&["config"]).map(|key| {
                // `K8X_KUBE_NAMESPACE` reads as `kube.namespace`, as `K8X_KUBE__NAMESPACE` would.
                match key.as_str().strip_prefix("kube_").or_else(|| key.as_str().strip_prefix("KUBE_")) {
                    Some(rest) if !rest.starts_with('_') => format!("kube.{rest}").into(),
                    _ => key.as_str().replace("__", ".").into(),
                }
            }),
        )
    }

    /// Whether k8x is reached over HTTPS (then cookies are `Secure`).
    pub fn served_over_https(&self) -> bool {
        self.public_url.as_deref().is_some_and(|url| url.to_ascii_lowercase().starts_with("https://"))
    }

    /// The database to connect to: `database_url`, or a SQLite file in `data_dir`.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose_secret().to_owned(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("k8x.db").display()),
        }
    }
}

fn serialize_secret<S: serde::Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    // Only used to seed figment's defaults; a real URL never passes through here.
    value.as_ref().map(|v| v.expose_secret().to_owned()).serialize(s)
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail returns its own large error type
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("k8x.toml", "listen = \"0.0.0.0:8080\"\nexecutor = \"kubernetes\"\n")?;
            jail.set_env("K8X_LISTEN", "127.0.0.1:4000");
            jail.set_env("K8X_DATABASE_URL", "postgres://u:hunter2@db/k8x");
            let config: Config = Config::figment(Toml::file("k8x.toml")).extract()?;
            assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 4000)));
            assert_eq!(config.executor, ExecutorKind::Kubernetes);
            assert_eq!(config.database_url(), "postgres://u:hunter2@db/k8x");
            jail.set_env("K8X_KUBE_NAMESPACE", "jobs");
            jail.set_env("K8X_KUBE_JOB_TTL_SECONDS", "60");
            let config: Config = Config::figment(Toml::file("k8x.toml")).extract()?;
            assert_eq!((config.kube.namespace.as_str(), config.kube.job_ttl_seconds), ("jobs", 60));
            assert_eq!(config.kube.deadline_seconds, KubeConfig::default().deadline_seconds);
            assert!(!format!("{config:?}").contains("hunter2"), "Debug must redact the database URL");
            Ok(())
        });
    }

    #[test]
    fn the_example_file_is_a_valid_config() {
        // In a jail: the other tests set K8X_* variables, and jails take turns.
        figment::Jail::expect_with(|_| {
            let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../k8x.example.toml");
            let config: Config = Config::figment(Toml::file(example)).extract()?;
            assert_eq!(config.listen, Config::default().listen);
            assert_eq!(config.max_event_bytes, 1048576);
            Ok(())
        });
    }

    #[test]
    fn defaults_use_sqlite_in_the_data_dir() {
        let config = Config::default();
        assert_eq!(config.database_url(), "sqlite://data/k8x.db?mode=rwc");
        assert_eq!(config.listen.port(), 3000);
    }

    #[test]
    fn a_bad_value_is_named() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("K8X_EXECUTOR", "nomad");
            let err = Config::figment(Toml::file("none.toml")).extract::<Config>().unwrap_err();
            assert!(err.to_string().contains("executor") || err.to_string().contains("nomad"), "{err}");
            Ok(())
        });
    }
}

//! What k8x knows of a runnable service, as every layer uses it: its subscriptions, retry policy, concurrency
//! limit, Job, form, configs and secrets. The catalog reads and checks service files into it; the dispatcher
//! and the executors work with it and never parse service files themselves.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use model::parameters::ParameterForm;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A runnable service. Secret values are `SecretString`s: `Debug` shows them redacted.
#[derive(Clone, Debug)]
pub struct ServiceSpec {
    pub name: String,
    pub project: String,
    pub active: bool,
    pub allow_manual_triggering: bool,
    pub trigger_events: Vec<Trigger>,
    /// Retries after a failure or an interruption.
    pub retries: Retries,
    /// At most this many executions of the service at once.
    pub max_concurrency: Option<u32>,
    /// The Job from `deployment.yaml`, before k8x adds its environment.
    pub job: Job,
    pub parameters: Option<ParameterForm>,
    pub configs: Map<String, Value>,
    /// Secret values by key. Never logged, never shown, never written into a Job spec.
    pub secrets: BTreeMap<String, SecretString>,
    /// The commit (or `sha256:` digest) its files came from; recorded on each execution.
    pub revision: Option<String>,
    /// When it runs by itself, if it does.
    pub schedule: Option<crate::schedule::Schedule>,
}

/// Whether `name` can be an environment variable: a C identifier. Secret and config names become variables.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What a service subscribes to: an event type, and optionally only events of one `subject` — for a
/// completion event (`k8x.execution.succeeded`), the service whose outcome it is. Written as a string (the type)
/// or as `{"type": "…", "subject": "…"}`; stored the same way.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Trigger {
    Type(String),
    Filtered {
        #[serde(rename = "type")]
        ty: String,
        subject: String,
    },
}

impl Trigger {
    /// The event type.
    pub fn ty(&self) -> &str {
        match self {
            Self::Type(ty) | Self::Filtered { ty, .. } => ty,
        }
    }

    /// The subject it is narrowed to, if any.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Self::Type(_) => None,
            Self::Filtered { subject, .. } => Some(subject),
        }
    }

    /// Whether an event of type `ty` and subject `subject` matches.
    pub fn matches(&self, ty: &str, subject: Option<&str>) -> bool {
        self.ty() == ty && self.subject().is_none_or(|wanted| subject == Some(wanted))
    }

    /// For people: `type`, or `type (subject)`.
    pub fn label(&self) -> String {
        match self.subject() {
            None => self.ty().to_owned(),
            Some(subject) => format!("{} ({subject})", self.ty()),
        }
    }
}

/// How often a failed (or interrupted) execution is tried again, and how long the first retry waits; each
/// further retry waits twice as long, with jitter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retries {
    pub count: u32,
    #[serde(default = "default_backoff")]
    pub backoff_seconds: u32,
}

fn default_backoff() -> u32 {
    10
}

impl Default for Retries {
    fn default() -> Self {
        Self { count: 0, backoff_seconds: default_backoff() }
    }
}

/// The most retries a service may ask for.
pub const MAX_RETRIES: u32 = 20;
/// The longest first backoff a service may ask for (an hour).
pub const MAX_BACKOFF_SECONDS: u32 = 3600;

//! Projects as the UI and the API show them: where their services come from, their last sync, its problems,
//! and the history of syncs. Secrets (a Git token, the deploy key's private half) never appear; the webhook
//! secret only in [`ProjectDetail::webhook_secret`], for admins.

use serde::{Deserialize, Serialize};

/// One project in the list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectView {
    pub name: String,
    pub description: String,
    /// `directory`, `git` or `archive`.
    pub kind: String,
    /// The directory or the repository's URL.
    pub location: Option<String>,
    pub branch: Option<String>,
    /// The directory inside the repository that holds the services.
    pub subdir: Option<String>,
    pub sync_interval_seconds: Option<i32>,
    /// Whether an https token is set (its value is never shown).
    pub has_token: bool,
    /// The public half of the SSH deploy key, to paste into the Git host.
    pub deploy_key_public: Option<String>,
    /// The ssh server's host key as first seen (`SHA256:…`), pinned for later syncs.
    pub ssh_host_key: Option<String>,
    pub services: u64,
    pub last_sync: Option<SyncView>,
}

/// One sync of a project.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncView {
    pub id: i64,
    /// `manual`, `webhook`, `interval`, `start-up` or `upload`.
    pub trigger: String,
    /// `running`, `ok`, `partial` or `failed`.
    pub result: String,
    /// The commit, or `sha256:…` of an archive or a directory.
    pub revision: Option<String>,
    pub author: Option<String>,
    pub message: Option<String>,
    pub committed_at: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: u64,
    /// Directories of services that were not loaded (their last good version, if any, stays).
    pub invalid: Vec<String>,
    /// Directories of services of a type k8x does not run (FX's python services…), with the type.
    pub not_run: Vec<NotRunView>,
    pub problems: Vec<ProblemView>,
    pub error: Option<String>,
}

/// What a sync changed, as its record keeps it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncChanges {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: u64,
    /// Directories of services that were not loaded (their last good version, if any, stays).
    pub invalid: Vec<String>,
    /// Directories of services of a type k8x does not run.
    pub not_run: Vec<NotRunView>,
}

/// A service directory k8x does not run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotRunView {
    pub dir: String,
    pub kind: String,
}

/// A problem in a project's files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProblemView {
    pub file: String,
    pub field: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for ProblemView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, " field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A service of a project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectService {
    pub name: String,
    pub active: bool,
    pub dir: Option<String>,
    pub revision: Option<String>,
}

/// A project's page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectDetail {
    pub project: ProjectView,
    pub services: Vec<ProjectService>,
    /// Newest first.
    pub syncs: Vec<SyncView>,
    /// Where the Git host sends pushes (path; the host's address goes before it).
    pub webhook_path: String,
    /// The secret to give the Git host: admins only.
    pub webhook_secret: Option<String>,
}

/// The short form of a revision: a commit's first 10 hex digits, a digest's `sha256:` and 12.
pub fn short_revision(revision: &str) -> &str {
    let keep = if revision.starts_with("sha256:") { 19 } else { 10 };
    revision.get(..keep).unwrap_or(revision)
}

/// The secrets and configs set for the platform, a project or a service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScopedValues {
    /// Set secrets: their names, never their values.
    pub secrets: Vec<SecretState>,
    pub configs: Vec<ConfigValue>,
}

/// A secret that is set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecretState {
    pub key: String,
    pub updated_by: String,
    pub updated_at: String,
}

/// A config value, as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigValue {
    pub key: String,
    pub value: String,
}

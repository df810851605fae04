//! Projects: named sets of services and where their files come from — a directory (the start-up project,
//! `K8X_PROJECT_DIR`), a Git branch (https with a token, ssh with a deploy key k8x generates, or a local
//! path / `file://` URL), or uploaded archives.
//!
//! - [`manage`]: creating, changing and removing projects (names, sources, deploy keys, webhook secrets).
//! - [`archive`]: uploaded `.tar.gz` / `.zip` archives, unpacked within limits.
//! - `sync`: one sync — files, catalog check, comparison with the stored services, one transaction.
//! - `source`, `git`: the files of a project now (a directory's, or a Git checkout written to a temp dir).
//! - [`webhook`]: push notifications from GitHub, GitLab and Gitea, matched to projects by repository and
//!   branch.
//! - [`interval`]: the background task that syncs projects on their interval.
//! - [`views`]: projects and syncs as the UI and API show them.
//! - `keys`: SSH deploy keys.
//!
//! Several k8x processes may share a database: a sync is claimed first (`projects.sync_claimed_*`), so one
//! process syncs a project at a time, and an interval sync is skipped when another process synced lately.

pub mod archive;
mod git;
pub mod interval;
mod keys;
pub mod manage;
mod source;
mod sync;
pub mod views;
pub mod webhook;

use std::{path::PathBuf, sync::Arc};

pub use source::{directory_digest, Snapshot};

use crate::store::{Store, StoreError};

/// Where a project's services come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectKind {
    Directory,
    Git,
    Archive,
}

impl ProjectKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "directory" => Some(Self::Directory),
            "git" => Some(Self::Git),
            "archive" => Some(Self::Archive),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Directory => "directory",
            Self::Git => "git",
            Self::Archive => "archive",
        }
    }
}

/// Why a project operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("no project `{0}`")]
    NotFound(String),
    #[error("project `{0}` is being synced by another request or k8x process; try again when it ends")]
    Busy(String),
    #[error("a project named `{0}` exists already")]
    Exists(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Archive(#[from] archive::ArchiveError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The projects of this k8x: syncs them and manages them. Cheap to clone.
#[derive(Clone)]
pub struct Projects {
    store: Store,
    /// Holds the Git cache repositories (`git/`).
    data_dir: PathBuf,
    /// This process, as it claims syncs.
    owner: String,
    /// How long a sync's claim holds unless renewed ([`sync::CLAIM`]).
    claim: std::time::Duration,
}

impl Projects {
    pub fn new(store: Store, data_dir: PathBuf, owner: impl Into<String>) -> Arc<Self> {
        Self::claiming_for(store, data_dir, owner, sync::CLAIM)
    }

    /// Like [`Projects::new`], with sync claims that hold for `claim` (a second to a day) unless renewed.
    pub fn claiming_for(
        store: Store,
        data_dir: PathBuf,
        owner: impl Into<String>,
        claim: std::time::Duration,
    ) -> Arc<Self> {
        let claim = claim.clamp(std::time::Duration::from_secs(1), std::time::Duration::from_secs(86_400));
        Arc::new(Self { store, data_dir, owner: owner.into(), claim })
    }
}

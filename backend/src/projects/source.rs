//! Where a project's files come from, made into a directory the catalog reads: the project's own directory
//! (its revision a digest of its files), or a fresh checkout of its Git branch. Blocking: run off the runtime.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use super::{
    git::{self, GitError, Remote},
    ProjectKind,
};
use crate::store::entities::project;

/// A project's files at one revision.
#[derive(Debug)]
pub struct Snapshot {
    pub root: PathBuf,
    /// A commit, or `sha256:` and the digest of a directory's files.
    pub revision: String,
    pub author: Option<String>,
    pub message: Option<String>,
    pub committed_at: Option<DateTime<Utc>>,
    /// An ssh server's host key as seen in this fetch.
    pub host_key: Option<String>,
    /// A checkout's temporary directory, removed when the snapshot is dropped.
    _checkout: Option<tempfile::TempDir>,
}

impl Snapshot {
    /// Files already on disk (a project directory, an unpacked archive), at the revision `revision`.
    pub fn at(root: PathBuf, revision: String, holder: Option<tempfile::TempDir>) -> Self {
        Self { root, revision, author: None, message: None, committed_at: None, host_key: None, _checkout: holder }
    }
}

/// Why a project's files could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("the project directory {0} cannot be read: {1}")]
    Directory(String, std::io::Error),
    #[error("an archive project changes by uploading an archive (POST /api/v1/projects/{{name}}/archive)")]
    Archive,
    #[error("the project has no location")]
    NoLocation,
}

/// The files of `project` now. `data_dir` holds the Git cache repositories.
pub fn snapshot(project: &project::Model, data_dir: &Path) -> Result<Snapshot, SourceError> {
    let location = project.location.as_deref().ok_or(SourceError::NoLocation)?;
    match ProjectKind::parse(&project.kind) {
        Some(ProjectKind::Directory) => {
            let root = PathBuf::from(location);
            let revision = directory_digest(&root).map_err(|e| SourceError::Directory(location.to_owned(), e))?;
            Ok(Snapshot::at(root, revision, None))
        }
        Some(ProjectKind::Git) => {
            let token = project.token.clone().map(SecretString::from);
            let key = project.deploy_key.clone().map(SecretString::from);
            let public = project.deploy_key_public.clone().unwrap_or_default();
            let remote = Remote {
                url: location,
                branch: project.branch.as_deref().unwrap_or("main"),
                token: token.as_ref(),
                deploy_key: key.as_ref().map(|k| (k, public.as_str())),
                host_key: project.ssh_host_key.as_deref(),
            };
            let checkout = git::fetch(&remote, &git::cache_dir(data_dir, &project.name), project.subdir.as_deref())?;
            Ok(Snapshot {
                root: checkout.root,
                revision: checkout.commit,
                author: Some(checkout.author),
                message: Some(checkout.message),
                committed_at: checkout.committed_at,
                host_key: checkout.host_key,
                _checkout: Some(checkout.dir),
            })
        }
        Some(ProjectKind::Archive) | None => Err(SourceError::Archive),
    }
}

/// `sha256:` and the digest of every regular file under `root` (path and content, in path order; `.git` and
/// symbolic links left out), within the limits of a Git checkout ([`git::MAX_FILES`], [`git::MAX_BYTES`],
/// as deep as the catalog looks).
pub fn directory_digest(root: &Path) -> std::io::Result<String> {
    let mut hash = Sha256::new();
    let walk = walkdir::WalkDir::new(root)
        .follow_links(false)
        .max_depth(crate::catalog::MAX_DEPTH + 2)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git");
    let (mut files, mut bytes) = (0usize, 0u64);
    for entry in walk {
        let entry = entry.map_err(std::io::Error::other)?;
        if !entry.file_type().is_file() {
            continue;
        }
        files += 1;
        bytes += entry.metadata().map_err(std::io::Error::other)?.len();
        if files > git::MAX_FILES || bytes > git::MAX_BYTES {
            return Err(std::io::Error::other(format!(
                "the directory has more than {} files or {} bytes; k8x reads projects up to that size",
                git::MAX_FILES,
                git::MAX_BYTES
            )));
        }
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        hash.update(relative.to_string_lossy().as_bytes());
        hash.update([0]);
        let mut file = std::fs::File::open(entry.path())?;
        let mut buffer = [0u8; 64 * 1024];
        loop {
            let read = std::io::Read::read(&mut file, &mut buffer)?;
            if read == 0 {
                break;
            }
            hash.update(&buffer[..read]);
        }
        hash.update([0]);
    }
    Ok(format!("sha256:{}", hex::encode(hash.finalize())))
}

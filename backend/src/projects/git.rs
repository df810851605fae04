//! Fetching a project's branch with libgit2 (`git2`), into a bare cache repository per project, and writing
//! the tree of its newest commit (or a directory of it) to a temporary directory for the catalog to read.
//!
//! Repositories are not trusted: the written tree is bounded in files and bytes, symbolic links are written
//! as links (which the catalog refuses to follow), submodules are skipped, and nothing is written outside the
//! temporary directory (tree entry names are single path components by Git's own rules, checked again here).

use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use git2::{Cred, FetchOptions, ObjectType, RemoteCallbacks, Repository, TreeWalkMode, TreeWalkResult};
use secrecy::{ExposeSecret, SecretString};

/// Most files a project's tree may have.
pub const MAX_FILES: usize = 20_000;
/// Most bytes a project's tree may have.
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// Where to fetch from and how to sign in.
pub struct Remote<'a> {
    pub url: &'a str,
    pub branch: &'a str,
    /// https: a token, sent as the password.
    pub token: Option<&'a SecretString>,
    /// ssh: the deploy key (OpenSSH private key) and its public line.
    pub deploy_key: Option<(&'a SecretString, &'a str)>,
    /// ssh: the server's host key as first seen (`SHA256:` and base64), which it must still have.
    pub host_key: Option<&'a str>,
}

/// The newest commit of the branch, written out.
#[derive(Debug)]
pub struct Checkout {
    pub commit: String,
    pub author: String,
    pub message: String,
    pub committed_at: Option<DateTime<Utc>>,
    /// ssh: the server's host key (`SHA256:…`), to pin on first use.
    pub host_key: Option<String>,
    /// The project's root (the repository's, or the directory asked for) inside `dir`.
    pub root: PathBuf,
    pub dir: tempfile::TempDir,
}

/// Why a fetch or checkout failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("could not fetch branch `{branch}` of {url}: {message}")]
    Fetch { url: String, branch: String, message: String },
    #[error("the repository has no branch `{0}`")]
    NoBranch(String),
    #[error("the branch has no directory `{0}`")]
    NoDirectory(String),
    #[error("the project directory `{0}` must be a relative path inside the repository")]
    BadDirectory(String),
    #[error(
        "the server's SSH host key is {seen}, not {pinned} as when the project first synced: if the server's key \
         changed, change the project's URL (or remove and add it) to accept the new one"
    )]
    HostKeyChanged { pinned: String, seen: String },
    #[error("the tree has more than {MAX_FILES} files or {MAX_BYTES} bytes; k8x reads projects up to that size")]
    TooLarge,
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("could not write the checkout: {0}")]
    Io(#[from] std::io::Error),
}

/// Fetches `remote`'s branch into the cache repository `cache` (made when missing) and writes the tree of its
/// newest commit — or its directory `subdir` — to a new temporary directory. Blocking: run it off the runtime.
pub fn fetch(remote: &Remote<'_>, cache: &Path, subdir: Option<&str>) -> Result<Checkout, GitError> {
    let subdir = subdir.map(str::trim).filter(|s| !s.is_empty() && *s != ".");
    if let Some(dir) = subdir {
        if Path::new(dir).components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(GitError::BadDirectory(dir.to_owned()));
        }
    }
    let tracking = format!("refs/k8x/{}", remote.branch);
    let seen = std::cell::RefCell::new(None::<String>);
    let fetched = fetch_into(remote, cache, &tracking, &seen);
    let seen = seen.into_inner();
    if let (Some(pinned), Some(seen)) = (remote.host_key, seen.as_deref()) {
        if pinned != seen {
            return Err(GitError::HostKeyChanged { pinned: pinned.to_owned(), seen: seen.to_owned() });
        }
    }
    let repo = match fetched {
        // A fetch cut short (a crash, a kill) can leave lock files that fail every later one: start afresh.
        Err(GitError::Fetch { message, .. }) if message.contains(".lock") => {
            tracing::warn!(cache = %cache.display(), "the Git cache was left locked; fetching it anew");
            std::fs::remove_dir_all(cache)?;
            fetch_into(remote, cache, &tracking, &std::cell::RefCell::new(None))?
        }
        other => other?,
    };
    let oid = repo.refname_to_id(&tracking).map_err(|_| GitError::NoBranch(remote.branch.to_owned()))?;
    let commit = repo.find_commit(oid)?;
    let mut tree = commit.tree()?;
    if let Some(dir) = subdir {
        let entry = tree.get_path(Path::new(dir)).map_err(|_| GitError::NoDirectory(dir.to_owned()))?;
        tree = entry.to_object(&repo)?.into_tree().map_err(|_| GitError::NoDirectory(dir.to_owned()))?;
    }
    let dir = tempfile::Builder::new().prefix("k8x-checkout-").tempdir()?;
    let root = dir.path().join("project");
    std::fs::create_dir(&root)?;
    write_tree(&repo, &tree, &root)?;
    let author = commit.author();
    let author = match (author.name().ok(), author.email().ok()) {
        (Some(name), Some(email)) => format!("{name} <{email}>"),
        (Some(name), None) => name.to_owned(),
        (None, email) => email.unwrap_or_default().to_owned(),
    };
    Ok(Checkout {
        commit: oid.to_string(),
        author,
        message: commit.summary().ok().flatten().unwrap_or_default().to_owned(),
        committed_at: Utc.timestamp_opt(commit.time().seconds(), 0).single(),
        host_key: seen,
        root,
        dir,
    })
}

/// Fetches `remote`'s branch into `tracking` of the cache repository (made when missing); an ssh server's host
/// key goes to `seen`.
fn fetch_into(
    remote: &Remote<'_>,
    cache: &Path,
    tracking: &str,
    seen: &std::cell::RefCell<Option<String>>,
) -> Result<Repository, GitError> {
    let repo = match Repository::open_bare(cache) {
        Ok(repo) => repo,
        Err(_) => {
            std::fs::create_dir_all(cache)?;
            Repository::init_bare(cache)?
        }
    };
    let refspec = format!("+refs/heads/{}:{tracking}", remote.branch);
    let mut git_remote = repo.remote_anonymous(remote.url)?;
    git_remote.fetch(&[&refspec], Some(&mut fetch_options(remote, seen)), None).map_err(|e| GitError::Fetch {
        url: remote.url.to_owned(),
        branch: remote.branch.to_owned(),
        message: e.message().to_owned(),
    })?;
    drop(git_remote);
    Ok(repo)
}

/// A fetch taking longer than this is given up.
const FETCH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(240);
/// Most bytes a fetch may receive.
const MAX_FETCH_BYTES: usize = 1024 * 1024 * 1024;

fn fetch_options<'a>(remote: &'a Remote<'a>, seen: &'a std::cell::RefCell<Option<String>>) -> FetchOptions<'a> {
    let mut callbacks = RemoteCallbacks::new();
    // An ssh server's host key: trusted on first use, then pinned (the sync stores it, the next one checks it).
    // TLS certificates are checked by libgit2 as usual.
    callbacks.certificate_check(move |cert, _host| {
        let Some(key) = cert.as_hostkey().and_then(|k| k.hash_sha256()) else {
            return Ok(git2::CertificateCheckStatus::CertificatePassthrough);
        };
        use base64::Engine;
        let fingerprint = format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(key));
        let pinned = remote.host_key.is_none_or(|pinned| pinned == fingerprint);
        *seen.borrow_mut() = Some(fingerprint);
        if pinned {
            Ok(git2::CertificateCheckStatus::CertificateOk)
        } else {
            Err(git2::Error::from_str("the server's SSH host key is not the one pinned for this project"))
        }
    });
    let deadline = std::time::Instant::now() + FETCH_DEADLINE;
    // Returning false cancels the fetch: too slow, or too much.
    callbacks.transfer_progress(move |progress| {
        std::time::Instant::now() < deadline && progress.received_bytes() <= MAX_FETCH_BYTES
    });
    let mut tries = 0;
    callbacks.credentials(move |_url, username, allowed| {
        // libgit2 asks again after a refusal: give up rather than loop.
        tries += 1;
        if tries > 3 {
            return Err(git2::Error::from_str("the repository refused k8x's credentials"));
        }
        if allowed.contains(git2::CredentialType::SSH_KEY) {
            if let Some((private, public)) = remote.deploy_key {
                return Cred::ssh_key_from_memory(
                    username.unwrap_or("git"),
                    Some(public),
                    private.expose_secret(),
                    None,
                );
            }
        }
        if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) {
            if let Some(token) = remote.token {
                return Cred::userpass_plaintext(username.unwrap_or("x-access-token"), token.expose_secret());
            }
        }
        Err(git2::Error::from_str("the repository asks for credentials and the project has none that fit"))
    });
    let mut options = FetchOptions::new();
    options.remote_callbacks(callbacks);
    options
}

/// Writes `tree` under `root`, within [`MAX_FILES`] and [`MAX_BYTES`].
///
/// Nothing is ever written through a link: every directory is made here (`create_dir`, which fails on
/// anything already at its path, a link included) and every file is new (`create_new`), so a crafted tree
/// with a link and an entry of the same name fails instead of writing where the link points.
fn write_tree(repo: &Repository, tree: &git2::Tree<'_>, root: &Path) -> Result<(), GitError> {
    let (mut files, mut bytes) = (0usize, 0u64);
    let mut failure: Option<GitError> = None;
    let odb = repo.odb()?;
    tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
        let Some(name) = entry.name().ok().filter(|n| is_plain_name(n)) else { return TreeWalkResult::Skip };
        let path = root.join(parent).join(name);
        let result = match entry.kind() {
            Some(ObjectType::Tree) => std::fs::create_dir(&path).map_err(GitError::from),
            Some(ObjectType::Blob) => {
                files += 1;
                // The size from the object's header, before the object is read.
                match odb.read_header(entry.id()) {
                    Ok((size, _)) => {
                        bytes += size as u64;
                        if files > MAX_FILES || bytes > MAX_BYTES {
                            Err(GitError::TooLarge)
                        } else {
                            repo.find_blob(entry.id()).map_err(GitError::from).and_then(|blob| {
                                if entry.filemode() == 0o120000 {
                                    write_link(blob.content(), &path)
                                } else {
                                    write_new(&path, blob.content())
                                }
                            })
                        }
                    }
                    Err(e) => Err(e.into()),
                }
            }
            // Submodules (commits) are other repositories: not part of this project.
            _ => return TreeWalkResult::Skip,
        };
        match result {
            Ok(()) => TreeWalkResult::Ok,
            Err(e) => {
                failure = Some(e);
                TreeWalkResult::Abort
            }
        }
    })
    .or_else(|e| if failure.is_some() { Ok(()) } else { Err(e) })?;
    failure.map_or(Ok(()), Err)
}

/// A tree entry's name is one path component (Git refuses others; a crafted object might not).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// Writes a file that must not exist yet.
fn write_new(path: &Path, content: &[u8]) -> Result<(), GitError> {
    use std::io::Write;
    let mut file = std::fs::File::create_new(path)?;
    file.write_all(content)?;
    Ok(())
}

/// A symbolic link is written as one, so that the catalog sees it for what it is (and refuses it).
fn write_link(target: &[u8], path: &Path) -> Result<(), GitError> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), path)?;
    }
    #[cfg(not(unix))]
    {
        let _ = (target, path);
    }
    Ok(())
}

/// The cache repository of a project, under the data directory (named by a digest: project names are free
/// text).
pub fn cache_dir(data_dir: &Path, project: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    data_dir.join("git").join(format!("{}.git", &hex::encode(Sha256::digest(project.as_bytes()))[..16]))
}

#[cfg(test)]
mod tests;

//! Creating, changing and removing projects. A Git project over ssh gets a deploy key generated here; every
//! project gets a webhook secret for push notifications.

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{keys, ProjectError, ProjectKind, Projects};
use crate::store::entities::project;

/// Shortest interval between interval syncs.
pub const MIN_INTERVAL_SECONDS: i32 = 5;
/// Longest: a day.
pub const MAX_INTERVAL_SECONDS: i32 = 86_400;

/// A new project, as the API and the UI send it: exactly one of `git`, `directory`, `archive`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub git: Option<GitSource>,
    /// A directory on k8x's machine.
    pub directory: Option<String>,
    /// Services come from uploaded archives.
    #[serde(default)]
    pub archive: bool,
    pub sync_interval_seconds: Option<i32>,
}

/// A Git source.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitSource {
    /// `https://…`, `ssh://…`, `git@host:path`, `file://…` or a local path.
    pub url: String,
    /// `main` when left out.
    pub branch: Option<String>,
    /// The directory of the repository that holds the services.
    pub path: Option<String>,
    /// For https: sent as the password. `Debug` redacts it.
    pub token: Option<SecretString>,
}

/// A change to a project: what is given changes.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectChange {
    pub description: Option<String>,
    pub git: Option<GitSource>,
    pub directory: Option<String>,
    /// `Some(None)` (JSON `null`) turns interval syncs off.
    #[serde(default, deserialize_with = "present")]
    pub sync_interval_seconds: Option<Option<i32>>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i32>>, D::Error> {
    Option::<i32>::deserialize(d).map(Some)
}

/// How a Git URL is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Https,
    Ssh,
    Local,
}

fn transport(url: &str) -> Result<Transport, ProjectError> {
    if url.chars().any(char::is_control) {
        return Err(ProjectError::Invalid("the Git URL has control characters".into()));
    }
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if url.is_empty() {
        return Err(ProjectError::Invalid("the Git URL is empty".into()));
    }
    if lower.starts_with("https://") || lower.starts_with("http://") {
        // Credentials in the URL would be shown wherever the URL is: they go in `token`, which is sealed.
        let parsed = url::Url::parse(url).map_err(|e| ProjectError::Invalid(format!("`{url}` is not a URL: {e}")))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(ProjectError::Invalid(
                "put no credentials in the URL: give the token as `token` (it is kept sealed)".into(),
            ));
        }
        Ok(Transport::Https)
    } else if lower.starts_with("ssh://") || (!lower.contains("://") && url.contains('@') && url.contains(':')) {
        Ok(Transport::Ssh)
    } else if lower.starts_with("file://") || url.starts_with('/') {
        Ok(Transport::Local)
    } else {
        Err(ProjectError::Invalid(format!(
            "`{url}` is not a Git URL k8x reaches: use https://…, ssh://…, git@host:path, file://… or an absolute path"
        )))
    }
}

/// Checks a project name: 1–64 letters, digits, `.`, `_`, `-`, not starting with `.`.
pub fn check_name(name: &str) -> Result<(), ProjectError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    ok.then_some(()).ok_or_else(|| {
        ProjectError::Invalid(format!(
            "project name `{}` must be 1 to 64 letters, digits, `.`, `_` or `-`",
            name.escape_debug()
        ))
    })
}

fn check_interval(seconds: Option<i32>) -> Result<Option<i32>, ProjectError> {
    match seconds {
        Some(s) if !(MIN_INTERVAL_SECONDS..=MAX_INTERVAL_SECONDS).contains(&s) => Err(ProjectError::Invalid(format!(
            "sync_interval_seconds must be between {MIN_INTERVAL_SECONDS} and {MAX_INTERVAL_SECONDS}"
        ))),
        other => Ok(other),
    }
}

fn check_branch(branch: &str) -> Result<(), ProjectError> {
    let ok = branch.len() <= 200 && !branch.starts_with('-') && git2::Branch::name_is_valid(branch).unwrap_or(false);
    ok.then_some(()).ok_or_else(|| ProjectError::Invalid(format!("`{}` is not a branch name", branch.escape_debug())))
}

/// The longest description kept.
const MAX_DESCRIPTION: usize = 2000;

fn check_description(text: &str) -> Result<String, ProjectError> {
    let text = text.trim();
    if text.chars().count() > MAX_DESCRIPTION || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ProjectError::Invalid(format!(
            "a description is at most {MAX_DESCRIPTION} characters, without control characters"
        )));
    }
    Ok(text.to_owned())
}

/// A new random webhook secret.
fn webhook_secret() -> String {
    hex::encode(rand::rng().random::<[u8; 24]>())
}

/// Fills `row`'s source from `git`, generating a deploy key when the URL is reached over ssh and the project
/// has none.
fn set_git(row: &mut project::Model, git: GitSource) -> Result<(), ProjectError> {
    let transport = transport(&git.url)?;
    let branch = git.branch.map(|b| b.trim().to_owned()).filter(|b| !b.is_empty()).unwrap_or_else(|| "main".into());
    check_branch(&branch)?;
    if git.token.is_some() && transport != Transport::Https {
        return Err(ProjectError::Invalid("a token is for https URLs; an ssh URL uses the deploy key".into()));
    }
    if git.token.is_some() && git.url.trim().to_ascii_lowercase().starts_with("http://") {
        return Err(ProjectError::Invalid("a token is sent over https only, not plain http".into()));
    }
    if git.path.as_deref().is_some_and(|p| p.chars().any(char::is_control) || p.len() > 500) {
        return Err(ProjectError::Invalid("the directory in the repository has control characters".into()));
    }
    row.kind = ProjectKind::Git.as_str().into();
    if row.location.as_deref() != Some(git.url.trim()) {
        // Another server: its host key is learnt afresh.
        row.ssh_host_key = None;
    }
    row.location = Some(git.url.trim().to_owned());
    row.branch = Some(branch);
    row.subdir = git.path.map(|p| p.trim().trim_matches('/').to_owned()).filter(|p| !p.is_empty());
    if let Some(token) = git.token {
        let token = token.expose_secret().trim().to_owned();
        row.token = (!token.is_empty()).then_some(token);
    }
    if transport != Transport::Https {
        row.token = None;
    }
    if transport == Transport::Ssh && row.deploy_key.is_none() {
        let (private, public) = keys::generate(&row.name)
            .map_err(|e| ProjectError::Invalid(format!("could not generate a deploy key: {e}")))?;
        row.deploy_key = Some(private.expose_secret().to_owned());
        row.deploy_key_public = Some(public);
    }
    Ok(())
}

fn set_directory(row: &mut project::Model, dir: &str) -> Result<(), ProjectError> {
    let dir = dir.trim();
    if !dir.starts_with('/') || dir.chars().any(char::is_control) {
        return Err(ProjectError::Invalid("a project directory must be an absolute path".into()));
    }
    row.kind = ProjectKind::Directory.as_str().into();
    row.location = Some(dir.to_owned());
    (row.branch, row.subdir, row.token) = (None, None, None);
    Ok(())
}

impl Projects {
    /// Adds a project; its first sync is the caller's to start.
    pub async fn create(&self, new: NewProject) -> Result<project::Model, ProjectError> {
        check_name(&new.name)?;
        let mut row = project::Model {
            description: check_description(&new.description)?,
            sync_interval_seconds: check_interval(new.sync_interval_seconds)?,
            ..project::Model::new(&new.name, webhook_secret())
        };
        match (new.git, new.directory, new.archive) {
            (Some(git), None, false) => set_git(&mut row, git)?,
            (None, Some(dir), false) => set_directory(&mut row, &dir)?,
            (None, None, true) => {}
            _ => {
                return Err(ProjectError::Invalid(
                    "give the project exactly one source: `git`, `directory` or `archive: true`".into(),
                ))
            }
        }
        if !self.store.add_project(row.clone()).await? {
            return Err(ProjectError::Exists(new.name));
        }
        Ok(row)
    }

    /// Changes a project's description, source or interval.
    pub async fn change(&self, name: &str, change: ProjectChange) -> Result<project::Model, ProjectError> {
        let mut row = self.store.project(name).await?.ok_or_else(|| ProjectError::NotFound(name.to_owned()))?;
        if let Some(description) = change.description {
            row.description = check_description(&description)?;
        }
        match (change.git, change.directory) {
            (Some(_), Some(_)) => return Err(ProjectError::Invalid("give `git` or `directory`, not both".into())),
            (Some(git), None) => set_git(&mut row, git)?,
            (None, Some(dir)) => set_directory(&mut row, &dir)?,
            (None, None) => {}
        }
        if let Some(interval) = change.sync_interval_seconds {
            row.sync_interval_seconds = check_interval(interval)?;
        }
        self.store.update_project(row.clone()).await?;
        Ok(row)
    }

    /// Makes sure the start-up directory is project `name` of kind directory (created, or pointed at `dir`).
    pub async fn ensure_directory(&self, name: &str, dir: &str) -> Result<(), ProjectError> {
        match self.store.project(name).await? {
            Some(row) if row.kind == ProjectKind::Directory.as_str() && row.location.as_deref() == Some(dir) => Ok(()),
            Some(row) if row.kind != ProjectKind::Directory.as_str() => Err(ProjectError::Invalid(format!(
                "project `{name}` comes from {} {}, not the start-up directory {dir}: rename one of them",
                row.kind,
                row.location.unwrap_or_default()
            ))),
            Some(_) => {
                let change = ProjectChange { directory: Some(dir.to_owned()), ..Default::default() };
                self.change(name, change).await.map(drop)
            }
            None => {
                let new = NewProject {
                    name: name.to_owned(),
                    description: "the start-up project directory (K8X_PROJECT_DIR)".into(),
                    directory: Some(dir.to_owned()),
                    ..Default::default()
                };
                match self.create(new).await {
                    Ok(_) | Err(ProjectError::Exists(_)) => Ok(()),
                    Err(err) => Err(err),
                }
            }
        }
    }

    /// Removes a project and its services (their executions stay) — not while it is being synced.
    pub async fn remove(&self, name: &str) -> Result<(), ProjectError> {
        let token = format!("{}#remove-{}", self.owner, uuid::Uuid::new_v4().simple());
        if self.store.project(name).await?.is_none() {
            return Err(ProjectError::NotFound(name.to_owned()));
        }
        if !self.store.claim_sync(name, &token, self.lease()).await? {
            return Err(ProjectError::Busy(name.to_owned()));
        }
        // Removed, the project takes its claim along; not removed, the claim is let go of at once.
        let removed = self.store.remove_project(name).await;
        if !matches!(removed, Ok(true)) {
            if let Err(err) = self.store.release_sync(name, &token).await {
                tracing::warn!(%err, project = %name, "could not release a claim; it runs out by itself");
            }
        }
        if !removed? {
            return Err(ProjectError::NotFound(name.to_owned()));
        }
        let cache = super::git::cache_dir(&self.data_dir, name);
        if cache.exists() {
            if let Err(err) = std::fs::remove_dir_all(&cache) {
                tracing::warn!(%err, project = %name, "could not remove the Git cache");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_apart_and_nonsense_refused() {
        assert_eq!(transport("https://git.example/team/repo.git").unwrap(), Transport::Https);
        assert_eq!(transport("git@github.com:team/repo.git").unwrap(), Transport::Ssh);
        assert_eq!(transport("ssh://git@host/repo").unwrap(), Transport::Ssh);
        assert_eq!(transport("file:///srv/repo").unwrap(), Transport::Local);
        assert_eq!(transport("/srv/repo").unwrap(), Transport::Local);
        assert!(transport("repo").is_err());
        assert!(transport("https://x\n").is_err());
        assert!(check_branch("main").is_ok() && check_branch("feature/x").is_ok());
        assert!(check_branch("a..b").is_err() && check_branch("-x").is_err() && check_branch("a b").is_err());
        assert!(check_branch("x.lock").is_err() && check_branch("a@{1}").is_err() && check_branch("a/").is_err());
        assert!(transport("https://user:secret@git.example/r.git").is_err(), "credentials stay out of URLs");
        assert!(check_description("line\u{1b}[31m").is_err() && check_description(" fine ").unwrap() == "fine");
        assert!(check_name("team-a.services_1").is_ok());
        assert!(check_name("").is_err() && check_name("a/b").is_err() && check_name(".hidden").is_err());
        assert!(check_interval(Some(1)).is_err() && check_interval(Some(60)).is_ok() && check_interval(None).is_ok());
    }
}

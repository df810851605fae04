//! Push notifications from Git hosts. GitHub, Gitea and GitLab send the repository's URLs and the pushed ref
//! in their push payloads; a project follows a push when its URL is one of the repository's (compared without
//! `.git`, a trailing `/`, the scheme's case or credentials) and its branch is the one pushed. The request
//! must carry the project's webhook secret: `X-Hub-Signature-256` (GitHub, Gitea) or `X-Gitlab-Token`.

use serde_json::Value;

use super::{ProjectError, ProjectKind, Projects};
use crate::auth::signature::{self, SignatureError};

/// What a push says: the repository's URLs and the branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Push {
    pub urls: Vec<String>,
    pub branch: String,
}

/// Why a push was refused.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the body is not a push payload: {0}")]
    NotAPush(String),
    #[error("no project follows branch `{branch}` of {url}")]
    NoProject { url: String, branch: String },
    #[error(transparent)]
    Signature(SignatureError),
    #[error(transparent)]
    Project(#[from] ProjectError),
}

/// Reads a push payload (GitHub, Gitea, GitLab).
pub fn parse(body: &[u8]) -> Result<Push, PushError> {
    let json: Value = serde_json::from_slice(body).map_err(|e| PushError::NotAPush(e.to_string()))?;
    let reference = json["ref"].as_str().ok_or_else(|| PushError::NotAPush("it has no `ref`".into()))?;
    let branch = reference
        .strip_prefix("refs/heads/")
        .ok_or_else(|| PushError::NotAPush(format!("`{reference}` is not a branch")))?
        .to_owned();
    let mut urls = Vec::new();
    for (object, keys) in [
        ("repository", &["clone_url", "ssh_url", "git_url", "html_url", "url", "git_http_url", "git_ssh_url"][..]),
        ("project", &["git_http_url", "git_ssh_url", "http_url", "ssh_url", "web_url"][..]),
    ] {
        for key in keys {
            if let Some(url) = json[object][key].as_str() {
                urls.push(url.to_owned());
            }
        }
    }
    if urls.is_empty() {
        return Err(PushError::NotAPush("it names no repository URL".into()));
    }
    Ok(Push { urls, branch })
}

/// A repository URL as compared: scheme, host (lower case) and path, without a user, a trailing `/` or `.git`;
/// the scp-like `git@host:team/repo.git` is read as `ssh://git@host/team/repo.git`. A local path or `file://`
/// URL compares by its path.
pub fn normalise(raw: &str) -> String {
    let raw = raw.trim();
    let scp = (!raw.contains("://")).then(|| raw.split_once(':')).flatten().filter(|(host, _)| host.contains('@'));
    let candidate = match scp {
        Some((host, path)) => format!("ssh://{host}/{}", path.trim_start_matches('/')),
        None => raw.to_owned(),
    };
    let bare = |path: &str| {
        let path = path.trim_end_matches('/');
        path.strip_suffix(".git").unwrap_or(path).to_owned()
    };
    match url::Url::parse(&candidate) {
        Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => {
            let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
            let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{host}{port}{}", url.scheme(), bare(url.path()))
        }
        Ok(url) if url.scheme() == "file" => bare(url.path()),
        _ => bare(raw),
    }
}

impl Projects {
    /// The Git projects a push is for whose secret the request carries (`signature`: the
    /// `X-Hub-Signature-256` header, `token`: `X-Gitlab-Token`). Refused when projects follow the branch but
    /// none's secret matches.
    pub async fn projects_for_push(
        &self,
        push: &Push,
        body: &[u8],
        signature: Option<&str>,
        token: Option<&str>,
    ) -> Result<Vec<String>, PushError> {
        let urls: Vec<String> = push.urls.iter().map(|u| normalise(u)).collect();
        let mut following = Vec::new();
        for row in self.store.projects().await.map_err(ProjectError::from)? {
            let follows = row.kind == ProjectKind::Git.as_str()
                && row.branch.as_deref() == Some(push.branch.as_str())
                && row.location.as_deref().is_some_and(|l| urls.contains(&normalise(l)));
            if follows {
                following.push(row.name);
            }
        }
        if following.is_empty() {
            return Err(PushError::NoProject { url: push.urls[0].clone(), branch: push.branch.clone() });
        }
        let mut verified = Vec::new();
        let mut refusal = SignatureError::Missing;
        for name in following {
            let Some(row) = self.store.project(&name).await.map_err(ProjectError::from)? else { continue };
            match signature::verify_request(row.webhook_secret.as_bytes(), body, signature, token) {
                Ok(()) => verified.push(name),
                Err(err) => refusal = err,
            }
        }
        if verified.is_empty() {
            return Err(PushError::Signature(refusal));
        }
        Ok(verified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_of_the_three_hosts_are_read() {
        let github = br#"{"ref": "refs/heads/main", "repository": {"clone_url": "https://github.com/a/b.git", "ssh_url": "git@github.com:a/b.git"}}"#;
        let push = parse(github).unwrap();
        assert_eq!(push.branch, "main");
        assert!(push.urls.contains(&"git@github.com:a/b.git".to_owned()));
        let gitlab = br#"{"ref": "refs/heads/dev", "project": {"git_http_url": "https://gitlab.com/a/b.git"}}"#;
        assert_eq!(parse(gitlab).unwrap().urls, ["https://gitlab.com/a/b.git"]);
        assert!(matches!(parse(br#"{"ref": "refs/tags/v1", "repository": {}}"#), Err(PushError::NotAPush(_))));
        assert!(matches!(parse(b"not json"), Err(PushError::NotAPush(_))));
    }

    #[test]
    fn urls_compare_without_their_decorations() {
        assert_eq!(normalise("HTTPS://token@Git.Example/a/b.git/"), "https://git.example/a/b");
        assert_eq!(normalise("git@github.com:a/b.git"), "ssh://github.com/a/b");
        assert_eq!(normalise("ssh://git@GitHub.com/a/b"), normalise("git@github.com:a/b.git"));
        assert_eq!(normalise("file:///srv/repo.git"), normalise("/srv/repo"));
        assert_ne!(normalise("https://git.example/a/b"), normalise("https://git.example/a/c"));
        assert_ne!(normalise("https://git.example/a/b"), normalise("https://other.example/a/b"));
    }
}

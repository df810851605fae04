//! Projects from Git, end to end over HTTP: real repositories made with libgit2 in a temp dir (add, change,
//! delete, a broken commit, a force-push, a push webhook), the projects API and who may use it, revisions on
//! executions, interval syncs.

use std::path::PathBuf;

use git2::{Repository, Signature};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{spawn_app, wait_until, TestApp};

const JOB: &str = "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - name: main\n          image: bash\n          command: [\"/bin/bash\", \"-c\"]\n          args: [\"echo VERSION\"]\n      restartPolicy: Never\n";

/// A Git repository in a temp dir with a `main` branch, committed to file by file.
struct Repo {
    dir: tempfile::TempDir,
    repo: Repository,
}

impl Repo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        repo.set_head("refs/heads/main").unwrap();
        Self { dir, repo }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    fn write(&self, file: &str, text: &str) -> &Self {
        let path = self.dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// A k8x service `name` in directory `dir` whose Job echoes `version`.
    fn service(&self, dir: &str, name: &str, version: &str) -> &Self {
        let manifest = json!({"name": name, "type": "k8x_job", "trigger_events": [format!("t.{name}")]});
        self.write(&format!("{dir}/manifest.json"), &manifest.to_string());
        self.write(&format!("{dir}/deployment.yaml"), &JOB.replace("VERSION", version))
    }

    fn remove(&self, dir: &str) -> &Self {
        std::fs::remove_dir_all(self.dir.path().join(dir)).unwrap();
        self
    }

    /// Commits the work tree as it is (additions and removals); returns the commit id.
    fn commit(&self, message: &str) -> String {
        let mut index = self.repo.index().unwrap();
        index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
        index.update_all(["*"], None).unwrap();
        index.write().unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        let who = Signature::now("Ada Author", "ada@example.com").unwrap();
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.repo.commit(Some("HEAD"), &who, &who, message, &tree, &parents).unwrap().to_string()
    }

    /// Rewrites `main` to a new root commit of the work tree (a force-push).
    fn force(&self, message: &str) -> String {
        let mut index = self.repo.index().unwrap();
        index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
        index.update_all(["*"], None).unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        let who = Signature::now("Ada Author", "ada@example.com").unwrap();
        let commit = self.repo.commit(None, &who, &who, message, &tree, &[]).unwrap();
        self.repo.reference("refs/heads/main", commit, true, "force").unwrap();
        commit.to_string()
    }
}

async fn create(app: &TestApp, body: Value) -> reqwest::Response {
    app.client.post(app.url("/api/v1/projects")).json(&body).send().await.unwrap()
}

async fn sync(app: &TestApp, name: &str) -> Value {
    let response = app.client.post(app.url(&format!("/api/v1/projects/{name}/sync"))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn detail(app: &TestApp, name: &str) -> Value {
    app.client.get(app.url(&format!("/api/v1/projects/{name}"))).send().await.unwrap().json().await.unwrap()
}

fn names(value: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = value.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    names.sort_unstable();
    names
}

async fn service_revision(app: &TestApp, name: &str) -> Option<String> {
    app.state.store.service(name).await.unwrap().and_then(|s| s.revision)
}

#[tokio::test]
async fn a_git_project_follows_its_branch_through_add_change_delete_broken_and_forced_commits() {
    let app = spawn_app().await;
    let repo = Repo::new();
    repo.service("alpha", "git-alpha", "one").service("beta", "git-beta", "one");
    repo.write("fx/manifest.json", r#"{"name": "an fx service", "type": "python"}"#);
    let first = repo.commit("two services");

    let response = create(&app, json!({"name": "team", "git": {"url": repo.path(), "branch": "main"}})).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let sync1 = &created["sync"];
    assert_eq!(sync1["result"], "ok", "{sync1}");
    assert_eq!(sync1["revision"], first.as_str());
    assert_eq!(sync1["author"], "Ada Author <ada@example.com>");
    assert_eq!(sync1["message"], "two services");
    assert_eq!(names(&sync1["added"]), ["git-alpha", "git-beta"]);
    assert_eq!(sync1["not_run"], json!([{"dir": "fx", "kind": "python"}]), "FX services are listed, not refused");
    assert!(created["project"]["webhook_secret"].as_str().is_some_and(|s| s.len() >= 32));
    assert_eq!(service_revision(&app, "git-alpha").await.as_deref(), Some(first.as_str()));

    // Change one, delete the other, add a third.
    repo.service("alpha", "git-alpha", "two").remove("beta").service("gamma", "git-gamma", "one");
    let second = repo.commit("alpha two, beta gone, gamma");
    let sync2 = sync(&app, "team").await;
    assert_eq!(sync2["result"], "ok", "{sync2}");
    assert_eq!(names(&sync2["changed"]), ["git-alpha"]);
    assert_eq!(names(&sync2["removed"]), ["git-beta"]);
    assert_eq!(names(&sync2["added"]), ["git-gamma"]);
    assert!(app.state.store.service("git-beta").await.unwrap().is_none(), "a removed service gets no more events");
    assert_eq!(service_revision(&app, "git-alpha").await.as_deref(), Some(second.as_str()));
    assert_eq!(service_revision(&app, "git-gamma").await.as_deref(), Some(second.as_str()));

    // A broken commit: alpha's Job no longer parses; its last good version stays and still runs.
    repo.write("alpha/deployment.yaml", "apiVersion: batch/v1\nkind: Job\nspec: [\n");
    repo.service("gamma", "git-gamma", "two");
    repo.commit("broken alpha");
    let sync3 = sync(&app, "team").await;
    assert_eq!(sync3["result"], "partial", "{sync3}");
    assert_eq!(names(&sync3["invalid"]), ["alpha"]);
    assert_eq!(names(&sync3["changed"]), ["git-gamma"], "the valid rest of the commit is taken");
    let problem = &sync3["problems"][0];
    assert_eq!(problem["file"], "alpha/deployment.yaml", "{problem}");
    assert!(problem["line"].as_u64().is_some(), "{problem}");
    let alpha = app.state.store.service("git-alpha").await.unwrap().expect("alpha stays");
    assert!(alpha.deployment.contains("echo two") && alpha.revision.as_deref() == Some(second.as_str()));
    let run = app.post_event("alpha-after-break", "t.git-alpha", json!({})).await;
    assert_eq!(run.status(), 202);
    let execution = app.executions_of("alpha-after-break", 1).await.remove(0);
    assert_eq!(execution.revision.as_deref(), Some(second.as_str()), "the run records the revision it ran");

    // A force-push back to one service: history rewritten, the sync follows it.
    repo.remove("alpha").remove("gamma").service("delta", "git-delta", "one");
    let forced = repo.force("rewritten");
    let sync4 = sync(&app, "team").await;
    assert_eq!(sync4["result"], "ok", "{sync4}");
    assert_eq!(sync4["revision"], forced.as_str());
    assert_eq!(names(&sync4["removed"]), ["git-alpha", "git-gamma"]);
    assert_eq!(names(&sync4["added"]), ["git-delta"]);

    let page = detail(&app, "team").await;
    assert_eq!(page["syncs"].as_array().unwrap().len(), 4, "every sync is recorded");
    assert_eq!(page["project"]["services"], 1);
    assert_eq!(page["services"][0]["name"], "git-delta");
}

#[tokio::test]
async fn a_failed_fetch_changes_nothing_and_a_subdirectory_and_token_stay_private() {
    let app = spawn_app().await;
    let repo = Repo::new();
    repo.service("services/one", "sub-one", "one").service("elsewhere", "not-this", "one");
    let commit = repo.commit("first");
    let body = json!({"name": "sub", "description": "services in a directory",
        "git": {"url": format!("file://{}", repo.path().display()), "path": "services"}});
    let created: Value = create(&app, body).await.json().await.unwrap();
    assert_eq!(created["sync"]["result"], "ok", "{created}");
    assert_eq!(names(&created["sync"]["added"]), ["sub-one"]);
    assert_eq!(service_revision(&app, "sub-one").await.as_deref(), Some(commit.as_str()));

    // The repository moves away: the sync fails, naming why, and the service stays as it was.
    let moved = tempfile::tempdir().unwrap();
    std::fs::rename(repo.path(), moved.path().join("gone")).unwrap();
    let failed = sync(&app, "sub").await;
    assert_eq!(failed["result"], "failed", "{failed}");
    assert!(failed["error"].as_str().unwrap().contains("could not fetch"), "{failed}");
    assert!(app.state.store.service("sub-one").await.unwrap().is_some());

    // An https token is write-only: the API says it is set, never what it is.
    let change = json!({"git": {"url": "https://git.example/team/repo.git", "token": "tok-3x4mple-value"}});
    let response = app.client.patch(app.url("/api/v1/projects/sub")).json(&change).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains("tok-3x4mple-value"), "{text}");
    assert!(text.contains(r#""has_token":true"#), "{text}");
    let list = app.client.get(app.url("/api/v1/projects")).send().await.unwrap().text().await.unwrap();
    assert!(!list.contains("tok-3x4mple-value") && !list.contains("webhook_secret"), "{list}");
    use sea_orm::EntityTrait;
    let stored = backend::store::entities::project::Entity::find_by_id("sub".to_owned())
        .one(app.state.store.db())
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.token.unwrap().contains("tok-3x4mple"), "the token is sealed at rest");

    // Moving to ssh keeps the deploy key it makes (sealed) and shows its public half; a URL with credentials
    // in it is refused.
    let change = json!({"git": {"url": "git@git.example:team/repo.git"}});
    let page: Value =
        app.client.patch(app.url("/api/v1/projects/sub")).json(&change).send().await.unwrap().json().await.unwrap();
    let public = page["project"]["deploy_key_public"].as_str().unwrap().to_owned();
    assert!(public.starts_with("ssh-ed25519 "), "{page}");
    assert_eq!(detail(&app, "sub").await["project"]["deploy_key_public"], public.as_str(), "the key was stored");
    let leaky = json!({"git": {"url": "https://user:hunter2@git.example/r.git"}});
    let response = app.client.patch(app.url("/api/v1/projects/sub")).json(&leaky).send().await.unwrap();
    assert_eq!(response.status(), 422);

    // Removing the project removes its services; their executions stay.
    let removed = app.client.delete(app.url("/api/v1/projects/sub")).send().await.unwrap();
    assert_eq!(removed.status(), 204);
    assert!(app.state.store.service("sub-one").await.unwrap().is_none());
    let gone = app.client.get(app.url("/api/v1/projects/sub")).send().await.unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn projects_are_refused_bad_input_and_to_those_without_the_role() {
    let app = spawn_app().await;
    let repo = Repo::new();
    repo.service("a", "quick", "one");
    repo.commit("a name the fixture project has");
    for (body, says) in [
        (json!({"name": "x/y", "git": {"url": "/tmp"}}), "project name"),
        (json!({"name": "x", "git": {"url": "not a url"}}), "not a Git URL"),
        (json!({"name": "x", "git": {"url": "/tmp", "branch": "a..b"}}), "branch"),
        (json!({"name": "x", "git": {"url": "/tmp"}, "archive": true}), "exactly one source"),
        (json!({"name": "x", "git": {"url": "/tmp"}, "sync_interval_seconds": 1}), "sync_interval_seconds"),
        (json!({"name": "x", "git": {"url": "git@host:r.git", "token": "t"}}), "token is for https"),
    ] {
        let response = create(&app, body.clone()).await;
        assert_eq!(response.status(), 422, "{body}");
        let error = response.text().await.unwrap();
        assert!(error.contains(says), "{body}: {error}");
    }
    // A name another project's service has is a problem of this sync, not a takeover.
    let created: Value =
        create(&app, json!({"name": "clash", "git": {"url": repo.path()}})).await.json().await.unwrap();
    assert_eq!(created["sync"]["result"], "partial", "{created}");
    assert!(created["sync"]["problems"][0]["message"]
        .as_str()
        .unwrap()
        .contains("already has a service named `quick`"));
    assert_eq!(app.state.store.service("quick").await.unwrap().unwrap().project, "project");
    assert_eq!(create(&app, json!({"name": "clash", "archive": true})).await.status(), 409);

    // An ssh project gets a deploy key whose public half is shown.
    let ssh: Value = create(&app, json!({"name": "over-ssh", "git": {"url": "git@git.example:team/repo.git"}}))
        .await
        .json()
        .await
        .unwrap();
    let key = ssh["project"]["project"]["deploy_key_public"].as_str().unwrap();
    assert!(key.starts_with("ssh-ed25519 "), "{key}");
    assert!(!ssh.to_string().contains("OPENSSH PRIVATE KEY"));

    let (viewer, _) = app.signed_in(backend::access::Role::Viewer).await;
    let list = viewer.get(app.url("/api/v1/projects")).send().await.unwrap();
    assert_eq!(list.status(), 200);
    let page: Value = viewer.get(app.url("/api/v1/projects/clash")).send().await.unwrap().json().await.unwrap();
    assert!(page["webhook_secret"].is_null(), "only admins see the webhook secret");
    let origin = app.base.clone();
    let sync = viewer.post(app.url("/api/v1/projects/clash/sync")).header("Origin", &origin).send().await.unwrap();
    assert_eq!(sync.status(), 403);
    let add = viewer
        .post(app.url("/api/v1/projects"))
        .header("Origin", &origin)
        .json(&json!({"name": "v", "archive": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(add.status(), 403);
    assert_eq!(app.anonymous.get(app.url("/api/v1/projects")).send().await.unwrap().status(), 401);
}

fn github_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn a_signed_push_syncs_the_projects_following_that_branch() {
    let app = spawn_app().await;
    let repo = Repo::new();
    repo.service("hooked", "hooked", "one");
    repo.commit("first");
    let url = format!("file://{}", repo.path().display());
    let created: Value = create(&app, json!({"name": "hooked", "git": {"url": url}})).await.json().await.unwrap();
    let secret = created["project"]["webhook_secret"].as_str().unwrap().to_owned();

    repo.service("hooked", "hooked", "two");
    let pushed = repo.commit("second");
    let push = |body: Value| body.to_string().into_bytes();
    let github =
        push(json!({"ref": "refs/heads/main", "repository": {"clone_url": format!("{url}.git"), "html_url": "x"}}));
    let hook = app.url("/api/v1/git/push");

    let unsigned = app.anonymous.post(&hook).body(github.clone()).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let forged = app
        .anonymous
        .post(&hook)
        .header("X-Hub-Signature-256", github_signature("not the secret", &github))
        .body(github.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let other_branch = push(json!({"ref": "refs/heads/dev", "repository": {"clone_url": url}}));
    let response = app
        .anonymous
        .post(&hook)
        .header("X-Hub-Signature-256", github_signature(&secret, &other_branch))
        .body(other_branch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "no project follows dev");

    let response = app
        .anonymous
        .post(&hook)
        .header("X-Hub-Signature-256", github_signature(&secret, &github))
        .body(github.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(response.json::<Value>().await.unwrap()["syncing"], json!(["hooked"]));
    let synced = wait_until(|| async {
        let page = detail(&app, "hooked").await;
        let newest = page["syncs"][0].clone();
        (newest["trigger"] == "webhook" && newest["result"] != "running").then_some(newest)
    })
    .await;
    assert_eq!(synced["revision"], pushed.as_str(), "{synced}");
    assert_eq!(names(&synced["changed"]), ["hooked"]);

    // Gitea signs in a header of its own, without the prefix.
    let gitea = push(json!({"ref": "refs/heads/main", "repository": {"clone_url": url}}));
    let hex = github_signature(&secret, &gitea).trim_start_matches("sha256=").to_owned();
    let response = app.anonymous.post(&hook).header("X-Gitea-Signature", hex).body(gitea).send().await.unwrap();
    assert_eq!(response.status(), 202);

    // GitLab sends the secret itself.
    let gitlab = push(json!({"ref": "refs/heads/main", "project": {"git_http_url": url}}));
    let response = app.anonymous.post(&hook).header("X-Gitlab-Token", &secret).body(gitlab).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let bad = app.anonymous.post(&hook).body("{not json").send().await.unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn a_project_with_an_interval_is_synced_on_it() {
    let app = spawn_app().await;
    let repo = Repo::new();
    repo.service("ticking", "ticking", "one");
    repo.commit("first");
    let body = json!({"name": "ticking", "git": {"url": repo.path()}, "sync_interval_seconds": 5});
    assert_eq!(create(&app, body).await.status(), 201);
    repo.service("ticking", "ticking", "two");
    let second = repo.commit("second");
    let synced = wait_until(|| async {
        let newest = detail(&app, "ticking").await["syncs"][0].clone();
        (newest["trigger"] == "interval" && newest["result"] != "running").then_some(newest)
    })
    .await;
    assert_eq!(synced["revision"], second.as_str());
    // Once per interval: right after, it is not due again.
    app.state.projects.sync_due().await.unwrap();
    let syncs = detail(&app, "ticking").await["syncs"].as_array().unwrap().len();
    assert_eq!(syncs, 2, "the manual first sync and one interval sync");
}

#[tokio::test]
async fn a_scheduled_service_runs_once_per_due_time_through_the_bus() {
    let app = spawn_app().await;
    let repo = Repo::new();
    let manifest = json!({"name": "every-2s", "type": "k8x_job", "schedule": "*/2 * * * * *"});
    repo.write("every/manifest.json", &manifest.to_string());
    repo.write("every/deployment.yaml", &JOB.replace("echo VERSION", "echo params=$K8X_PARAMS"));
    repo.write("bad/manifest.json", r#"{"name": "bad-cron", "type": "k8x_job", "schedule": "every day"}"#);
    repo.write("bad/deployment.yaml", JOB);
    repo.commit("scheduled");
    let created: Value =
        create(&app, json!({"name": "timed", "git": {"url": repo.path()}})).await.json().await.unwrap();
    let problem = &created["sync"]["problems"][0];
    assert_eq!((problem["file"].as_str(), problem["field"].as_str()), (Some("bad/manifest.json"), Some("schedule")));

    let runs = wait_until(|| async {
        let runs = app.state.store.executions(Some("every-2s"), 10).await.unwrap();
        (runs.len() >= 2).then_some(runs)
    })
    .await;
    let mut ids: Vec<&str> = runs.iter().map(|r| r.event_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), runs.len(), "one execution per due time: {ids:?}");
    assert!(runs.iter().all(|r| r.event_type == "k8x.schedule.tick" && r.event_id.starts_with("every-2s@")));
    let finished = app.finished(&runs[0].id).await;
    assert_eq!(finished.status, "succeeded");
    let log = app.log(&runs[0].id).await;
    assert!(log.iter().any(|l| l.contains(r#""due":"#)), "the due time reaches the container: {log:?}");

    let page = app.client.get(app.url("/services/every-2s")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"schedule\"") && page.contains("*/2 * * * * *"), "the page shows the schedule");

    // Nobody else may speak for a schedule.
    let spoof = app
        .post_raw(
            &[
                ("ce-specversion", "1.0"),
                ("ce-id", "every-2s@2030-01-01T00:00:00Z"),
                ("ce-source", "/schedules/every-2s"),
                ("ce-type", "k8x.schedule.tick"),
                ("content-type", "application/json"),
            ],
            "{}",
        )
        .await;
    assert_eq!(spoof.status(), 400);
    assert!(spoof.text().await.unwrap().contains("reserved"));
}

/// The same path on PostgreSQL: a Git project synced, changed and removed; values by scope; revisions; a
/// schedule's ticks; the marks and claims compared there.
#[tokio::test]
async fn projects_values_revisions_and_schedules_work_on_postgresql() {
    let db = crate::postgres::TestDatabase::create().await;
    let app =
        crate::helpers::spawn_app_with(crate::helpers::Db::Url(db.url.clone()), tempfile::tempdir().unwrap()).await;
    let repo = Repo::new();
    repo.service("one", "pg-one", "one");
    let manifest = json!({"name": "pg-tick", "type": "k8x_job", "schedule": "* * * * * *"});
    repo.write("tick/manifest.json", &manifest.to_string());
    repo.write("tick/deployment.yaml", &JOB.replace("echo VERSION", "echo tick $GREETING"));
    let first = repo.commit("first");
    let created: Value = create(&app, json!({"name": "pg", "git": {"url": repo.path()}})).await.json().await.unwrap();
    assert_eq!(created["sync"]["result"], "ok", "{created}");
    repo.service("one", "pg-one", "two");
    let second = repo.commit("second");
    let synced = sync(&app, "pg").await;
    assert_eq!(synced["changed"], json!(["pg-one"]), "{synced}");
    assert_eq!(service_revision(&app, "pg-one").await.as_deref(), Some(second.as_str()));
    assert_eq!(
        service_revision(&app, "pg-tick").await.as_deref(),
        Some(first.as_str()),
        "unchanged keeps its revision"
    );

    let put = app.client.put(app.url("/api/v1/projects/pg/configs/GREETING")).json(&json!({"value": "hej"})).send();
    assert_eq!(put.await.unwrap().status(), 204);
    let runs = wait_until(|| async {
        let runs = app.state.store.executions(Some("pg-tick"), 10).await.unwrap();
        (runs.len() >= 2).then_some(runs)
    })
    .await;
    let finished = app.finished(&runs[0].id).await;
    assert_eq!(finished.revision.as_deref(), Some(first.as_str()));
    assert!(app.log(&runs[0].id).await.iter().any(|l| l == "tick hej"));
    let page = app.client.get(app.url("/services/pg-tick")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"revisions\"") && page.contains("id=\"schedule\""));
    let list: Value = app.client.get(app.url("/api/v1/projects")).send().await.unwrap().json().await.unwrap();
    let pg = list.as_array().unwrap().iter().find(|p| p["name"] == "pg").unwrap().clone();
    assert_eq!((pg["services"].as_u64(), pg["last_sync"]["revision"].as_str()), (Some(2), Some(second.as_str())));

    assert_eq!(app.client.delete(app.url("/api/v1/projects/pg")).send().await.unwrap().status(), 204);
    assert!(app.state.store.service("pg-one").await.unwrap().is_none());
    drop(app);
    db.drop().await;
}

/// A real sshd on 127.0.0.1 serving a repository: the deploy key k8x generated is refused until it is added to
/// `authorized_keys`, then the sync reads the branch; the server's host key is pinned at the first sync and a
/// different one is refused. (Skipped, saying so, where no `sshd` is installed; `scripts/setup.sh` installs it.)
#[tokio::test]
async fn an_ssh_project_syncs_with_its_deploy_key_and_pins_the_host_key() {
    let sshd = std::path::Path::new("/usr/sbin/sshd");
    if !sshd.exists() {
        eprintln!("skipped: no /usr/sbin/sshd");
        return;
    }
    let app = spawn_app().await;
    let repo = Repo::new();
    repo.service("svc", "over-ssh", "one");
    let commit = repo.commit("served over ssh");

    let dir = tempfile::tempdir().unwrap();
    let host_key = dir.path().join("host_ed25519");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&host_key)
        .status()
        .unwrap();
    assert!(made.success());
    let authorized = dir.path().join("authorized_keys");
    std::fs::write(&authorized, "").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = dir.path().join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nPidFile {}\nStrictModes no\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nPermitRootLogin prohibit-password\n",
            host_key.display(),
            authorized.display(),
            dir.path().join("sshd.pid").display()
        ),
    )
    .unwrap();
    std::fs::create_dir_all("/run/sshd").unwrap();
    let mut server = std::process::Command::new(sshd).arg("-D").arg("-e").arg("-f").arg(&config).spawn().unwrap();
    wait_until(|| async { std::net::TcpStream::connect(("127.0.0.1", port)).ok().map(drop) }).await;

    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let url = format!("ssh://{user}@127.0.0.1:{port}{}", repo.path().display());
    let created: Value = create(&app, json!({"name": "ssh", "git": {"url": url}})).await.json().await.unwrap();
    let public = created["project"]["project"]["deploy_key_public"].as_str().unwrap().to_owned();
    assert_eq!(created["sync"]["result"], "failed", "the key is not authorized yet: {created}");

    std::fs::write(&authorized, format!("{public}\n")).unwrap();
    let synced = sync(&app, "ssh").await;
    assert_eq!(synced["result"], "ok", "{synced}");
    assert_eq!(synced["revision"], commit.as_str());
    let pinned = detail(&app, "ssh").await["project"]["ssh_host_key"].as_str().unwrap().to_owned();
    assert!(pinned.starts_with("SHA256:"), "{pinned}");

    // The server presents another key than the one pinned: refused, services unchanged.
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let row = backend::store::entities::project::ActiveModel {
        name: Set("ssh".into()),
        ssh_host_key: Set(Some("SHA256:someoneelse".into())),
        ..Default::default()
    };
    row.update(app.state.store.db()).await.unwrap();
    let refused = sync(&app, "ssh").await;
    assert_eq!(refused["result"], "failed");
    assert!(refused["error"].as_str().unwrap().contains("host key"), "{refused}");
    assert!(app.state.store.service("over-ssh").await.unwrap().is_some());
    server.kill().unwrap();
    let _ = server.wait();
}

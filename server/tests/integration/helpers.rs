//! `spawn_app()`: a fresh k8x on port 0 with a fixture project, and ways to wait for what it does.

use std::{path::Path, time::Duration};

use backend::{config::Config, store::entities::execution, AppState};
use secrecy::SecretString;
use server::Application;
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The admin token every test k8x is started with (`K8X_BOOTSTRAP_TOKEN`): [`TestApp::client`] sends it.
pub const ADMIN_TOKEN: &str = "k8x_test_admin_token_0123456789abcdef";
/// The first admin's password in tests (`K8X_ADMIN_PASSWORD`).
pub const ADMIN_PASSWORD: &str = "test-admin-password";

/// A running k8x.
pub struct TestApp {
    pub base: String,
    /// Sends the admin token: for tests about something else than who may do it.
    pub client: reqwest::Client,
    /// Sends nothing: no token, no cookie.
    pub anonymous: reqwest::Client,
    pub state: AppState,
    pub dir: TempDir,
    shutdown: CancellationToken,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Where a test's database lives.
pub enum Db {
    Sqlite,
    Url(String),
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Db::Sqlite, TempDir::new().unwrap()).await
}

/// Starts k8x with its data in `dir` (reused by restart tests) and the fixture project.
pub async fn spawn_app_with(db: Db, dir: TempDir) -> TestApp {
    spawn(Setup { db, ..Setup::default() }, dir).await
}

/// Starts k8x on a Kafka bus at `brokers`.
pub async fn spawn_app_on_kafka(brokers: String) -> TestApp {
    spawn(Setup { kafka_brokers: Some(brokers), ..Setup::default() }, TempDir::new().unwrap()).await
}

/// How a test's k8x differs from the default one.
pub struct Setup {
    pub db: Db,
    pub kafka_brokers: Option<String>,
    /// Run executions as Kubernetes Jobs with these settings (else the local executor).
    pub kube: Option<backend::config::KubeConfig>,
    /// Another project than the fixture project.
    pub project_dir: Option<std::path::PathBuf>,
    pub max_event_bytes: usize,
    /// `K8X_SECRET_KEY` (else a key file in the data directory).
    pub secret_key: Option<String>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            db: Db::Sqlite,
            kafka_brokers: None,
            kube: None,
            project_dir: None,
            max_event_bytes: 64 * 1024,
            secret_key: None,
        }
    }
}

/// The config of a test's k8x, with its data in `dir`.
pub fn config(setup: Setup, dir: &Path) -> Config {
    let project = dir.join("project");
    if !project.exists() {
        write_fixture_project(&project);
    }
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.join("data"),
        database_url: match setup.db {
            Db::Sqlite => None,
            Db::Url(url) => Some(SecretString::from(url)),
        },
        project_dir: Some(setup.project_dir.unwrap_or(project)),
        site_root: dir.join("site"),
        max_event_bytes: setup.max_event_bytes,
        kafka_brokers: setup.kafka_brokers,
        executor: if setup.kube.is_some() {
            backend::config::ExecutorKind::Kubernetes
        } else {
            backend::config::ExecutorKind::Local
        },
        kube: setup.kube.unwrap_or_default(),
        secret_key: setup.secret_key.map(SecretString::from),
        admin_password: Some(SecretString::from(ADMIN_PASSWORD)),
        bootstrap_token: Some(SecretString::from(ADMIN_TOKEN)),
        ..Config::default()
    }
}

/// Starts k8x as `setup` says, with its data in `dir`.
pub async fn spawn(setup: Setup, dir: TempDir) -> TestApp {
    let config = config(setup, dir.path());
    spawn_config(config, dir).await
}

/// Starts k8x with `config`, its data in `dir`.
pub async fn spawn_config(config: Config, dir: TempDir) -> TestApp {
    server::telemetry::init();
    let shutdown = CancellationToken::new();
    let app = Application::build(config, shutdown.clone()).await.expect("k8x starts");
    let base = format!("http://{}", app.address());
    let state = app.state().clone();
    let server = Some(tokio::spawn(app.run_until_stopped()));
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}").parse().unwrap());
    let client = client_builder().default_headers(headers).build().unwrap();
    let anonymous = client_builder().build().unwrap();
    TestApp { base, client, anonymous, state, dir, shutdown, server }
}

/// Redirects are not followed (tests look at them), and nothing waits forever.
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(15))
}

impl TestApp {
    /// Stops k8x and waits until it has drained; returns the data directory for a restart.
    pub async fn stop(mut self) -> TempDir {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        std::mem::replace(&mut self.dir, TempDir::new().unwrap())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client signed in as a new user with `role` (cookies kept, `Origin` sent as a browser
    /// does); returns it with the user's name.
    pub async fn signed_in(&self, role: backend::access::Role) -> (reqwest::Client, String) {
        let name = format!("{}-{}", role.as_str(), uuid::Uuid::new_v4().simple());
        let password = "a password long enough";
        backend::auth::manage::add_user(&self.state.store, &name, role, password.into()).await.unwrap();
        (self.sign_in(&name, password).await.expect("the new user signs in"), name)
    }

    /// Signs in through the login form; the client on success, the redirect target on failure.
    pub async fn sign_in(&self, name: &str, password: &str) -> Result<reqwest::Client, String> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, self.base.parse().unwrap());
        let client = client_builder().cookie_store(true).default_headers(headers).build().unwrap();
        let response = client
            .post(self.url("/auth/login"))
            .form(&[("name", name), ("password", password), ("next", "/executions")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        if location == "/executions" {
            Ok(client)
        } else {
            Err(location)
        }
    }

    /// Posts a binary-mode CloudEvent.
    pub async fn post_event(&self, id: &str, ty: &str, data: serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/events"))
            .header("ce-specversion", "1.0")
            .header("ce-id", id)
            .header("ce-source", "/tests")
            .header("ce-type", ty)
            .header("content-type", "application/json")
            .body(data.to_string())
            .send()
            .await
            .unwrap()
    }

    /// Posts `body` to ingest with the given headers.
    pub async fn post_raw(&self, headers: &[(&str, &str)], body: impl Into<reqwest::Body>) -> reqwest::Response {
        let mut request = self.client.post(self.url("/api/v1/events")).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    /// Waits until `id` exists and has ended.
    pub async fn finished(&self, id: &str) -> execution::Model {
        wait_until(|| async {
            let row = self.state.store.execution(id).await.unwrap()?;
            model::views::ExecutionStatus::parse(&row.status).is_finished().then_some(row)
        })
        .await
    }

    /// Waits until the event (from `/tests`) has caused `count` executions, and they have all ended.
    pub async fn executions_of(&self, event_id: &str, count: usize) -> Vec<execution::Model> {
        self.executions_from("/tests", event_id, count).await
    }

    /// Waits until the event `event_id` from `source` has caused `count` executions, and they have all ended.
    pub async fn executions_from(&self, source: &str, event_id: &str, count: usize) -> Vec<execution::Model> {
        let key = backend::ids::event_key(source, event_id);
        wait_until(|| async {
            let rows = self.state.store.executions_of_event(&key).await.unwrap();
            let done = rows.len() == count && rows.iter().all(|r| r.status == "succeeded" || r.status == "failed");
            done.then_some(rows)
        })
        .await
    }

    /// Waits until the event `event_id` (from `/tests`) has made an execution that is running; its id.
    pub async fn running(&self, event_id: &str) -> String {
        let key = backend::ids::event_key("/tests", event_id);
        wait_until(|| async {
            let rows = self.state.store.executions_of_event(&key).await.unwrap();
            rows.into_iter().find(|r| r.status == "running").map(|r| r.id)
        })
        .await
    }

    /// Waits until the dispatcher has committed everything on the embedded bus so far.
    pub async fn dispatched_all(&self) {
        use backend::store::entities::{bus_offset, bus_record};
        use sea_orm::{EntityTrait, QueryOrder};
        let db = self.state.store.db();
        let last = bus_record::Entity::find().order_by_desc(bus_record::Column::Offset).one(db).await.unwrap();
        let Some(last) = last else { return };
        wait_until(|| async {
            let committed =
                bus_offset::Entity::find_by_id(backend::dispatcher::GROUP.to_owned()).one(db).await.unwrap();
            committed.filter(|c| c.next_offset > last.offset).map(drop)
        })
        .await;
    }

    /// The stored log of an execution.
    /// The event with `id` once the embedded bus holds it (k8x published it), as stored JSON.
    pub async fn published(&self, id: &str) -> serde_json::Value {
        use sea_orm::EntityTrait;
        let stored = wait_until(|| async {
            let records =
                backend::store::entities::bus_record::Entity::find().all(self.state.store.db()).await.unwrap();
            records
                .into_iter()
                .map(|r| serde_json::from_str::<serde_json::Value>(&r.event).unwrap())
                .find(|e| e["id"] == id)
        })
        .await;
        stored
    }

    pub async fn log(&self, id: &str) -> Vec<String> {
        let lines = self.state.store.log_after(id, 0, 100_000).await.unwrap();
        lines.into_iter().map(|l| l.text).collect()
    }
}

/// A binary-mode CloudEvent `id` of type `ty` (source `/tests`, data `{}`) for ingest at `base`, with the admin
/// token: for a k8x a test reaches by address rather than through a [`TestApp`].
pub fn event_to(client: &reqwest::Client, base: &str, id: &str, ty: &str) -> reqwest::RequestBuilder {
    client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(ADMIN_TOKEN)
        .header("ce-specversion", "1.0")
        .header("ce-id", id)
        .header("ce-source", "/tests")
        .header("ce-type", ty)
        .body("{}")
}

/// Posts `count` events to ingest at `base` (32 at a time) with clients that give up after 1–3 ms, so that many
/// requests go away mid-flight; returns how many were abandoned (not answered 202).
pub async fn abandon_requests(base: &str, count: usize) -> usize {
    use futures::StreamExt;
    let hasty: Vec<reqwest::Client> =
        (1..=3).map(|ms| reqwest::Client::builder().timeout(Duration::from_millis(ms)).build().unwrap()).collect();
    let accepted: Vec<bool> = futures::stream::iter(0..count)
        .map(|n| {
            let request = event_to(&hasty[n % 3], base, &format!("abandoned-{n}"), "nobody.listens");
            async move { request.send().await.is_ok_and(|r| r.status() == 202) }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    accepted.iter().filter(|ok| !**ok).count()
}

/// Polls `check` every 50 ms for up to 30 s.
pub async fn wait_until<T, F, Fut>(mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..600 {
        if let Some(found) = check().await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("gave up waiting after 30 s");
}

const BASH_JOB: &str = "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - name: main\n          image: bash\n          command: [\"/bin/bash\", \"-c\"]\n          args: [\"SCRIPT\"]\n      restartPolicy: Never\n";

/// Writes a service directory whose Job runs `script` with bash.
pub fn service(root: &Path, dir: &str, manifest: &str, script: &str, extra: &[(&str, &str)]) {
    let path = root.join(dir);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("manifest.json"), manifest).unwrap();
    std::fs::write(path.join("deployment.yaml"), BASH_JOB.replace("SCRIPT", script)).unwrap();
    for (file, text) in extra {
        std::fs::write(path.join(file), text).unwrap();
    }
}

/// Services for every path the tests take.
fn write_fixture_project(root: &Path) {
    service(
        root,
        "quick",
        r#"{"name": "quick", "type": "k8x_job", "trigger_events": ["t.quick"], "allow_manual_triggering": true}"#,
        r#"echo BEGIN; echo params=$K8X_PARAMS; echo token=$TOKEN; echo region=$REGION; echo DONE!"#,
        &[("secrets.json", r#"{"TOKEN": "sup3r-s3cret"}"#), ("configs.json", r#"{"REGION": "eu-1"}"#)],
    );
    service(
        root,
        "sleeper",
        r#"{"name": "inactive one", "type": "k8x_job", "trigger_events": ["t.quick"], "active": false}"#,
        "echo SHOULD NOT RUN",
        &[],
    );
    service(
        root,
        "slow",
        r#"{"name": "slow", "type": "k8x_job", "trigger_events": ["t.slow"]}"#,
        "echo BEGIN; sleep 1.5; echo DONE!",
        &[],
    );
    service(
        root,
        "failing",
        r#"{"name": "failing", "type": "k8x_job", "trigger_events": ["t.fail"]}"#,
        "echo trying; exit 4",
        &[],
    );
    service(
        root,
        "on_failure",
        r#"{"name": "on_failure", "type": "k8x_job", "trigger_events": ["k8x.execution.failed"]}"#,
        r#"echo got=$K8X_PARAMS"#,
        &[],
    );
    service(
        root,
        "form",
        r#"{"name": "form", "type": "k8x_job", "allow_manual_triggering": true}"#,
        r#"echo K8X_PARAMS=$K8X_PARAMS"#,
        &[(
            "parameters.json",
            r#"{"fields": [
                {"type": "text", "name": "who", "required": true},
                {"type": "int", "name": "count", "min": 0, "max": 10, "default": 1},
                {"type": "float", "name": "ratio"},
                {"type": "multiselect", "name": "tags", "choices": [{"title": "A", "value": "a"}, {"title": "B", "value": "b"}]},
                {"type": "file", "name": "upload"}
            ]}"#,
        )],
    );
    service(
        root,
        "chatty",
        r#"{"name": "chatty", "type": "k8x_job", "trigger_events": ["t.chatty"]}"#,
        "seq -f 'line-%g' 1 6000",
        &[],
    );
    service(
        root,
        "long",
        r#"{"name": "long", "type": "k8x_job", "trigger_events": ["t.long"], "allow_manual_triggering": true}"#,
        "echo started; sleep 30; echo never",
        &[],
    );
    service(
        root,
        "payload",
        r#"{"name": "payload", "type": "k8x_job", "trigger_events": ["t.payload"]}"#,
        r#"echo params_env=${K8X_PARAMS:+set}; echo params_size=$(wc -c < $K8X_PARAMS_FILE); echo event_size=$(wc -c < $K8X_EVENT_FILE)"#,
        &[],
    );
    service(
        root,
        "drip",
        r#"{"name": "drip", "type": "k8x_job", "trigger_events": ["t.drip"]}"#,
        "for i in $(seq 1 40); do echo line-$i; sleep 0.05; done",
        &[],
    );
    service(
        root,
        "pending",
        r#"{"name": "pending", "type": "k8x_job", "trigger_events": ["t.pending"]}"#,
        "echo never scheduled",
        &[(
            "deployment.yaml",
            "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    metadata:\n      annotations:\n        emulator.k8x.io/unschedulable: \"true\"\n    spec:\n      containers:\n        - name: main\n          image: bash\n          command: [\"true\"]\n      restartPolicy: Never\n",
        )],
    );
    service(
        root,
        "auto_only",
        r#"{"name": "auto_only", "type": "k8x_job", "trigger_events": ["t.none"]}"#,
        "true",
        &[],
    );
}

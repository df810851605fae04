//! The Kubernetes executor end to end over real HTTP: k8x against the project's Kubernetes API emulator
//! (`kube-emulator`: Jobs, pods, Secrets, list + watch, pod logs, a Job controller and a kubelet that runs
//! each container's command as a host process). Every test has its own emulator and its own k8x.

use std::{path::PathBuf, time::Duration};

use backend::config::KubeConfig;
use kube_emulator::{Emulator, Fault, Options};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::helpers::{config, spawn, wait_until, Setup, TestApp};

/// An emulated cluster and the settings that point k8x at it.
struct Cluster {
    emulator: Emulator,
    kube: KubeConfig,
    _dir: TempDir,
}

async fn cluster_with(options: impl FnOnce(&mut Options)) -> Cluster {
    let dir = TempDir::new().unwrap();
    let mut opts = Options { work_dir: dir.path().join("pods"), ..Options::default() };
    options(&mut opts);
    let emulator = Emulator::start(opts).await.expect("the emulator starts");
    let kubeconfig = dir.path().join("kubeconfig");
    emulator.write_kubeconfig(&kubeconfig, "k8x-jobs").unwrap();
    let kube = KubeConfig {
        namespace: "k8x-jobs".into(),
        kubeconfig: Some(kubeconfig),
        image_pull_timeout_seconds: 1,
        ..KubeConfig::default()
    };
    Cluster { emulator, kube, _dir: dir }
}

async fn cluster() -> Cluster {
    cluster_with(|_| {}).await
}

async fn k8x(cluster: &Cluster) -> TestApp {
    k8x_in(cluster, TempDir::new().unwrap()).await
}

async fn k8x_in(cluster: &Cluster, dir: TempDir) -> TestApp {
    spawn(Setup { kube: Some(cluster.kube.clone()), max_event_bytes: 1024 * 1024, ..Setup::default() }, dir).await
}

/// How often k8x asked to create Job `name` (chained services make Jobs of their own).
fn creations_of(cluster: &Cluster, name: &str) -> usize {
    job_creations(cluster).iter().filter(|job| job["metadata"]["name"] == name).count()
}

/// The JSON bodies of the Job creations k8x sent.
fn job_creations(cluster: &Cluster) -> Vec<Value> {
    cluster
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/jobs"))
        .filter_map(|r| r.body)
        .collect()
}

#[tokio::test]
async fn an_event_runs_as_a_job_with_its_environment_secrets_and_log() {
    let cluster = cluster().await;
    let app = k8x(&cluster).await;
    assert_eq!(app.post_event("k-1", "t.quick", json!({"who": "kube"})).await.status(), 202);
    let run = &app.executions_of("k-1", 1).await[0];
    let log = app.log(&run.id).await;
    assert_eq!(run.status, "succeeded", "{log:?} {:?}", run.error);
    assert_eq!(run.exit_code, Some(0));
    assert_eq!(run.executor, "kubernetes");
    let job_name = run.job_name.clone().unwrap();
    assert!(job_name.starts_with("k8x-quick-"), "{job_name}");
    assert!(log.contains(&r#"params={"who":"kube"}"#.to_owned()), "{log:?}");
    assert!(log.contains(&"token=***".to_owned()), "the secret reaches the container, masked in the log: {log:?}");
    assert!(log.contains(&"region=eu-1".to_owned()) && log.contains(&"DONE!".to_owned()), "{log:?}");
    let jobs = job_creations(&cluster);
    assert_eq!(jobs.len(), 1, "one Job per execution");
    assert!(!jobs[0].to_string().contains("sup3r-s3cret"), "a secret value is in the Job spec");
    assert_eq!(jobs[0]["metadata"]["labels"]["k8x.io/execution-id"], run.id.as_str());
    // The API shows the execution with its Job.
    let shown: Value =
        app.client.get(app.url(&format!("/api/v1/executions/{}", run.id))).send().await.unwrap().json().await.unwrap();
    assert_eq!((shown["status"].as_str(), shown["job_name"].as_str()), (Some("succeeded"), Some(job_name.as_str())));
    assert!(!shown.to_string().contains("sup3r-s3cret"));
}

#[tokio::test]
async fn a_300_kb_event_reaches_the_service_as_a_file() {
    let cluster = cluster().await;
    let app = k8x(&cluster).await;
    let blob = "x".repeat(300 * 1024);
    assert_eq!(app.post_event("big", "t.payload", json!({ "blob": blob })).await.status(), 202);
    let run = &app.executions_of("big", 1).await[0];
    let log = app.log(&run.id).await;
    assert_eq!(run.status, "succeeded", "{log:?} {:?}", run.error);
    assert!(log.contains(&"params_env=".to_owned()), "too large for the environment, so left out: {log:?}");
    assert!(log.contains(&format!("params_size={}", 300 * 1024 + 11)), "{log:?}");
    assert!(log.iter().any(|l| l.starts_with("K8X_PARAMS is 307211 bytes")), "the log says why: {log:?}");
}

#[tokio::test]
async fn a_failing_container_fails_the_execution_with_its_exit_code_and_chains() {
    let cluster = cluster().await;
    let app = k8x(&cluster).await;
    app.post_event("k-fail", "t.fail", json!({})).await;
    let run = &app.executions_of("k-fail", 1).await[0];
    assert_eq!(run.status, "failed");
    assert_eq!(run.exit_code, Some(4));
    assert!(run.error.as_deref().unwrap().contains("container `main` exited with 4"), "{:?}", run.error);
    assert_eq!(run.reason.as_deref(), Some("BackoffLimitExceeded"));
    // The completion event runs the service subscribed to failures.
    let chained = wait_until(|| async {
        let rows = app.state.store.executions(Some("on_failure"), 1).await.unwrap();
        rows.into_iter().find(|r| r.status == "succeeded")
    })
    .await;
    assert!(app.log(&chained.id).await.iter().any(|l| l.contains(&run.id)));
}

#[tokio::test]
async fn an_image_that_cannot_be_pulled_fails_the_execution_naming_the_image() {
    let cluster = cluster_with(|o| o.unpullable_images.push("bash".into())).await;
    let app = k8x(&cluster).await;
    app.post_event("k-pull", "t.quick", json!({})).await;
    let run = &app.executions_of("k-pull", 1).await[0];
    assert_eq!(run.status, "failed");
    assert_eq!(run.reason.as_deref(), Some("ImagePullBackOff"));
    let error = run.error.clone().unwrap();
    assert!(error.contains("image `bash`") && error.contains("cannot be pulled"), "{error}");
}

#[tokio::test]
async fn cancel_deletes_the_job_and_the_execution_ends_cancelled() {
    let cluster = cluster().await;
    let app = k8x(&cluster).await;
    app.post_event("k-long", "t.long", json!({})).await;
    let id = app.running("k-long").await;
    wait_until(|| async { app.log(&id).await.contains(&"started".to_owned()).then_some(()) }).await;
    let cancel = app.client.post(app.url(&format!("/api/v1/executions/{id}/cancel"))).send().await.unwrap();
    assert_eq!(cancel.status(), 202);
    let row = app.finished(&id).await;
    assert_eq!(row.status, "cancelled");
    let job_name = row.job_name.unwrap();
    let gone = cluster
        .emulator
        .requests()
        .into_iter()
        .any(|r| r.method == "DELETE" && r.path.ends_with(&format!("/jobs/{job_name}")));
    assert!(gone, "the Job was deleted");
    let again = app.client.post(app.url(&format!("/api/v1/executions/{id}/cancel"))).send().await.unwrap();
    assert_eq!(again.status(), 409, "an ended execution cannot be cancelled");
}

#[tokio::test]
async fn a_restart_mid_run_adopts_the_job_and_launches_nothing_again() {
    let cluster = cluster().await;
    let app = k8x(&cluster).await;
    app.post_event("k-drip", "t.drip", json!({})).await;
    let id = app.running("k-drip").await;
    wait_until(|| async { app.log(&id).await.contains(&"line-5".to_owned()).then_some(()) }).await;
    let dir = app.stop().await;
    let app = k8x_in(&cluster, dir).await;
    let row = app.finished(&id).await;
    assert_eq!(row.status, "succeeded", "{:?}", row.error);
    let expected: Vec<String> = (1..=40).map(|i| format!("line-{i}")).collect();
    assert_eq!(app.log(&id).await, expected, "every line once, across the restart");
    let job_name = row.job_name.clone().unwrap();
    assert_eq!(creations_of(&cluster, &job_name), 1, "the Job was adopted, not created again");
}

#[tokio::test]
async fn broken_watches_and_log_streams_lose_and_repeat_nothing() {
    let cluster = cluster().await;
    let app = k8x(&cluster).await;
    app.post_event("k-break", "t.drip", json!({})).await;
    let id = app.running("k-break").await;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cluster.emulator.break_watches();
        cluster.emulator.break_log_streams();
    }
    let row = app.finished(&id).await;
    assert_eq!(row.status, "succeeded", "{:?}", row.error);
    let expected: Vec<String> = (1..=40).map(|i| format!("line-{i}")).collect();
    assert_eq!(app.log(&id).await, expected);
}

#[tokio::test]
async fn api_errors_are_retried_and_the_run_still_happens() {
    let cluster = cluster().await;
    let app = k8x(&cluster).await;
    cluster.emulator.inject_fault(Fault {
        method: "POST".into(),
        path_contains: "/jobs".into(),
        status: 500,
        times: 2,
    });
    cluster.emulator.inject_fault(Fault {
        method: "POST".into(),
        path_contains: "/secrets".into(),
        status: 429,
        times: 2,
    });
    app.post_event("k-retry", "t.quick", json!({})).await;
    let run = &app.executions_of("k-retry", 1).await[0];
    assert_eq!(run.status, "succeeded", "{:?}", run.error);
    assert_eq!(job_creations(&cluster).len(), 3, "two refused, the third created");
}

#[tokio::test]
async fn a_missing_permission_stops_k8x_at_start_and_names_it() {
    let cluster = cluster_with(|o| o.denied.push(("get".into(), "pods/log".into()))).await;
    let dir = TempDir::new().unwrap();
    let config = config(Setup { kube: Some(cluster.kube.clone()), ..Setup::default() }, dir.path());
    let err = server::Application::build(config, tokio_util::sync::CancellationToken::new()).await.err().unwrap();
    let message = format!("{err:#}");
    assert!(message.contains("missing: get pods/log"), "{message}");
}

#[tokio::test]
async fn the_demo_project_runs_on_kubernetes() {
    let cluster = cluster().await;
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../demo");
    let setup = Setup { kube: Some(cluster.kube.clone()), project_dir: Some(demo), ..Setup::default() };
    let app = spawn(setup, TempDir::new().unwrap()).await;
    let response = app.post_event("demo-1", "ferris.apps.minio.file_uploaded", json!({"bucket": "uploads"})).await;
    assert_eq!(response.status(), 202);
    let key = backend::ids::event_key("/tests", "demo-1");
    let run = wait_until(|| async {
        let rows = app.state.store.executions_of_event(&key).await.unwrap();
        rows.into_iter().find(|r| matches!(r.status.as_str(), "succeeded" | "failed"))
    })
    .await;
    let log = app.log(&run.id).await;
    assert_eq!(run.status, "succeeded", "{log:?}");
    assert_eq!(log.first().map(String::as_str), Some("BEGIN"));
    assert!(log.contains(&"DONE!".to_owned()) && log.iter().any(|l| l == "K8X_SERVICE=k8s_test_job"), "{log:?}");

    // The other demo service, run by hand from its form.
    let form = reqwest::multipart::Form::new()
        .text("some_text", "from the form")
        .text("some_number", "3")
        .text("some_radio", "value 1");
    let response = app.client.post(app.url("/services/form_demo/run")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let to = response.headers()["location"].to_str().unwrap().to_owned();
    let id = to.strip_prefix("/executions/").expect("redirects to the execution page").to_owned();
    let run = app.finished(&id).await;
    let log = app.log(&id).await;
    assert_eq!(run.status, "succeeded", "{log:?}");
    assert_eq!(run.executor, "kubernetes");
    let params = log.iter().find_map(|l| l.strip_prefix("K8X_PARAMS=")).expect("the container printed its parameters");
    let params: Value = serde_json::from_str(params).unwrap();
    assert_eq!((params["some_text"].as_str(), params["some_number"].as_i64()), (Some("from the form"), Some(3)));
}

#[tokio::test]
async fn oom_killed_and_evicted_pods_are_named_on_the_execution() {
    let cluster = cluster().await;
    let dir = TempDir::new().unwrap();
    let project = dir.path().join("project");
    for (name, annotation) in
        [("oom", "emulator.k8x.io/oom-kill: main"), ("evicted", "emulator.k8x.io/evict: \"true\"")]
    {
        let job = format!("apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    metadata:\n      annotations:\n        {annotation}\n    spec:\n      containers:\n        - name: main\n          image: bash\n          command: [\"sleep\", \"30\"]\n      restartPolicy: Never\n");
        let manifest = format!(r#"{{"name": "{name}", "type": "k8x_job", "trigger_events": ["t.{name}"]}}"#);
        crate::helpers::service(&project, name, &manifest, "unused", &[("deployment.yaml", &job)]);
    }
    let setup = Setup { kube: Some(cluster.kube.clone()), project_dir: Some(project), ..Setup::default() };
    let app = spawn(setup, dir).await;
    app.post_event("k-oom", "t.oom", json!({})).await;
    app.post_event("k-evict", "t.evicted", json!({})).await;
    let oom = &app.executions_of("k-oom", 1).await[0];
    assert_eq!((oom.status.as_str(), oom.reason.as_deref(), oom.exit_code), ("failed", Some("OOMKilled"), Some(137)));
    assert!(oom.error.as_deref().unwrap().starts_with("container `main` was OOMKilled"), "{:?}", oom.error);
    let evicted = &app.executions_of("k-evict", 1).await[0];
    assert_eq!((evicted.status.as_str(), evicted.reason.as_deref()), ("failed", Some("Evicted")));
    assert!(
        evicted.error.as_deref().unwrap().starts_with("the pod was evicted: The node was low on resource: memory."),
        "{:?}",
        evicted.error
    );
}

#[tokio::test]
async fn a_job_that_ended_while_k8x_was_down_gets_its_status_and_whole_log() {
    let cluster = cluster().await;
    let app = k8x(&cluster).await;
    app.post_event("k-down", "t.drip", json!({})).await;
    let id = app.running("k-down").await;
    let job_name = app.state.store.execution(&id).await.unwrap().unwrap().job_name.unwrap();
    let dir = app.stop().await;
    // While k8x is down, the Job runs to its end.
    let url = format!("{}/apis/batch/v1/namespaces/k8x-jobs/jobs/{job_name}", cluster.emulator.url());
    wait_until(|| async {
        let job: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        let conditions = job["status"]["conditions"].as_array().cloned().unwrap_or_default();
        conditions.iter().any(|c| c["type"] == "Complete" && c["status"] == "True").then_some(())
    })
    .await;
    let app = k8x_in(&cluster, dir).await;
    let row = app.finished(&id).await;
    assert_eq!(row.status, "succeeded", "{:?}", row.error);
    let expected: Vec<String> = (1..=40).map(|i| format!("line-{i}")).collect();
    assert_eq!(app.log(&id).await, expected);
}

#[tokio::test]
async fn nothing_is_lost_while_the_api_is_down() {
    let cluster = cluster().await;
    let app = k8x(&cluster).await;
    cluster.emulator.set_down(true);
    assert_eq!(app.post_event("k-outage", "t.quick", json!({})).await.status(), 202);
    tokio::time::sleep(Duration::from_secs(3)).await;
    cluster.emulator.set_down(false);
    let run = &app.executions_of("k-outage", 1).await[0];
    assert_eq!(run.status, "succeeded", "{:?}", run.error);
    assert!(app.log(&run.id).await.contains(&"DONE!".to_owned()));
}

#[tokio::test]
async fn a_refused_create_is_recorded_on_the_execution_with_the_permission() {
    let cluster = cluster().await;
    let app = k8x(&cluster).await;
    cluster.emulator.inject_fault(Fault {
        method: "POST".into(),
        path_contains: "/jobs".into(),
        status: 403,
        times: 1,
    });
    app.post_event("k-403", "t.quick", json!({})).await;
    let run = &app.executions_of("k-403", 1).await[0];
    assert_eq!(run.status, "failed");
    let error = run.error.clone().unwrap();
    assert!(error.starts_with("Kubernetes refused to create the Job (403 Forbidden)"), "{error}");
}

#[tokio::test]
async fn an_event_as_large_as_ingest_accepts_reaches_the_service_in_secrets_that_fit() {
    let cluster = cluster().await;
    let app = k8x(&cluster).await;
    // Just under the 1 MiB limit as structured JSON (the attributes take a few hundred bytes).
    let blob = "y".repeat(1024 * 1024 - 600);
    let response = app.post_event("huge", "t.payload", json!({ "blob": blob })).await;
    assert_eq!(response.status(), 202, "{:?}", response.text().await);
    let run = &app.executions_of("huge", 1).await[0];
    let log = app.log(&run.id).await;
    assert_eq!(run.status, "succeeded", "{log:?} {:?}", run.error);
    assert!(log.contains(&format!("params_size={}", blob.len() + 11)), "{log:?}");
    let secrets: Vec<Value> = cluster
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/secrets"))
        .filter_map(|r| r.body)
        .collect();
    assert!(secrets.len() >= 2, "params and event do not fit one Secret together");
    for secret in &secrets {
        let size: usize = secret["stringData"].as_object().unwrap().values().map(|v| v.as_str().unwrap().len()).sum();
        assert!(size <= 1024 * 1024, "Kubernetes refuses a Secret of {size} bytes");
    }
}

#[tokio::test]
async fn a_pod_that_cannot_be_scheduled_says_why_and_can_be_cancelled_while_queued() {
    let cluster = cluster().await;
    let app = k8x(&cluster).await;
    app.post_event("k-pending", "t.pending", json!({})).await;
    let key = backend::ids::event_key("/tests", "k-pending");
    let row = wait_until(|| async {
        let rows = app.state.store.executions_of_event(&key).await.unwrap();
        rows.into_iter().find(|r| r.reason.as_deref().is_some_and(|r| r.starts_with("Unschedulable")))
    })
    .await;
    assert_eq!(row.status, "queued", "no pod runs");
    assert_eq!(row.reason.as_deref(), Some("Unschedulable: 0/1 nodes are available: 1 Insufficient cpu."));
    let page = app.client.get(app.url(&format!("/executions/{}", row.id))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Unschedulable: 0/1 nodes are available"), "the page shows why it waits");
    let cancel = app.client.post(app.url(&format!("/api/v1/executions/{}/cancel", row.id))).send().await.unwrap();
    assert_eq!(cancel.status(), 202);
    assert_eq!(app.finished(&row.id).await.status, "cancelled");
}

#[tokio::test]
async fn a_job_created_before_a_stop_is_never_created_again_even_when_it_is_gone() {
    let mut cluster = cluster().await;
    cluster.kube.job_ttl_seconds = 0;
    let app = k8x(&cluster).await;
    app.post_event("k-ttl", "t.drip", json!({})).await;
    let id = app.running("k-ttl").await;
    let job_name = app.state.store.execution(&id).await.unwrap().unwrap().job_name.unwrap();
    let dir = app.stop().await;
    // While k8x is down the Job ends and its TTL of 0 removes it at once.
    let url = format!("{}/apis/batch/v1/namespaces/k8x-jobs/jobs/{job_name}", cluster.emulator.url());
    wait_until(|| async { (reqwest::get(&url).await.unwrap().status() == 404).then_some(()) }).await;
    let app = k8x_in(&cluster, dir).await;
    let row = app.finished(&id).await;
    assert_eq!(creations_of(&cluster, &job_name), 1, "a Job that existed is not created a second time");
    assert_eq!(row.status, "failed");
    assert_eq!(row.reason.as_deref(), Some("JobDeleted"), "{:?}", row.error);
}

#[tokio::test]
async fn two_k8x_processes_on_one_database_follow_each_execution_once_and_take_over_from_a_stopped_one() {
    let cluster = cluster().await;
    let shared = TempDir::new().unwrap();
    let db = format!("sqlite://{}?mode=rwc", shared.path().join("k8x.db").display());
    // Processes sharing a database share its secret key.
    let key = backend::store::SecretCipher::generate_key();
    let start = |dir: TempDir| {
        let setup = Setup {
            kube: Some(cluster.kube.clone()),
            db: crate::helpers::Db::Url(db.clone()),
            secret_key: Some(key.clone()),
            max_event_bytes: 1024 * 1024,
            ..Setup::default()
        };
        spawn(setup, dir)
    };
    let first = start(TempDir::new().unwrap()).await;
    let second = start(TempDir::new().unwrap()).await;
    first.post_event("k-two", "t.drip", json!({})).await;
    let id = first.running("k-two").await;
    wait_until(|| async { first.log(&id).await.contains(&"line-3".to_owned()).then_some(()) }).await;
    // Whichever of the two follows it, the first stops now; the second goes on (or takes over).
    first.stop().await;
    let row = second.finished(&id).await;
    assert_eq!(row.status, "succeeded", "{:?}", row.error);
    let expected: Vec<String> = (1..=40).map(|i| format!("line-{i}")).collect();
    assert_eq!(second.log(&id).await, expected, "each line once, whichever process read it");
    assert_eq!(creations_of(&cluster, row.job_name.as_deref().unwrap()), 1);
}

#[tokio::test]
async fn init_containers_log_first_and_every_retried_pod_is_kept_and_labelled() {
    let cluster = cluster().await;
    let dir = TempDir::new().unwrap();
    let project = dir.path().join("project");
    let job = "apiVersion: batch/v1\nkind: Job\nspec:\n  backoffLimit: 1\n  template:\n    spec:\n      initContainers:\n        - name: prepare\n          image: bash\n          command: [\"bash\", \"-c\", \"echo preparing\"]\n      containers:\n        - name: main\n          image: bash\n          command: [\"bash\", \"-c\", \"echo working; exit 2\"]\n      restartPolicy: Never\n";
    crate::helpers::service(
        &project,
        "retried",
        r#"{"name": "retried", "type": "k8x_job", "trigger_events": ["t.retried"]}"#,
        "unused",
        &[("deployment.yaml", job)],
    );
    let setup = Setup { kube: Some(cluster.kube.clone()), project_dir: Some(project), ..Setup::default() };
    let app = spawn(setup, dir).await;
    app.post_event("k-retried", "t.retried", json!({})).await;
    let run = &app.executions_of("k-retried", 1).await[0];
    assert_eq!(
        (run.status.as_str(), run.exit_code, run.reason.as_deref()),
        ("failed", Some(2), Some("BackoffLimitExceeded"))
    );
    let log = app.log(&run.id).await;
    let attempt = log.iter().position(|l| l.starts_with("attempt 2: pod `")).unwrap_or_else(|| panic!("{log:?}"));
    let (first, second) = log.split_at(attempt);
    for lines in [first, second] {
        let prepared = lines.iter().position(|l| l == "[prepare] preparing");
        let worked = lines.iter().position(|l| l == "[main] working");
        assert!(prepared.is_some() && prepared < worked, "each attempt: the init container's log first: {log:?}");
    }
}

#[tokio::test]
async fn a_failed_execution_is_retried_as_a_job_of_its_own() {
    let cluster = cluster().await;
    let dir = TempDir::new().unwrap();
    let project = dir.path().join("project");
    crate::helpers::service(
        &project,
        "flaky",
        r#"{"name": "flaky", "type": "k8x_job", "trigger_events": ["t.flaky"], "retries": {"count": 2, "backoff_seconds": 1}}"#,
        "echo attempt=$K8X_ATTEMPT; [ $K8X_ATTEMPT -ge 2 ] || exit 4",
        &[],
    );
    let setup = Setup { kube: Some(cluster.kube.clone()), project_dir: Some(project), ..Setup::default() };
    let app = spawn(setup, dir).await;
    app.post_event("k-flaky", "t.flaky", json!({})).await;
    let run = app.executions_of("k-flaky", 1).await.remove(0);
    assert_eq!((run.status.as_str(), run.attempt), ("succeeded", 2), "{:?}", run.error);
    let first = run.job_name.as_deref().unwrap().trim_end_matches("-2").to_owned();
    assert_eq!(run.job_name.as_deref(), Some(format!("{first}-2").as_str()), "the retry is a Job of its own");
    assert_eq!((creations_of(&cluster, &first), creations_of(&cluster, &format!("{first}-2"))), (1, 1));
    let attempts = app.state.store.attempts(&run.id).await.unwrap();
    assert_eq!(attempts.iter().map(|a| (a.attempt, a.exit_code)).collect::<Vec<_>>(), [(1, Some(4))]);
    let log = app.log(&run.id).await;
    assert!(log.contains(&"attempt=1".to_owned()) && log.contains(&"attempt=2".to_owned()), "{log:?}");
}

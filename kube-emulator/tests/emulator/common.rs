//! The per-test harness: an emulator in a fresh work directory and a kube-rs client pointed at it.

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, Client};
use kube_emulator::{Emulator, Options};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tempfile::TempDir;

/// The namespace tests use.
pub const NS: &str = "test";

/// A started emulator with its client.
pub struct TestEnv {
    pub emulator: Emulator,
    pub client: Client,
    /// Kept so the work directory outlives the emulator.
    pub _dir: TempDir,
}

impl TestEnv {
    pub fn jobs(&self) -> Api<Job> {
        Api::namespaced(self.client.clone(), NS)
    }

    pub fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), NS)
    }

    /// The pods of a Job, by the label the controller puts on them.
    pub async fn job_pods(&self, job: &str) -> Vec<Pod> {
        let lp = ListParams::default().labels(&format!("batch.kubernetes.io/job-name={job}"));
        self.pods().list(&lp).await.expect("list pods").items
    }

    /// Waits for the Job's first pod and returns it.
    pub async fn first_pod(&self, job: &str) -> Pod {
        eventually(&format!("a pod for {job}"), || async { self.job_pods(job).await.into_iter().next() }).await
    }
}

pub async fn start() -> TestEnv {
    start_with(Options::default()).await
}

pub async fn start_with(mut options: Options) -> TestEnv {
    let dir = tempfile::tempdir().expect("tempdir");
    options.work_dir = dir.path().to_path_buf();
    let emulator = Emulator::start(options).await.expect("start emulator");
    let mut config = kube::Config::new(emulator.url().parse().expect("url"));
    config.default_namespace = NS.into();
    let client = Client::try_from(config).expect("client");
    TestEnv { emulator, client, _dir: dir }
}

/// Builds a typed object from JSON.
pub fn typed<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("valid object")
}

/// A Job running `sh -c script` once, with `extra` merged into its JSON (spec tweaks, labels, ...).
pub fn job(name: &str, script: &str, extra: Value) -> Job {
    let mut job = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": { "name": name, "labels": { "app": "x" } },
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{ "name": "main", "image": "busybox:1.36", "command": ["sh", "-c", script] }],
                },
            },
        },
    });
    kube_emulator::patch::merge(&mut job, &extra);
    typed(job)
}

/// Polls `check` until it yields a value (20 s at most).
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether a Job has a true condition of this type.
pub fn has_condition(job: &Job, type_: &str) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == type_ && c.status == "True")
}

/// Waits for the Job to carry a true condition of this type.
pub async fn wait_condition(env: &TestEnv, name: &str, type_: &str) -> Job {
    eventually(&format!("{name} to be {type_}"), || async {
        env.jobs().get(name).await.ok().filter(|j| has_condition(j, type_))
    })
    .await
}

/// The `Status` of a failed kube-rs call.
pub fn api_error<T: Debug>(result: kube::Result<T>) -> Box<kube::core::Status> {
    match result {
        Err(kube::Error::Api(status)) => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// The first container status of a pod, as JSON (easy to index).
pub fn container_status(pod: &Pod) -> Value {
    json!(pod.status.as_ref().and_then(|s| s.container_statuses.as_ref()).and_then(|c| c.first()))
}

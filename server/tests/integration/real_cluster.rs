//! Against a real cluster, when `K8X_TEST_KUBECONFIG` names a kubeconfig (kind, k3d, …; see the README):
//! an event runs as a Job there, with its parameters file, its secret and its log. Skipped otherwise, with
//! a message saying so. `K8X_TEST_NAMESPACE` (default `k8x-jobs`) must exist and allow what
//! `deploy/kubernetes/rbac.yaml` grants.

use serde_json::json;
use tempfile::TempDir;

use crate::helpers::{spawn, Setup};

#[tokio::test]
async fn an_event_runs_as_a_job_on_a_real_cluster() {
    let Some(kubeconfig) = std::env::var_os("K8X_TEST_KUBECONFIG") else {
        eprintln!(
            "SKIPPED an_event_runs_as_a_job_on_a_real_cluster: set K8X_TEST_KUBECONFIG to run it against a cluster"
        );
        return;
    };
    let dir = TempDir::new().unwrap();
    let project = dir.path().join("cluster-project");
    let job = "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - name: main\n          image: busybox:1.36\n          command: [\"sh\", \"-c\"]\n          args: [\"echo BEGIN; cat $K8X_PARAMS_FILE; echo; echo token=$TOKEN; echo DONE!\"]\n";
    crate::helpers::service(
        &project,
        "real",
        r#"{"name": "real", "type": "k8x_job", "trigger_events": ["t.real"]}"#,
        "unused",
        &[("deployment.yaml", job), ("secrets.json", r#"{"TOKEN": "real-s3cret"}"#)],
    );
    let kube = backend::config::KubeConfig {
        namespace: std::env::var("K8X_TEST_NAMESPACE").unwrap_or_else(|_| "k8x-jobs".into()),
        kubeconfig: Some(kubeconfig.into()),
        ..Default::default()
    };
    let app = spawn(Setup { kube: Some(kube), project_dir: Some(project), ..Setup::default() }, dir).await;
    let id = format!("real-{}", uuid::Uuid::new_v4());
    assert_eq!(app.post_event(&id, "t.real", json!({"from": "the test"})).await.status(), 202);
    let key = backend::ids::event_key("/tests", &id);
    // A real cluster may pull the image first: up to five minutes.
    let mut run = None;
    for _ in 0..300 {
        let rows = app.state.store.executions_of_event(&key).await.unwrap();
        run = rows.into_iter().find(|r| matches!(r.status.as_str(), "succeeded" | "failed"));
        if run.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let run = run.expect("the execution ended within five minutes");
    let log = app.log(&run.id).await;
    assert_eq!(run.status, "succeeded", "{log:?} {:?}", run.error);
    assert!(log.contains(&r#"{"from":"the test"}"#.to_owned()) && log.contains(&"token=***".to_owned()), "{log:?}");
}

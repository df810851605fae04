//! Pod logs: following a running container, container selection errors, breaking follow streams.

use std::time::{Duration, Instant};

use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{LogParams, PostParams};
use serde_json::json;

use crate::common::*;

async fn running_pod(env: &TestEnv, job_name: &str) -> String {
    eventually("a running container", || async {
        let pod = env.job_pods(job_name).await.into_iter().next()?;
        container_status(&pod)["state"].get("running")?;
        pod.metadata.name
    })
    .await
}

#[tokio::test]
async fn follow_streams_lines_while_the_process_runs() {
    let env = start().await;
    let script = "echo one; sleep 1; echo two; sleep 1; echo three";
    env.jobs().create(&PostParams::default(), &job("follow", script, json!({}))).await.unwrap();
    let pod = running_pod(&env, "follow").await;
    let started = Instant::now();
    let params = LogParams { follow: true, ..LogParams::default() };
    let mut lines = env.pods().log_stream(&pod, &params).await.unwrap().lines();
    assert_eq!(lines.try_next().await.unwrap().as_deref(), Some("one"));
    // The first line arrived while the process still runs (it sleeps two more seconds).
    let pod_now: Pod = env.pods().get(&pod).await.unwrap();
    assert_eq!(pod_now.status.unwrap().phase.as_deref(), Some("Running"));
    let rest: Vec<String> = lines.try_collect().await.unwrap();
    assert_eq!(rest, ["two", "three"]);
    assert!(started.elapsed() >= Duration::from_millis(1500));
}

#[tokio::test]
async fn break_log_streams_ends_a_follow_mid_log() {
    let env = start().await;
    env.jobs().create(&PostParams::default(), &job("endless", "echo start; sleep 30", json!({}))).await.unwrap();
    let pod = running_pod(&env, "endless").await;
    let params = LogParams { follow: true, ..LogParams::default() };
    let mut lines = env.pods().log_stream(&pod, &params).await.unwrap().lines();
    assert_eq!(lines.try_next().await.unwrap().as_deref(), Some("start"));
    env.emulator.break_log_streams();
    let rest = tokio::time::timeout(Duration::from_secs(5), lines.collect::<Vec<_>>()).await;
    assert!(rest.is_ok(), "the follow stream should end after break_log_streams");
}

#[tokio::test]
async fn log_container_selection_uses_the_real_messages() {
    let env = start().await;
    let pod: Pod = typed(json!({
        "metadata": { "name": "multi" },
        "spec": {
            "restartPolicy": "Never",
            "initContainers": [{ "name": "i", "image": "busybox", "command": ["sh", "-c", "echo init"] }],
            "containers": [
                { "name": "a", "image": "busybox", "command": ["sh", "-c", "echo from-a"] },
                { "name": "b", "image": "busybox" },
            ],
        },
    }));
    env.pods().create(&PostParams::default(), &pod).await.unwrap();
    let status = api_error(env.pods().logs("multi", &LogParams::default()).await);
    assert_eq!(status.code, 400);
    assert_eq!(
        status.message,
        "a container name must be specified for pod multi, choose one of: [a b] or one of the init containers: [i]"
    );
    eventually("the pod to succeed", || async {
        let pod = env.pods().get("multi").await.ok()?;
        (pod.status?.phase.as_deref() == Some("Succeeded")).then_some(())
    })
    .await;
    let log = |c: &str| LogParams { container: Some(c.into()), ..LogParams::default() };
    assert_eq!(env.pods().logs("multi", &log("i")).await.unwrap(), "init\n");
    assert_eq!(env.pods().logs("multi", &log("a")).await.unwrap(), "from-a\n");
    assert_eq!(
        env.pods().logs("multi", &log("b")).await.unwrap(),
        "kube-emulator: no command, the image's entrypoint is not emulated\n"
    );
    let tail = LogParams { container: Some("a".into()), tail_lines: Some(0), ..LogParams::default() };
    assert_eq!(env.pods().logs("multi", &tail).await.unwrap(), "");
}

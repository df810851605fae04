//! Stopping or dropping an emulator kills the process groups of its pods, children included.

use kube::api::{LogParams, PostParams};
use serde_json::json;

use crate::common::*;

/// A process is gone once /proc no longer lists it or it is a zombie awaiting its reaper.
fn is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Starts a Job whose shell backgrounds a `sleep` (same process group) and returns the sleep's pid.
async fn sleeping_child(env: &TestEnv) -> u32 {
    env.jobs().create(&PostParams::default(), &job("sleeper", "sleep 30 & echo $!; wait", json!({}))).await.unwrap();
    eventually("the child's pid in the log", || async {
        let pod = env.job_pods("sleeper").await.into_iter().next()?;
        let log = env.pods().logs(pod.metadata.name.as_deref()?, &LogParams::default()).await.ok()?;
        log.trim().parse().ok()
    })
    .await
}

#[tokio::test]
async fn stop_kills_pod_processes() {
    let env = start().await;
    let pid = sleeping_child(&env).await;
    assert!(!is_dead(pid));
    let TestEnv { emulator, _dir, .. } = env;
    emulator.stop().await;
    eventually("the child to die", || async { is_dead(pid).then_some(()) }).await;
}

#[tokio::test]
async fn drop_kills_pod_processes() {
    let env = start().await;
    let pid = sleeping_child(&env).await;
    drop(env);
    eventually("the child to die", || async { is_dead(pid).then_some(()) }).await;
}

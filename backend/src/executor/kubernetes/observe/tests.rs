//! Statuses as a real API server reports them (shapes taken from `kubectl get -o json` of Jobs and pods).

use serde_json::{json, Value};

use super::*;
use model::views::ExecutionStatus;

fn job(conditions: Value) -> Job {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "k8x-hello-6f1c2a9e0b7d", "namespace": "k8x-jobs", "uid": "0f2c7d34-1c1e-4e0e-9a4f-6b0f5d8e2a11"},
        "spec": {"backoffLimit": 0, "template": {"spec": {"containers": [{"name": "main", "image": "busybox"}], "restartPolicy": "Never"}}},
        "status": {"startTime": "2026-11-27T01:00:00Z", "active": 1, "conditions": conditions}
    }))
    .unwrap()
}

fn pod(name: &str, created: &str, status: Value) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "k8x-jobs", "creationTimestamp": created,
                     "labels": {"batch.kubernetes.io/job-name": "k8x-hello-6f1c2a9e0b7d"}},
        "spec": {"containers": [{"name": "main", "image": "busybox"}], "restartPolicy": "Never"},
        "status": status
    }))
    .unwrap()
}

fn terminated(exit_code: i32, reason: &str) -> Value {
    json!({"phase": "Failed", "containerStatuses": [{"name": "main", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
        "state": {"terminated": {"exitCode": exit_code, "reason": reason, "startedAt": "2026-11-27T01:00:01Z", "finishedAt": "2026-11-27T01:00:02Z"}}}]})
}

fn ending(observation: Observation) -> Ending {
    match observation.phase {
        Phase::Ended(ending) => ending,
        other => panic!("not ended: {other:?}"),
    }
}

#[test]
fn a_complete_job_succeeded() {
    let job = job(json!([
        {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached"},
        {"type": "Complete", "status": "True", "reason": "CompletionsReached"}
    ]));
    let done = pod("p1", "2026-11-27T01:00:00Z", json!({"phase": "Succeeded"}));
    let ending = ending(observe(&job, &[&done]));
    assert_eq!((ending.status, ending.exit_code), (ExecutionStatus::Succeeded, Some(0)));
}

#[test]
fn backoff_limit_exceeded_names_the_container_and_its_exit_code() {
    let job = job(json!([
        {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"},
        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}
    ]));
    let failed = pod("p1", "2026-11-27T01:00:00Z", terminated(3, "Error"));
    let ending = ending(observe(&job, &[&failed]));
    assert_eq!((ending.status, ending.exit_code), (ExecutionStatus::Failed, Some(3)));
    assert_eq!(
        ending.error.as_deref(),
        Some("container `main` exited with 3 (BackoffLimitExceeded: Job has reached the specified backoff limit)")
    );
    assert_eq!(ending.reason.as_deref(), Some("BackoffLimitExceeded"));
}

#[test]
fn oom_killed_is_named() {
    let job = job(
        json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]),
    );
    let failed = pod("p1", "2026-11-27T01:00:00Z", terminated(137, "OOMKilled"));
    let ending = ending(observe(&job, &[&failed]));
    assert_eq!(ending.reason.as_deref(), Some("OOMKilled"));
    assert!(ending.error.unwrap().starts_with("container `main` was OOMKilled"));
    assert_eq!(ending.exit_code, Some(137));
}

#[test]
fn deadline_exceeded_is_named() {
    let job = job(
        json!([{"type": "Failed", "status": "True", "reason": "DeadlineExceeded", "message": "Job was active longer than specified deadline"}]),
    );
    let ending = ending(observe(&job, &[]));
    assert_eq!(ending.reason.as_deref(), Some("DeadlineExceeded"));
    assert_eq!(ending.error.as_deref(), Some("DeadlineExceeded: Job was active longer than specified deadline"));
}

#[test]
fn an_evicted_pod_is_named() {
    let job = job(
        json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]),
    );
    let evicted = pod(
        "p1",
        "2026-11-27T01:00:00Z",
        json!({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory. "}),
    );
    let ending = ending(observe(&job, &[&evicted]));
    assert_eq!(ending.reason.as_deref(), Some("Evicted"));
    assert!(ending.error.unwrap().starts_with("the pod was evicted: The node was low on resource: memory."));
}

#[test]
fn an_image_that_cannot_be_pulled_is_named_with_the_image() {
    let job = job(json!([]));
    let waiting = pod(
        "p1",
        "2026-11-27T01:00:00Z",
        json!({"phase": "Pending", "containerStatuses": [{"name": "main", "image": "registry.example/nope:1", "imageID": "", "ready": false, "restartCount": 0,
        "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"registry.example/nope:1\""}}}]}),
    );
    let seen = observe(&job, &[&waiting]);
    assert_eq!(seen.phase, Phase::Pending);
    assert!(seen.image_pull_failing);
    assert_eq!(
        seen.reason.as_deref(),
        Some("ImagePullBackOff: image `registry.example/nope:1` of container `main` cannot be pulled: Back-off pulling image \"registry.example/nope:1\"")
    );
}

#[test]
fn an_unschedulable_pod_says_why() {
    let job = job(json!([]));
    let pending = pod(
        "p1",
        "2026-11-27T01:00:00Z",
        json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/1 nodes are available: 1 Insufficient cpu."}]}),
    );
    let seen = observe(&job, &[&pending]);
    assert_eq!(seen.phase, Phase::Pending);
    assert_eq!(seen.reason.as_deref(), Some("Unschedulable: 0/1 nodes are available: 1 Insufficient cpu."));
}

#[test]
fn a_running_pod_runs_and_a_retry_is_counted() {
    let job = job(json!([]));
    let first = pod("p1", "2026-11-27T01:00:00Z", terminated(1, "Error"));
    let second = pod(
        "p2",
        "2026-11-27T01:00:05Z",
        json!({"phase": "Running", "containerStatuses": [{"name": "main", "image": "busybox", "imageID": "", "ready": true, "restartCount": 0,
        "state": {"running": {"startedAt": "2026-11-27T01:00:06Z"}}}]}),
    );
    let seen = observe(&job, &[&second, &first]);
    assert_eq!(seen.phase, Phase::Running);
    assert_eq!(seen.reason.as_deref(), Some("attempt 2"));
    let seen = observe(&job, &[&first]);
    assert_eq!(seen.phase, Phase::Pending);
    assert_eq!(seen.reason.as_deref(), Some("attempt 1 failed: container `main` exited with 1; the Job retries"));
}

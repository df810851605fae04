//! Watches: resuming from a list's resourceVersion, kube-rs's `watcher`, and `break_watches`.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::batch::v1::Job;
use kube::api::{ListParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::{watcher, WatchStreamExt};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn watch_from_a_lists_version_sees_the_job_modified_to_complete() {
    let env = start().await;
    let list = env.jobs().list(&ListParams::default()).await.unwrap();
    let rv = list.metadata.resource_version.unwrap();
    env.jobs().create(&PostParams::default(), &job("w", "echo hi", json!({}))).await.unwrap();
    let mut stream = env.jobs().watch(&WatchParams::default(), &rv).await.unwrap().boxed();
    let mut types = Vec::new();
    let complete = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(event) = stream.try_next().await.unwrap() {
            match event {
                WatchEvent::Added(_) => types.push("ADDED"),
                WatchEvent::Modified(job) => {
                    types.push("MODIFIED");
                    if has_condition(&job, "Complete") {
                        return job;
                    }
                }
                WatchEvent::Bookmark(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        panic!("stream ended");
    })
    .await
    .expect("Complete within 20 s");
    assert_eq!(types[0], "ADDED");
    assert!(types.len() >= 2);
    assert_eq!(complete.status.unwrap().succeeded, Some(1));
}

#[tokio::test]
async fn kube_runtime_watcher_with_a_label_selector_sees_complete() {
    let env = start().await;
    // Another Job outside the selection must not show up.
    let other = job("other", "true", json!({ "metadata": { "labels": { "app": "y" } } }));
    env.jobs().create(&PostParams::default(), &other).await.unwrap();
    let stream = watcher(env.jobs(), watcher::Config::default().labels("app=x")).default_backoff().applied_objects();
    let mut stream = std::pin::pin!(stream);
    env.jobs().create(&PostParams::default(), &job("watched", "echo hi", json!({}))).await.unwrap();
    let job: Job = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let job: Job = stream.try_next().await.unwrap().expect("stream open");
            assert_eq!(job.metadata.name.as_deref(), Some("watched"));
            if has_condition(&job, "Complete") {
                return job;
            }
        }
    })
    .await
    .expect("Complete within 20 s");
    assert!(has_condition(&job, "SuccessCriteriaMet"));
}

#[tokio::test]
async fn break_watches_ends_open_streams() {
    let env = start().await;
    let url = format!("{}/apis/batch/v1/namespaces/{NS}/jobs?watch=true", env.emulator.url());
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    env.emulator.break_watches();
    let ended = tokio::time::timeout(Duration::from_secs(5), async { while body.next().await.is_some() {} }).await;
    assert!(ended.is_ok(), "the watch should end after break_watches");
}

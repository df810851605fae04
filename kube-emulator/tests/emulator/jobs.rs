//! Jobs end to end: completion, failures and backoff, secrets, deletion, deadlines and TTLs.

use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{DeleteParams, LogParams, PostParams};
use kube::Api;
use kube_emulator::Options;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn job_completes_with_both_output_streams_in_its_log() {
    let env = start().await;
    let created = env
        .jobs()
        .create(&PostParams::default(), &job("hello", "echo hello; echo oops >&2; exit 0", json!({})))
        .await
        .unwrap();
    let meta = &created.metadata;
    assert!(meta.uid.is_some() && meta.resource_version.is_some() && meta.creation_timestamp.is_some());
    assert_eq!(meta.generation, Some(1));

    let again = env.jobs().create(&PostParams::default(), &job("hello", "true", json!({}))).await;
    let status = api_error(again);
    assert_eq!((status.code, status.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(status.message, "jobs.batch \"hello\" already exists");

    let done = wait_condition(&env, "hello", "Complete").await;
    assert!(has_condition(&done, "SuccessCriteriaMet"));
    let status = done.status.unwrap();
    assert_eq!(status.succeeded, Some(1));
    assert!(status.completion_time.is_some() && status.start_time.is_some());

    let pod = env.first_pod("hello").await;
    let pod_name = pod.metadata.name.clone().unwrap();
    assert!(pod_name.starts_with("hello-") && pod_name.len() == "hello-".len() + 5, "{pod_name}");
    let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!((owner.kind.as_str(), owner.controller, owner.block_owner_deletion), ("Job", Some(true), Some(true)));
    assert_eq!(pod.status.as_ref().unwrap().phase.as_deref(), Some("Succeeded"));
    let terminated = &container_status(&pod)["state"]["terminated"];
    assert_eq!((terminated["exitCode"].as_i64(), terminated["reason"].as_str()), (Some(0), Some("Completed")));

    let log = env.pods().logs(&pod_name, &LogParams::default()).await.unwrap();
    let mut lines: Vec<&str> = log.lines().collect();
    lines.sort();
    assert_eq!(lines, ["hello", "oops"]);
    let stamped = env.pods().logs(&pod_name, &LogParams { timestamps: true, ..LogParams::default() }).await.unwrap();
    for line in stamped.lines() {
        let (ts, text) = line.split_once(' ').unwrap();
        assert!(ts.ends_with('Z') && ts.len() == "2026-11-27T01:02:03.123456789Z".len(), "{ts}");
        chrono::DateTime::parse_from_rfc3339(ts).unwrap();
        assert!(text == "hello" || text == "oops");
    }
}

#[tokio::test]
async fn missing_job_is_a_not_found_status() {
    let env = start().await;
    let status = api_error(env.jobs().get("nope").await);
    assert_eq!((status.code, status.reason.as_str()), (404, "NotFound"));
    assert_eq!(status.message, "jobs.batch \"nope\" not found");
}

#[tokio::test]
async fn failing_container_exhausts_the_backoff_limit_after_two_pods() {
    let env = start().await;
    let spec = json!({ "spec": { "backoffLimit": 1 } });
    env.jobs().create(&PostParams::default(), &job("fails", "echo bad; exit 3", spec)).await.unwrap();
    let failed = wait_condition(&env, "fails", "Failed").await;
    let status = failed.status.unwrap();
    assert_eq!(status.failed, Some(2));
    let condition = status.conditions.unwrap().into_iter().find(|c| c.type_ == "Failed").unwrap();
    assert_eq!(condition.reason.as_deref(), Some("BackoffLimitExceeded"));
    assert_eq!(condition.message.as_deref(), Some("Job has reached the specified backoff limit"));
    let pods = env.job_pods("fails").await;
    assert_eq!(pods.len(), 2);
    for pod in &pods {
        assert_eq!(pod.status.as_ref().unwrap().phase.as_deref(), Some("Failed"));
        let terminated = &container_status(pod)["state"]["terminated"];
        assert_eq!((terminated["exitCode"].as_i64(), terminated["reason"].as_str()), (Some(3), Some("Error")));
    }
}

#[tokio::test]
async fn secret_reaches_the_process_as_env_and_as_a_mounted_file() {
    let env = start().await;
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), NS);
    let secret: Secret = typed(json!({ "metadata": { "name": "creds" }, "stringData": { "token": "s3cr3t" } }));
    let stored = secrets.create(&PostParams::default(), &secret).await.unwrap();
    assert!(stored.string_data.is_none());
    assert_eq!(stored.data.unwrap()["token"].0, b"s3cr3t");

    let extra = json!({ "spec": { "template": { "spec": {
        "containers": [{
            "name": "main", "image": "busybox", "command": ["sh", "-c", "echo token=$TOKEN; cat /etc/creds/token; echo"],
            "env": [{ "name": "TOKEN", "valueFrom": { "secretKeyRef": { "name": "creds", "key": "token" } } }],
            "volumeMounts": [{ "name": "creds", "mountPath": "/etc/creds" }],
        }],
        "volumes": [{ "name": "creds", "secret": { "secretName": "creds" } }],
    } } } });
    env.jobs().create(&PostParams::default(), &job("env", "", extra)).await.unwrap();
    wait_condition(&env, "env", "Complete").await;
    let pod = env.first_pod("env").await;
    let log = env.pods().logs(pod.metadata.name.as_deref().unwrap(), &LogParams::default()).await.unwrap();
    assert_eq!(log, "token=s3cr3t\ns3cr3t\n");
}

#[tokio::test]
async fn missing_secret_holds_the_container_until_it_appears() {
    let env = start().await;
    let extra = json!({ "spec": { "template": { "spec": { "containers": [{
        "name": "main", "image": "busybox", "command": ["sh", "-c", "echo $K"],
        "env": [{ "name": "K", "valueFrom": { "secretKeyRef": { "name": "late", "key": "k" } } }],
    }] } } } });
    env.jobs().create(&PostParams::default(), &job("late", "", extra)).await.unwrap();
    let waiting = eventually("CreateContainerConfigError", || async {
        let pod = env.job_pods("late").await.into_iter().next()?;
        let waiting = container_status(&pod)["state"]["waiting"].clone();
        (waiting["reason"] == "CreateContainerConfigError").then_some(waiting)
    })
    .await;
    assert_eq!(waiting["message"], "secret \"late\" not found");
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), NS);
    let secret: Secret = typed(json!({ "metadata": { "name": "late" }, "stringData": { "k": "arrived" } }));
    secrets.create(&PostParams::default(), &secret).await.unwrap();
    wait_condition(&env, "late", "Complete").await;
}

#[tokio::test]
async fn unpullable_image_backs_off_and_stays_pending() {
    let env =
        start_with(Options { unpullable_images: vec!["registry.example/nope:1".into()], ..Options::default() }).await;
    let extra = json!({ "spec": { "template": { "spec": { "containers": [{
        "name": "main", "image": "registry.example/nope:1", "command": ["true"],
    }] } } } });
    env.jobs().create(&PostParams::default(), &job("pull", "", extra)).await.unwrap();
    let pod = eventually("ImagePullBackOff", || async {
        let pod = env.job_pods("pull").await.into_iter().next()?;
        (container_status(&pod)["state"]["waiting"]["reason"] == "ImagePullBackOff").then_some(pod)
    })
    .await;
    assert_eq!(pod.status.as_ref().unwrap().phase.as_deref(), Some("Pending"));
    assert_eq!(
        container_status(&pod)["state"]["waiting"]["message"],
        "Back-off pulling image \"registry.example/nope:1\""
    );
    let status = api_error(env.pods().logs(pod.metadata.name.as_deref().unwrap(), &LogParams::default()).await);
    assert_eq!(status.code, 400);
    assert!(status.message.ends_with("is waiting to start: ImagePullBackOff"), "{}", status.message);
}

#[tokio::test]
async fn background_delete_removes_pods_and_owned_objects_default_delete_orphans() {
    let env = start().await;
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), NS);
    for name in ["bg", "orphan"] {
        let created = env.jobs().create(&PostParams::default(), &job(name, "sleep 30", json!({}))).await.unwrap();
        let owned: Secret = typed(json!({
            "metadata": { "name": format!("{name}-secret"), "ownerReferences": [{
                "apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": created.metadata.uid.unwrap(),
            }] },
            "stringData": { "a": "b" },
        }));
        secrets.create(&PostParams::default(), &owned).await.unwrap();
        env.first_pod(name).await;
    }

    env.jobs().delete("bg", &DeleteParams::background()).await.unwrap();
    eventually("bg's pods to go", || async { env.job_pods("bg").await.is_empty().then_some(()) }).await;
    assert_eq!(api_error(secrets.get("bg-secret").await).code, 404);

    env.jobs().delete("orphan", &DeleteParams::default()).await.unwrap();
    let pods = env.job_pods("orphan").await;
    assert_eq!(pods.len(), 1, "a Job deleted without a policy orphans its pods");
    assert!(pods[0].metadata.owner_references.is_none());
    assert!(secrets.get("orphan-secret").await.is_ok());
}

#[tokio::test]
async fn active_deadline_fails_the_job_and_kills_its_pod() {
    let env = start().await;
    let extra = json!({ "spec": { "activeDeadlineSeconds": 1 } });
    env.jobs().create(&PostParams::default(), &job("slow", "sleep 30", extra)).await.unwrap();
    let failed = wait_condition(&env, "slow", "Failed").await;
    let condition = failed.status.unwrap().conditions.unwrap().into_iter().find(|c| c.type_ == "Failed").unwrap();
    assert_eq!(condition.reason.as_deref(), Some("DeadlineExceeded"));
    let pod: Pod = eventually("the pod to fail", || async {
        let pod = env.job_pods("slow").await.into_iter().next()?;
        (pod.status.as_ref()?.phase.as_deref() == Some("Failed")).then_some(pod)
    })
    .await;
    assert_eq!(pod.status.unwrap().reason.as_deref(), Some("DeadlineExceeded"));
}

#[tokio::test]
async fn finished_job_is_deleted_after_its_ttl() {
    let env = start().await;
    env.jobs()
        .create(&PostParams::default(), &job("ttl", "true", json!({ "spec": { "ttlSecondsAfterFinished": 0 } })))
        .await
        .unwrap();
    eventually("the job to be deleted", || async { env.jobs().get_opt("ttl").await.unwrap().is_none().then_some(()) })
        .await;
    eventually("its pods to be deleted", || async { env.job_pods("ttl").await.is_empty().then_some(()) }).await;
}

#[tokio::test]
async fn scripted_oom_eviction_and_unschedulable() {
    let env = start().await;
    let annotated =
        |key: &str, value: &str| json!({ "spec": { "template": { "metadata": { "annotations": { key: value } } } } });
    env.jobs()
        .create(&PostParams::default(), &job("oom", "sleep 30", annotated("emulator.k8x.io/oom-kill", "main")))
        .await
        .unwrap();
    env.jobs()
        .create(&PostParams::default(), &job("evict", "sleep 30", annotated("emulator.k8x.io/evict", "true")))
        .await
        .unwrap();
    env.jobs()
        .create(&PostParams::default(), &job("nowhere", "true", annotated("emulator.k8x.io/unschedulable", "true")))
        .await
        .unwrap();

    wait_condition(&env, "oom", "Failed").await;
    let pod = env.first_pod("oom").await;
    let terminated = &container_status(&pod)["state"]["terminated"];
    assert_eq!((terminated["exitCode"].as_i64(), terminated["reason"].as_str()), (Some(137), Some("OOMKilled")));

    wait_condition(&env, "evict", "Failed").await;
    let status = env.first_pod("evict").await.status.unwrap();
    assert_eq!((status.phase.as_deref(), status.reason.as_deref()), (Some("Failed"), Some("Evicted")));
    assert_eq!(status.message.as_deref(), Some("The node was low on resource: memory. "));

    let pod = eventually("the unschedulable condition", || async {
        let pod = env.job_pods("nowhere").await.into_iter().next()?;
        pod.status.as_ref()?.conditions.as_ref()?.iter().any(|c| c.type_ == "PodScheduled").then_some(pod)
    })
    .await;
    let status = pod.status.unwrap();
    let scheduled = status.conditions.unwrap().into_iter().find(|c| c.type_ == "PodScheduled").unwrap();
    assert_eq!((status.phase.as_deref(), scheduled.status.as_str()), (Some("Pending"), "False"));
    assert_eq!(scheduled.reason.as_deref(), Some("Unschedulable"));
    assert_eq!(scheduled.message.as_deref(), Some("0/1 nodes are available: 1 Insufficient cpu."));
}

//! Contract tests: the executor's API calls against a kube `Client` over `tower_test`, answered with real
//! Kubernetes JSON. Each scenario asserts the exact requests k8x sends and what it makes of the answers.

use http::{Request, Response, StatusCode};
use k8s_openapi::api::{batch::v1::Job, core::v1::Secret};
use kube::{client::Body, Api, Client};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use tower_test::mock::{self, Handle};

use super::{access, launch, objects::objects, Settings};
use crate::executor::{environment::tests::launch as test_launch, LogSink};

type Mock = Handle<Request<Body>, Response<Body>>;

fn client() -> (Client, Mock) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    (Client::new(service, "k8x-jobs"), handle)
}

fn settings() -> Settings {
    Settings {
        namespace: "k8x-jobs".into(),
        job_ttl_seconds: 600,
        backoff_limit: 2,
        deadline_seconds: 120,
        image_pull_timeout: std::time::Duration::from_secs(60),
        log_max_lines: 1_000,
    }
}

/// The next request: method, path and query, and its JSON body (`Null` without one).
async fn next(handle: &mut Mock) -> (String, String, Value, tower_test::mock::SendResponse<Response<Body>>) {
    let (request, send) = handle.next_request().await.expect("a request");
    let method = request.method().to_string();
    let uri = request.uri().to_string();
    let bytes = request.into_body().collect_bytes().await.unwrap();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    (method, uri, body, send)
}

fn respond(send: tower_test::mock::SendResponse<Response<Body>>, status: u16, body: Value) {
    let response = Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    send.send_response(response);
}

/// A Kubernetes `Status` failure, as the API server writes it.
fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code})
}

/// What the API server answers to a create: the object with server-filled metadata.
fn created(mut object: Value, uid: &str) -> Value {
    object["metadata"]["uid"] = json!(uid);
    object["metadata"]["resourceVersion"] = json!("101");
    object["metadata"]["creationTimestamp"] = json!("2026-11-27T01:00:00Z");
    object
}

const JOB: &str = "k8x-hello-x1";

/// Starts launching the test execution against a fresh mock API server.
fn launching() -> (Mock, tokio::task::JoinHandle<Result<Job, String>>) {
    let (client, api) = client();
    let objects = objects(&test_launch(), &settings());
    let jobs: Api<Job> = Api::namespaced(client.clone(), "k8x-jobs");
    let secrets: Api<Secret> = Api::namespaced(client, "k8x-jobs");
    (api, tokio::spawn(async move { launch::ensure(&jobs, &secrets, &objects, |_| {}).await }))
}
const SECRETS: &str = "/api/v1/namespaces/k8x-jobs/secrets";
const JOBS: &str = "/apis/batch/v1/namespaces/k8x-jobs/jobs";

#[tokio::test]
async fn a_launch_creates_the_secret_then_the_job_then_gives_the_secret_to_the_job() {
    let (mut api, launched) = launching();

    let (method, uri, secret, send) = next(&mut api).await;
    assert_eq!((method.as_str(), uri.as_str()), ("POST", &format!("{SECRETS}?")[..]));
    assert_eq!(secret["metadata"]["name"], JOB);
    assert_eq!(secret["stringData"]["API_TOKEN"], "t0ps3cret", "the secret value lives in the Secret");
    assert_eq!(secret["stringData"]["params.json"], r#"{"n":1}"#);
    assert_eq!(
        serde_json::from_str::<Value>(secret["stringData"]["event.json"].as_str().unwrap()).unwrap()["id"],
        "e1"
    );
    assert_eq!(secret["metadata"]["labels"]["app.kubernetes.io/managed-by"], "k8x");
    respond(send, 201, created(secret, "s-uid"));

    let (method, uri, job, send) = next(&mut api).await;
    assert_eq!((method.as_str(), uri.as_str()), ("POST", &format!("{JOBS}?")[..]));
    let text = job.to_string();
    assert!(!text.contains("t0ps3cret"), "a secret value is in the Job: {text}");
    assert_eq!(job["metadata"]["name"], JOB);
    assert_eq!(job["metadata"]["namespace"], "k8x-jobs");
    let labels = &job["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/managed-by"], "k8x");
    assert_eq!(labels["k8x.io/service"], "hello");
    assert_eq!(labels["k8x.io/project"], "demo");
    assert_eq!(labels["k8x.io/execution-id"], "x1");
    assert_eq!(job["spec"]["template"]["metadata"]["labels"], *labels, "pods carry the labels too");
    assert_eq!(job["spec"]["backoffLimit"], 2);
    assert_eq!(job["spec"]["activeDeadlineSeconds"], 120);
    assert_eq!(job["spec"]["ttlSecondsAfterFinished"], 600);
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    let env = pod["containers"][0]["env"].as_array().unwrap();
    let var = |name: &str| env.iter().find(|e| e["name"] == name).cloned().unwrap_or(Value::Null);
    assert_eq!(var("API_TOKEN")["valueFrom"]["secretKeyRef"], json!({"name": JOB, "key": "API_TOKEN"}));
    assert_eq!(var("K8X_PARAMS")["value"], r#"{"n":1}"#);
    assert_eq!(var("K8X_PARAMS_FILE")["value"], "/var/run/k8x/params.json");
    assert_eq!(var("K8X_EXECUTION_ID")["value"], "x1");
    assert_eq!(
        pod["volumes"][0],
        json!({"name": "k8x-payload", "projected": {"sources": [{"secret": {"name": JOB, "optional": false, "items": [
            {"key": "event.json", "path": "event.json", "mode": 292}, {"key": "params.json", "path": "params.json", "mode": 292}]}}]}})
    );
    assert_eq!(
        pod["containers"][0]["volumeMounts"][0],
        json!({"name": "k8x-payload", "mountPath": "/var/run/k8x", "readOnly": true})
    );
    respond(send, 201, created(job, "job-uid-1"));

    let (method, uri, patch, send) = next(&mut api).await;
    assert_eq!((method.as_str(), uri.as_str()), ("PATCH", &format!("{SECRETS}/{JOB}?")[..]));
    assert_eq!(
        patch["metadata"]["ownerReferences"],
        json!([{"apiVersion": "batch/v1", "kind": "Job", "name": JOB, "uid": "job-uid-1", "controller": false}])
    );
    respond(send, 200, created(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": JOB}}), "s-uid"));
    let job = launched.await.unwrap().expect("launched");
    assert_eq!(job.metadata.uid.as_deref(), Some("job-uid-1"));
}

#[tokio::test]
async fn a_second_launch_meets_409_and_reads_it_as_already_launched() {
    let (mut api, launched) = launching();

    let (_, _, _, send) = next(&mut api).await;
    respond(send, 409, status(409, "AlreadyExists", &format!("secrets \"{JOB}\" already exists")));
    let (method, _, job, send) = next(&mut api).await;
    assert_eq!(method, "POST");
    respond(send, 409, status(409, "AlreadyExists", &format!("jobs.batch \"{JOB}\" already exists")));
    let (method, uri, _, send) = next(&mut api).await;
    assert_eq!(
        (method.as_str(), uri.as_str()),
        ("GET", &format!("{JOBS}/{JOB}")[..]),
        "the existing Job is read, not created again"
    );
    respond(send, 200, created(job, "job-uid-first"));
    let (method, _, patch, send) = next(&mut api).await;
    assert_eq!(method, "PATCH");
    assert_eq!(patch["metadata"]["ownerReferences"][0]["uid"], "job-uid-first");
    respond(send, 200, json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": JOB}}));
    assert!(launched.await.unwrap().is_ok());
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_until_the_create_succeeds() {
    let (mut api, launched) = launching();

    let (_, _, secret, send) = next(&mut api).await;
    respond(send, 429, status(429, "TooManyRequests", "too many requests, please try again later"));
    let (_, uri, again, send) = next(&mut api).await;
    assert_eq!((uri.as_str(), &again), (&format!("{SECRETS}?")[..], &secret), "the same Secret again");
    respond(send, 500, status(500, "InternalError", "etcdserver: leader changed"));
    let (_, _, _, send) = next(&mut api).await;
    respond(send, 201, created(secret, "s-uid"));
    let (_, uri, job, send) = next(&mut api).await;
    assert_eq!(uri, format!("{JOBS}?"));
    respond(send, 503, status(503, "ServiceUnavailable", "the server is currently unable to handle the request"));
    let (_, _, _, send) = next(&mut api).await;
    respond(send, 201, created(job, "job-uid-2"));
    let (_, _, _, send) = next(&mut api).await;
    respond(send, 200, json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": JOB}}));
    assert_eq!(launched.await.unwrap().unwrap().metadata.uid.as_deref(), Some("job-uid-2"));
}

#[tokio::test]
async fn forbidden_is_final_and_names_the_permission() {
    let (mut api, launched) = launching();
    let (_, _, secret, send) = next(&mut api).await;
    respond(send, 201, created(secret, "s-uid"));
    let (_, _, _, send) = next(&mut api).await;
    let message = "jobs.batch is forbidden: User \"system:serviceaccount:k8x:k8x\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"k8x-jobs\"";
    respond(send, 403, status(403, "Forbidden", message));
    let why = launched.await.unwrap().unwrap_err();
    assert_eq!(why, format!("Kubernetes refused to create the Job (403 Forbidden): {message}"));
}

#[tokio::test]
async fn the_start_up_check_names_every_missing_permission() {
    let (client, mut api) = client();
    let check = tokio::spawn(async move { access::check(&client, "k8x-jobs").await });
    let mut asked = Vec::new();
    let total: usize = access::NEEDED.iter().map(|(_, _, _, verbs)| verbs.len()).sum();
    for _ in 0..total {
        let (method, uri, review, send) = next(&mut api).await;
        assert_eq!(
            (method.as_str(), uri.as_str()),
            ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews?")
        );
        let attributes = review["spec"]["resourceAttributes"].clone();
        assert_eq!(attributes["namespace"], "k8x-jobs");
        let what = format!(
            "{} {}{}",
            attributes["verb"].as_str().unwrap(),
            attributes["resource"].as_str().unwrap(),
            attributes["subresource"].as_str().map(|s| format!("/{s}")).unwrap_or_default()
        );
        let allowed = what != "get pods/log" && what != "create secrets";
        let mut answer = review.clone();
        answer["status"] = json!({"allowed": allowed});
        respond(send, 201, answer);
        asked.push(what);
    }
    assert!(asked.contains(&"watch jobs".to_owned()) && asked.contains(&"get pods/log".to_owned()), "{asked:?}");
    let err = check.await.unwrap().unwrap_err().to_string();
    assert!(
        err.contains("missing: get pods/log, create secrets") || err.contains("missing: create secrets, get pods/log"),
        "{err}"
    );
}

#[tokio::test]
async fn a_broken_log_stream_resumes_without_losing_or_repeating_lines() {
    let (client, mut api) = client();
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::Store::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display()))
        .await
        .unwrap();
    let recorder = crate::executor::Recorder::start(store.clone(), test_launch(), 1_000);
    let sink: LogSink = recorder.sink();
    let follower = super::follow::Follower {
        pods: Api::namespaced(client, "k8x-jobs"),
        store: store.clone(),
        execution_id: "x1".into(),
        pod: "p1".into(),
        container: "main".into(),
        prefix: String::new(),
        sink,
        stop: CancellationToken::new(),
        after: Vec::new(),
        done: CancellationToken::new(),
    };
    let followed = tokio::spawn(follower.run());
    let pod = |state: Value| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1", "namespace": "k8x-jobs"},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "main", "image": "busybox", "imageID": "", "ready": true, "restartCount": 0, "state": state}]}})
    };
    let text = |send: tower_test::mock::SendResponse<Response<Body>>, body: &str| {
        send.send_response(Response::builder().status(200).body(Body::from(body.as_bytes().to_vec())).unwrap())
    };

    let (method, uri, _, send) = next(&mut api).await;
    assert_eq!((method.as_str(), uri.as_str()), ("GET", "/api/v1/namespaces/k8x-jobs/pods/p1"));
    respond(send, 200, pod(json!({"running": {"startedAt": "2026-11-27T01:02:00Z"}})));
    let (_, uri, _, send) = next(&mut api).await;
    assert_eq!(uri, "/api/v1/namespaces/k8x-jobs/pods/p1/log?&container=main&follow=true&timestamps=true");
    // The stream breaks off after three lines, two of them in the same second.
    text(send, "2026-11-27T01:02:03.100000000Z one\n2026-11-27T01:02:03.200000000Z two\n2026-11-27T01:02:04.000000000Z three\n");

    let (_, uri, _, send) = next(&mut api).await;
    assert_eq!(uri, "/api/v1/namespaces/k8x-jobs/pods/p1");
    respond(
        send,
        200,
        pod(
            json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": "2026-11-27T01:02:00Z", "finishedAt": "2026-11-27T01:02:05Z"}}),
        ),
    );
    let (_, uri, _, send) = next(&mut api).await;
    assert_eq!(
        uri,
        "/api/v1/namespaces/k8x-jobs/pods/p1/log?&container=main&sinceTime=2026-11-27T01%3A02%3A04Z&timestamps=true",
        "resumes at the second of the last line read, without follow once the container has ended"
    );
    text(send, "2026-11-27T01:02:04.000000000Z three\n2026-11-27T01:02:04.500000000Z four\n");
    followed.await.unwrap();
    recorder.close().await;
    let lines: Vec<String> = store.log_after("x1", 0, 100).await.unwrap().into_iter().map(|l| l.text).collect();
    assert_eq!(lines, ["one", "two", "three", "four"]);
    assert_eq!(
        store.log_position("x1", "p1/main").await.unwrap(),
        Some(("2026-11-27T01:02:04.500000000Z".to_owned(), 1)),
        "a k8x restarted now would resume after `four`"
    );
}

/// A Job and its pod as a cluster reports them; `done` says whether the Job has completed.
fn cluster_objects(done: bool) -> (Value, Value) {
    let labels = json!({"app.kubernetes.io/managed-by": "k8x", "k8x.io/execution-id": "x1", "k8x.io/service": "hello"});
    let conditions = if done {
        json!([{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}])
    } else {
        json!([])
    };
    let job = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": JOB, "namespace": "k8x-jobs", "uid": "job-uid", "resourceVersion": if done { "12" } else { "10" }, "labels": labels},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "bash"}], "restartPolicy": "Never"}}},
        "status": {"active": if done { 0 } else { 1 }, "conditions": conditions}});
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p1", "namespace": "k8x-jobs", "resourceVersion": "11", "creationTimestamp": "2026-11-27T01:00:00Z", "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "bash"}], "restartPolicy": "Never"},
        "status": {"phase": "Succeeded", "containerStatuses": [{"name": "c", "image": "bash", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": "2026-11-27T01:00:01Z", "finishedAt": "2026-11-27T01:00:02Z"}}}]}});
    (job, pod)
}

#[tokio::test]
async fn a_job_watch_that_errors_is_resumed_and_the_adopted_execution_ends_with_its_log() {
    use std::sync::Arc;

    use crate::store::Store;

    // An execution k8x launched before a restart: its Job runs in the cluster.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display())).await.unwrap();
    store.upsert_service(crate::executor::environment::tests::service_row()).await.unwrap();
    let launch = test_launch();
    store.record_event("ek", &launch.event).await.unwrap();
    store.create_execution(crate::executor::environment::tests::new_execution(&launch, "ek")).await.unwrap();
    // Claimed by a process that has since died: its lease has run out.
    assert!(store
        .claim_for_job("x1", JOB, "dead-process", chrono::Duration::seconds(-1), Default::default())
        .await
        .unwrap());
    store.set_job_uid("x1", "job-uid").await.unwrap();
    store.mark_running("x1").await.unwrap();

    let (client, mut api) = client();
    let ctx = Arc::new(super::supervisor::Context {
        owner: "this-process".into(),
        jobs: Api::namespaced(client.clone(), "k8x-jobs"),
        pods: Api::namespaced(client.clone(), "k8x-jobs"),
        secrets: Api::namespaced(client, "k8x-jobs"),
        store: store.clone(),
        relaunch: Arc::new(crate::dispatcher::StoredLaunches { store: store.clone() }),
        settings: settings(),
    });
    let shutdown = CancellationToken::new();
    let (_commands, rx) = tokio::sync::mpsc::unbounded_channel();
    let supervisor = tokio::spawn(super::supervisor::Supervisor::new(ctx, shutdown.clone()).run(rx));

    // The API server: the first Job watch fails; the watch k8x resumes from the same resourceVersion brings
    // the Job's completion.
    let mut job_watches = Vec::new();
    let mut held = Vec::new();
    let served = async {
        loop {
            let (method, uri, _, send) = next(&mut api).await;
            let path = uri.split('?').next().unwrap().to_owned();
            let watch = uri.contains("watch=true");
            let (job, pod) = cluster_objects(false);
            match (method.as_str(), path.as_str()) {
                ("GET", JOBS) if watch => {
                    job_watches.push(uri.clone());
                    match job_watches.len() {
                        1 => respond(send, 500, status(500, "InternalError", "etcdserver: request timed out")),
                        2 => {
                            let event = json!({"type": "MODIFIED", "object": cluster_objects(true).0});
                            let body = format!("{event}\n").into_bytes();
                            send.send_response(Response::builder().status(200).body(Body::from(body)).unwrap());
                        }
                        _ => held.push(send),
                    }
                }
                ("GET", JOBS) => {
                    respond(
                        send,
                        200,
                        json!({"apiVersion": "batch/v1", "kind": "JobList", "metadata": {"resourceVersion": job["metadata"]["resourceVersion"]}, "items": [job]}),
                    );
                }
                ("GET", "/api/v1/namespaces/k8x-jobs/pods") if watch => held.push(send),
                ("GET", "/api/v1/namespaces/k8x-jobs/pods") => respond(
                    send,
                    200,
                    json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "11"}, "items": [pod]}),
                ),
                ("GET", "/api/v1/namespaces/k8x-jobs/pods/p1") => respond(send, 200, pod),
                ("GET", "/api/v1/namespaces/k8x-jobs/pods/p1/log") => send.send_response(
                    Response::builder()
                        .status(200)
                        .body(Body::from(b"2026-11-27T01:00:01.5Z hello from the pod\n".to_vec()))
                        .unwrap(),
                ),
                ("PATCH", _) if path.starts_with(SECRETS) => {
                    respond(send, 200, json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": JOB}}))
                }
                _ => respond(send, 404, status(404, "NotFound", &format!("{method} {uri}"))),
            }
        }
    };
    let ended = async {
        for _ in 0..400 {
            let row = store.execution("x1").await.unwrap().unwrap();
            if row.status != "running" {
                return row;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the execution did not end");
    };
    let row = tokio::select! {
        row = ended => row,
        _ = served => unreachable!("the API server serves until the test ends"),
    };
    shutdown.cancel();
    supervisor.await.unwrap();
    assert_eq!(row.status, "succeeded");
    assert!(job_watches.len() >= 2, "{job_watches:?}");
    assert!(job_watches[1].contains("resourceVersion=10"), "the watch resumed where it failed: {job_watches:?}");
    let lines: Vec<String> = store.log_after("x1", 0, 10).await.unwrap().into_iter().map(|l| l.text).collect();
    assert_eq!(lines, ["hello from the pod"]);
}

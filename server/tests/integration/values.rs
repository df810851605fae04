//! Archive projects and secrets and configs by scope, end to end: an uploaded archive becomes a project's
//! services (hostile archives refused whole), values set for the platform, the project and the service reach
//! a run in the documented order, masked in its log and never answered by the API; the service page shows
//! the revision and warns about a `secrets.json` in an archive.

use std::io::Write;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const SCRIPT_JOB: &str = "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - name: main\n          image: bash\n          command: [\"/bin/bash\", \"-c\"]\n          args: [\"echo token=$TOKEN; echo token-length=${#TOKEN}; echo platform=$PLATFORM_ONLY; echo region=$REGION; echo limit=$LIMIT\"]\n      restartPolicy: Never\n";

fn tar_gz(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (name, text) in entries {
        let mut header = tar::Header::new_gnu();
        header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append(&header, text.as_bytes()).unwrap();
    }
    let mut gz = builder.into_inner().unwrap();
    gz.flush().unwrap();
    gz.finish().unwrap()
}

async fn put(app: &TestApp, path: &str, value: Value) -> u16 {
    let response = app.client.put(app.url(path)).json(&json!({ "value": value })).send().await.unwrap();
    response.status().as_u16()
}

async fn run(app: &TestApp, event: &str) -> Vec<String> {
    assert_eq!(app.post_event(event, "t.scoped", json!({})).await.status(), 202);
    let execution = app.executions_of(event, 1).await.remove(0);
    app.finished(&execution.id).await;
    app.log(&execution.id).await
}

fn line<'a>(log: &'a [String], prefix: &str) -> &'a str {
    log.iter().find_map(|l| l.strip_prefix(prefix)).unwrap_or_else(|| panic!("no `{prefix}` in {log:?}"))
}

#[tokio::test]
async fn an_uploaded_archive_runs_with_its_scoped_values_in_order_and_masked() {
    let app = spawn_app().await;
    let created = app.client.post(app.url("/api/v1/projects")).json(&json!({"name": "up", "archive": true})).send();
    assert_eq!(created.await.unwrap().status(), 201);
    let archive = tar_gz(&[
        ("svc/manifest.json", r#"{"name": "scoped", "type": "k8x_job", "trigger_events": ["t.scoped"]}"#),
        ("svc/deployment.yaml", SCRIPT_JOB),
        ("svc/secrets.json", r#"{"TOKEN": "f1le-token"}"#),
    ]);
    let upload = |bytes: Vec<u8>| app.client.post(app.url("/api/v1/projects/up/archive")).body(bytes).send();
    let response = upload(archive.clone()).await.unwrap();
    assert_eq!(response.status(), 200);
    let sync: Value = response.json().await.unwrap();
    assert_eq!((sync["result"].as_str(), sync["trigger"].as_str()), (Some("ok"), Some("upload")), "{sync}");
    assert_eq!(sync["added"], json!(["scoped"]));
    let revision = sync["revision"].as_str().unwrap().to_owned();
    assert!(revision.starts_with("sha256:"), "{revision}");

    // A hostile archive changes nothing.
    let hostile = tar_gz(&[("svc/manifest.json", "{}"), ("../../escape", "x")]);
    let refused = upload(hostile).await.unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("`..`"));
    assert!(app.state.store.service("scoped").await.unwrap().is_some());
    let not_archive = upload(b"plain text".to_vec()).await.unwrap();
    assert_eq!(not_archive.status(), 422);

    // From the project page's form (multipart): answered with the page, saying how it went.
    let form = |bytes: Vec<u8>| {
        let part = reqwest::multipart::Part::bytes(bytes).file_name("services.tar.gz");
        app.client
            .post(app.url("/api/v1/projects/up/archive"))
            .multipart(reqwest::multipart::Form::new().part("archive", part))
    };
    let response = form(archive.clone()).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/projects/up?uploaded=ok");
    let response = form(tar_gz(&[("../x", "y")])).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/projects/up?upload_error="), "{location}");
    let page = app.client.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("upload-error") && page.contains("nothing was unpacked"), "the page says why");

    assert_eq!(put(&app, "/api/v1/platform/secrets/PLATFORM_ONLY", json!("pl4tform-value")).await, 204);
    assert_eq!(put(&app, "/api/v1/platform/configs/REGION", json!("platform-region")).await, 204);
    assert_eq!(put(&app, "/api/v1/projects/up/secrets/TOKEN", json!("pr0ject-token")).await, 204);
    assert_eq!(put(&app, "/api/v1/projects/up/configs/LIMIT", json!(5)).await, 204);
    let log = run(&app, "scoped-1").await;
    assert_eq!(line(&log, "token-length="), "10", "the service's own secrets.json beats its project's: {log:?}");
    assert_eq!(line(&log, "platform="), "***", "a platform secret reaches the run, masked");
    assert_eq!(line(&log, "region="), "platform-region");
    assert_eq!(line(&log, "limit="), "5");
    assert!(!log.join("\n").contains("f1le-token") && !log.join("\n").contains("pl4tform-value"));

    // An admin's value for the service beats its files.
    assert_eq!(put(&app, "/api/v1/services/scoped/secrets/TOKEN", json!("admin-service-token-value")).await, 204);
    let log = run(&app, "scoped-2").await;
    assert_eq!(line(&log, "token-length="), "25");
    let execution = app.executions_of("scoped-2", 1).await.remove(0);
    assert_eq!(execution.revision.as_deref(), Some(revision.as_str()));

    // Values are write-only: names, never values.
    let listed = app.client.get(app.url("/api/v1/projects/up/values")).send().await.unwrap().text().await.unwrap();
    assert!(listed.contains(r#""key":"TOKEN""#) && listed.contains(r#""key":"LIMIT""#), "{listed}");
    assert!(!listed.contains("pr0ject-token"), "{listed}");
    let platform = app.client.get(app.url("/api/v1/platform/values")).send().await.unwrap().text().await.unwrap();
    assert!(!platform.contains("pl4tform-value"), "{platform}");

    // The service page: its revision, the runs per revision, and a warning about secrets.json in an archive.
    let page = app.client.get(app.url("/services/scoped")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("secrets-warning"), "the page warns about secrets.json");
    assert!(page.contains(&revision[..19]), "the page shows the revision");
    assert!(page.contains("id=\"revisions\""));
    assert!(!page.contains("admin-service-token-value") && !page.contains("f1le-token"));

    // Removing a value; bad input named; only admins.
    let removed = app.client.delete(app.url("/api/v1/services/scoped/secrets/TOKEN")).send().await.unwrap();
    assert_eq!(removed.status(), 204);
    assert_eq!(run(&app, "scoped-3").await.iter().find_map(|l| l.strip_prefix("token-length=")), Some("10"));
    assert_eq!(put(&app, "/api/v1/platform/secrets/bad-name", json!("x")).await, 422);
    assert_eq!(put(&app, "/api/v1/platform/secrets/N", json!(5)).await, 422);
    assert_eq!(put(&app, "/api/v1/platform/passwords/N", json!("x")).await, 404);
    assert_eq!(put(&app, "/api/v1/projects/nope/secrets/N", json!("x")).await, 404);
    assert_eq!(put(&app, "/api/v1/services/nope/configs/N", json!("x")).await, 404);
    let (viewer, _) = app.signed_in(backend::access::Role::Operator).await;
    let refused = viewer
        .put(app.url("/api/v1/platform/secrets/N"))
        .header("Origin", &app.base)
        .json(&json!({"value": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let git_upload = app.client.post(app.url("/api/v1/projects/project/archive")).body(archive).send();
    assert_eq!(git_upload.await.unwrap().status(), 422, "a directory project takes no uploads");
}

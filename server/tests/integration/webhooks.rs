//! Plain webhooks over HTTP: a GitHub-style push from a registered source becomes a CloudEvent that runs the
//! service subscribed to it; signatures, tokens, redelivery and what is missing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{self, Setup};

#[tokio::test]
async fn a_signed_github_push_runs_the_service_subscribed_to_it_once() {
    let dir = tempfile::TempDir::new().unwrap();
    let project = dir.path().join("hooks-project");
    helpers::service(
        &project,
        "on_push",
        r#"{"name": "on_push", "type": "k8x_job", "trigger_events": ["com.github.push"]}"#,
        "echo type=$K8X_EVENT_TYPE; echo params=$K8X_PARAMS",
        &[],
    );
    let config = helpers::config(Setup { project_dir: Some(project), ..Setup::default() }, dir.path());
    let app = helpers::spawn_config(config, dir).await;
    let added: Value = app
        .client
        .post(app.url("/api/v1/sources"))
        .json(&json!({"name": "gh", "preset": "github"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(added["webhook"], "/api/v1/webhooks/gh");
    assert_eq!(added["shape"]["type_header"], "X-GitHub-Event");
    let secret = added["secret"].as_str().unwrap().to_owned();
    let body = json!({"ref": "refs/heads/main", "repository": {"full_name": "acme/app"}}).to_string();
    let signature = backend::auth::signature::sign(secret.as_bytes(), body.as_bytes());
    let push = |signature: Option<&str>, event: Option<&str>, body: String| {
        let mut request = app
            .anonymous
            .post(app.url("/api/v1/webhooks/gh"))
            .header("content-type", "application/json")
            .header("x-github-delivery", "delivery-1")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature.to_owned());
        }
        if let Some(event) = event {
            request = request.header("x-github-event", event.to_owned());
        }
        request.send()
    };
    let accepted = push(Some(&signature), Some("push"), body.clone()).await.unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    assert_eq!(accepted.json::<Value>().await.unwrap(), json!({"id": "delivery-1"}));
    // GitHub redelivers: the same delivery id runs nothing twice.
    assert_eq!(push(Some(&signature), Some("push"), body.clone()).await.unwrap().status(), StatusCode::ACCEPTED);
    let run = app.executions_from("/webhooks/gh", "delivery-1", 1).await.remove(0);
    let run = app.finished(&run.id).await;
    let log = app.log(&run.id).await.join("\n");
    assert!(log.contains("type=com.github.push") && log.contains("refs/heads/main"), "{log}");
    app.dispatched_all().await;
    assert_eq!(app.executions_from("/webhooks/gh", "delivery-1", 1).await.len(), 1);

    assert_eq!(push(None, Some("push"), body.clone()).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let forged = backend::auth::signature::sign(b"guess", body.as_bytes());
    assert_eq!(push(Some(&forged), Some("push"), body.clone()).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let no_type = push(Some(&signature), None, body.clone()).await.unwrap();
    assert_eq!(no_type.status(), StatusCode::BAD_REQUEST);
    assert!(no_type.text().await.unwrap().contains("header `X-GitHub-Event`"));
    let xml = "<push/>".to_owned();
    let xml_signature = backend::auth::signature::sign(secret.as_bytes(), xml.as_bytes());
    let not_json = push(Some(&xml_signature), Some("push"), xml).await.unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert!(not_json.text().await.unwrap().contains("must be JSON"));

    // A caller with an ingest token needs no signature; one without the scope is refused.
    let other = json!({"ref": "refs/heads/dev"}).to_string();
    let with_token = app
        .client
        .post(app.url("/api/v1/webhooks/gh"))
        .header("x-github-event", "push")
        .body(other)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), StatusCode::ACCEPTED);
    let unknown = app.client.post(app.url("/api/v1/webhooks/nope")).body("{}").send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let bad_preset = app.client.post(app.url("/api/v1/sources")).json(&json!({"name": "x", "preset": "svn"})).send();
    let bad_preset = bad_preset.await.unwrap();
    assert_eq!(bad_preset.status(), StatusCode::BAD_REQUEST);
    assert!(bad_preset.text().await.unwrap().contains("unknown preset `svn`"));
}

#[tokio::test]
async fn a_gitlab_push_with_its_token_runs_and_one_body_as_two_kinds_of_event_is_two_events() {
    let dir = tempfile::TempDir::new().unwrap();
    let project = dir.path().join("hooks-project");
    for (name, ty) in [("on_push", "com.gitlab.push_hook"), ("on_tag", "com.gitlab.tag_push_hook")] {
        let manifest = format!(r#"{{"name": "{name}", "type": "k8x_job", "trigger_events": ["{ty}"]}}"#);
        helpers::service(&project, name, &manifest, "echo type=$K8X_EVENT_TYPE", &[]);
    }
    let config = helpers::config(Setup { project_dir: Some(project), ..Setup::default() }, dir.path());
    let app = helpers::spawn_config(config, dir).await;
    let added = app.client.post(app.url("/api/v1/sources")).json(&json!({"name": "gl", "preset": "gitlab"})).send();
    let added: Value = added.await.unwrap().json().await.unwrap();
    let secret = added["secret"].as_str().unwrap().to_owned();
    let hook = |token: &str, event: &str| {
        app.anonymous
            .post(app.url("/api/v1/webhooks/gl"))
            .header("content-type", "application/json")
            .header("x-gitlab-token", token.to_owned())
            .header("x-gitlab-event", event.to_owned())
            // No X-Gitlab-Event-UUID (older GitLab): the id is a hash of type and body.
            .body(json!({"ref": "refs/heads/main"}).to_string())
            .send()
    };
    assert_eq!(hook("a guess", "Push Hook").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let push: Value = hook(&secret, "Push Hook").await.unwrap().json().await.unwrap();
    let tag: Value = hook(&secret, "Tag Push Hook").await.unwrap().json().await.unwrap();
    assert_ne!(push["id"], tag["id"], "one body as two kinds of event is two events");
    for (id, service) in [(&push["id"], "on_push"), (&tag["id"], "on_tag")] {
        let run = app.executions_from("/webhooks/gl", id.as_str().unwrap(), 1).await.remove(0);
        assert_eq!(run.service, service);
    }
}

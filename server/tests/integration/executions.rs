//! Executions over the API (`GET /api/v1/executions`, `GET /api/v1/executions/{id}`, cancel), on the local
//! executor; the Kubernetes executor's cancel is in `kubernetes.rs`.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, wait_until};

async fn get(app: &crate::helpers::TestApp, path: &str) -> (u16, Value) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn executions_are_listed_newest_first_filtered_and_paged() {
    let app = spawn_app().await;
    for id in ["l-1", "l-2", "l-3"] {
        app.post_event(id, "t.quick", json!({})).await;
        app.executions_of(id, 1).await;
    }
    app.post_event("l-fail", "t.fail", json!({})).await;
    let failed = app.executions_of("l-fail", 1).await.remove(0);

    let (status, page) = get(&app, "/api/v1/executions?service=quick&per_page=2").await;
    assert_eq!(status, 200);
    let events: Vec<&str> =
        page["executions"].as_array().unwrap().iter().map(|e| e["event_id"].as_str().unwrap()).collect();
    assert_eq!(events, ["l-3", "l-2"], "newest first, two per page");
    assert_eq!(page["next_page"], 2);
    let (_, second) = get(&app, "/api/v1/executions?service=quick&per_page=2&page=2").await;
    assert_eq!(second["executions"][0]["event_id"], "l-1");
    assert_eq!(second["next_page"], Value::Null);

    let (_, failures) = get(&app, "/api/v1/executions?status=failed&service=failing").await;
    assert_eq!(failures["executions"].as_array().unwrap().len(), 1);
    let (_, by_event) = get(&app, "/api/v1/executions?event_id=l-2").await;
    assert_eq!(by_event["executions"][0]["service"], "quick");

    let (status, one) = get(&app, &format!("/api/v1/executions/{}", failed.id)).await;
    assert_eq!(status, 200);
    assert_eq!(one["status"], "failed");
    assert_eq!(one["exit_code"], 4);
    assert_eq!(one["executor"], "local");
    assert!(one["error"].as_str().unwrap().contains("exited with 4"));
    assert!(one["created_at"].is_string() && one["finished_at"].is_string());

    let (status, body) = get(&app, "/api/v1/executions/no-such-id").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("no execution `no-such-id`")));
    let (status, body) = get(&app, "/api/v1/executions?status=sideways").await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("`status` is one of"));
    let (status, _) = get(&app, "/api/v1/executions?per_page=100000").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_running_local_execution_is_cancelled_over_the_api_and_from_its_page() {
    let app = spawn_app().await;
    app.post_event("c-1", "t.long", json!({})).await;
    let id = app.running("c-1").await;
    wait_until(|| async { app.log(&id).await.contains(&"started".to_owned()).then_some(()) }).await;
    let page = app.client.get(app.url(&format!("/executions/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!(r#"action="/executions/{id}/cancel""#)), "a running execution has a Cancel button");

    let response = app.client.post(app.url(&format!("/api/v1/executions/{id}/cancel"))).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let row = app.finished(&id).await;
    assert_eq!(row.status, "cancelled");
    assert!(!app.log(&id).await.contains(&"never".to_owned()));
    // Its completion event is published like any other ending.
    let completion = backend::ids::derived(&[&id, "cancelled"]);
    let published = app.published(&completion).await;
    assert_eq!(published["type"], "k8x.execution.cancelled");

    let again = app.client.post(app.url(&format!("/api/v1/executions/{id}/cancel"))).send().await.unwrap();
    assert_eq!(again.status(), 409);
    let page = app.client.get(app.url(&format!("/executions/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains(r#"id="cancel""#), "an ended execution has no Cancel button");

    // The page's form (no JavaScript) cancels and returns to the page.
    app.post_event("c-2", "t.long", json!({})).await;
    let id = app.running("c-2").await;
    let response = app.client.post(app.url(&format!("/executions/{id}/cancel"))).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], format!("/executions/{id}").as_str());
    assert_eq!(app.finished(&id).await.status, "cancelled");
}

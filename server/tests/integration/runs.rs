//! Manual runs through the form endpoint: typed values, refused values, services that cannot be run.

use reqwest::multipart::{Form, Part};

use crate::helpers::spawn_app;

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn form_values_reach_the_container_typed() {
    let app = spawn_app().await;
    let form = Form::new()
        .text("who", "Ada Lovelace")
        .text("count", "7")
        .text("ratio", "0.25")
        .text("tags", "a")
        .text("tags", "b")
        .part("upload", Part::bytes(b"hello".to_vec()).file_name("h.txt").mime_str("text/plain").unwrap());
    let response = app.client.post(app.url("/services/form/run")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let to = location(&response);
    let id = to.strip_prefix("/executions/").expect("redirects to the execution page").to_owned();
    let run = app.finished(&id).await;
    assert_eq!(run.status, "succeeded");
    assert_eq!(run.event_type, "k8x.service.run_requested");
    let log = app.log(&id).await;
    let params: serde_json::Value = serde_json::from_str(log[0].strip_prefix("K8X_PARAMS=").unwrap()).unwrap();
    assert_eq!(params["who"], "Ada Lovelace");
    assert_eq!(params["count"], 7);
    assert_eq!(params["ratio"], 0.25);
    assert_eq!(params["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(params["upload"]["content_base64"], "aGVsbG8=");
}

#[tokio::test]
async fn refused_values_go_back_to_the_form_with_the_reason_and_nothing_runs() {
    let app = spawn_app().await;
    let form = Form::new().text("count", "eleven").text("tags", "z");
    let response = app.client.post(app.url("/services/form/run")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let to = location(&response);
    assert!(to.starts_with("/services/form?run_error="), "{to}");
    let reason: String = form_urlencoded::parse(to.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "run_error")
        .unwrap()
        .1
        .into_owned();
    assert!(reason.contains("count: `eleven` is not a whole number"), "{reason}");
    assert!(reason.contains("who: a value is required"), "{reason}");
    assert!(reason.contains("tags: `z` is not one of the choices"), "{reason}");
    assert!(app.state.store.executions(Some("form"), 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn services_that_cannot_be_run_by_hand_say_so() {
    let app = spawn_app().await;
    let response = app.client.post(app.url("/services/auto_only/run")).multipart(Form::new()).send().await.unwrap();
    assert!(location(&response).contains("does+not+allow+manual+runs"), "{}", location(&response));
    let response = app.client.post(app.url("/services/inactive_one/run")).multipart(Form::new()).send().await.unwrap();
    assert!(location(&response).contains("is+not+active"));
    let response = app.client.post(app.url("/services/nope/run")).multipart(Form::new()).send().await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_run_request_for_a_service_that_cannot_be_run_by_hand_runs_nothing() {
    use cloudevents::{EventBuilder, EventBuilderV10};

    let app = spawn_app().await;
    // Ingest refuses `k8x.*` types; this is what a forged request would look like had it reached the bus.
    let forged = EventBuilderV10::new()
        .id("forged")
        .source("/elsewhere")
        .ty(backend::dispatcher::RUN_REQUESTED)
        .extension("k8xservice", "auto_only")
        .build()
        .unwrap();
    app.state.bus.publish(&forged).await.unwrap();
    app.dispatched_all().await;
    assert!(app.state.store.executions(Some("auto_only"), 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused_and_starts_nothing() {
    let app = spawn_app().await;
    let run = |headers: &[(&str, &str)]| {
        let mut request = app.client.post(app.url("/services/quick/run")).multipart(Form::new());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let host = app.base.trim_start_matches("http://").to_owned();
    for refused in [
        vec![("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")],
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
    ] {
        let response = run(&refused).await.unwrap();
        assert_eq!(response.status(), 403, "{refused:?}");
        assert_eq!(response.headers()["x-frame-options"], "DENY");
    }
    assert!(app.state.store.executions(Some("quick"), 10).await.unwrap().is_empty(), "a refused post started a run");
    // The same form from k8x's own page, and a script without a browser, are fine.
    let own_origin = format!("http://{host}");
    let response = run(&[("origin", own_origin.as_str()), ("sec-fetch-site", "same-origin")]).await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(run(&[]).await.unwrap().status(), 303);
    let page = app.client.get(app.url("/services")).send().await.unwrap();
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
}

//! Ingest → bus → dispatcher → local executor → stored logs.

use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

use crate::helpers::spawn_app;

async fn bus_records(app: &crate::helpers::TestApp) -> u64 {
    backend::store::entities::bus_record::Entity::find().count(app.state.store.db()).await.unwrap()
}

#[tokio::test]
async fn a_binary_event_runs_each_subscribed_active_service_with_its_environment() {
    let app = spawn_app().await;
    let response = app.post_event("ev-1", "t.quick", json!({"n": 1, "name": "x"})).await;
    assert_eq!(response.status(), 202);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"id": "ev-1"}));

    let runs = app.executions_of("ev-1", 1).await;
    assert_eq!(runs[0].service, "quick", "the inactive subscriber must not run");
    assert_eq!(runs[0].status, "succeeded");
    let log = app.log(&runs[0].id).await;
    assert_eq!(log.first().map(String::as_str), Some("BEGIN"));
    assert!(log.contains(&r#"params={"n":1,"name":"x"}"#.to_owned()), "{log:?}");
    assert!(log.contains(&"token=***".to_owned()), "the secret is injected and masked in the log: {log:?}");
    assert!(log.contains(&"region=eu-1".to_owned()), "{log:?}");
    assert_eq!(log.last().map(String::as_str), Some("DONE!"));
}

#[tokio::test]
async fn structured_and_batch_events_are_accepted() {
    let app = spawn_app().await;
    let structured = json!({"specversion": "1.0", "id": "s-1", "source": "/tests", "type": "t.quick", "data": {"mode": "structured"}});
    let response = app.post_raw(&[("content-type", "application/cloudevents+json")], structured.to_string()).await;
    assert_eq!(response.status(), 202);
    let run = &app.executions_of("s-1", 1).await[0];
    assert!(app.log(&run.id).await.contains(&r#"params={"mode":"structured"}"#.to_owned()));

    let batch = json!([
        {"specversion": "1.0", "id": "b-1", "source": "/tests", "type": "t.quick"},
        {"specversion": "1.0", "id": "b-2", "source": "/tests", "type": "t.quick"}
    ]);
    let response = app.post_raw(&[("content-type", "application/cloudevents-batch+json")], batch.to_string()).await;
    assert_eq!(response.status(), 202);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"ids": ["b-1", "b-2"]}));
    app.executions_of("b-1", 1).await;
    app.executions_of("b-2", 1).await;
}

#[tokio::test]
async fn malformed_events_get_a_400_that_names_the_problem_and_nothing_is_published() {
    let app = spawn_app().await;
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, String, &'a str);
    let cases: Vec<Case> = vec![
        ("plain JSON", vec![("content-type", "application/json")], "{}".into(), "not a CloudEvent"),
        (
            "no type",
            vec![("content-type", "application/cloudevents+json")],
            json!({"specversion": "1.0", "id": "1", "source": "/s"}).to_string(),
            "type",
        ),
        (
            "broken JSON",
            vec![("content-type", "application/cloudevents+json")],
            "{\"specversion\": ".into(),
            "invalid CloudEvent",
        ),
        (
            "binary without id",
            vec![("ce-specversion", "1.0"), ("ce-source", "/s"), ("ce-type", "t.quick")],
            String::new(),
            "id",
        ),
        (
            "unknown spec version",
            vec![("ce-specversion", "0.1"), ("ce-id", "1"), ("ce-source", "/s"), ("ce-type", "t.quick")],
            String::new(),
            "0.1",
        ),
        (
            "a reserved type",
            vec![
                ("ce-specversion", "1.0"),
                ("ce-id", "1"),
                ("ce-source", "/s"),
                ("ce-type", "k8x.service.run_requested"),
            ],
            String::new(),
            "reserved",
        ),
        (
            "a NUL in the id (PostgreSQL would refuse it later, holding up every event behind it)",
            vec![("content-type", "application/cloudevents+json")],
            json!({"specversion": "1.0", "id": "a\u{0}b", "source": "/s", "type": "t.quick"}).to_string(),
            "attribute `id` must not contain control characters",
        ),
        (
            "a 20 KB type",
            vec![("content-type", "application/cloudevents+json")],
            json!({"specversion": "1.0", "id": "1", "source": "/s", "type": "t".repeat(20 * 1024)}).to_string(),
            "attribute `type` may be at most 256 bytes",
        ),
        (
            "a bad event in a batch",
            vec![("content-type", "application/cloudevents-batch+json")],
            json!([{"specversion": "1.0", "id": "1", "source": "/s", "type": "t.quick"}, {"id": "2"}]).to_string(),
            "batch",
        ),
    ];
    for (what, headers, body, expected) in cases {
        let response = app.post_raw(&headers, body).await;
        assert_eq!(response.status(), 400, "{what}");
        let error = response.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(expected), "{what}: {error}");
    }
    let empty = app.post_raw(&[("content-type", "application/cloudevents-batch+json")], "[]").await;
    assert_eq!(empty.status(), 202, "an empty batch is a valid batch");
    assert_eq!(empty.json::<Value>().await.unwrap(), json!({"ids": []}));
    let too_big = app.post_event("big", "t.quick", json!({"blob": "x".repeat(100 * 1024)})).await;
    assert_eq!(too_big.status(), 413);
    assert_eq!(bus_records(&app).await, 0, "a refused event must not reach the bus");
}

#[tokio::test]
async fn a_redelivered_event_runs_each_service_once() {
    let app = spawn_app().await;
    for _ in 0..3 {
        assert_eq!(app.post_event("dup-1", "t.quick", json!({})).await.status(), 202);
    }
    let runs = app.executions_of("dup-1", 1).await;
    // Let every later delivery be dispatched too, then check nothing ran twice.
    app.dispatched_all().await;
    assert_eq!(app.executions_of("dup-1", 1).await.len(), 1);
    let begins = app.log(&runs[0].id).await.iter().filter(|l| *l == "BEGIN").count();
    assert_eq!(begins, 1);
}

#[tokio::test]
async fn a_failure_is_recorded_and_announced_so_services_can_chain() {
    let app = spawn_app().await;
    app.post_event("f-1", "t.fail", json!({})).await;
    let run = &app.executions_of("f-1", 1).await[0];
    assert_eq!(run.status, "failed");
    assert_eq!(run.exit_code, Some(4));
    assert!(run.error.as_deref().unwrap().contains("exited with 4"));

    // `on_failure` subscribes to k8x.execution.failed and receives the failed execution as its parameters.
    let chained = crate::helpers::wait_until(|| async {
        let rows = app.state.store.executions(Some("on_failure"), 1).await.unwrap();
        rows.into_iter().next().filter(|r| r.status == "succeeded")
    })
    .await;
    assert_eq!(chained.event_type, "k8x.execution.failed");
    let log = app.log(&chained.id).await.join("\n");
    assert!(log.contains(&format!(r#""execution_id":"{}""#, run.id)), "{log}");
    assert!(log.contains(r#""exit_code":4"#), "{log}");
}

#[tokio::test]
async fn a_service_chained_to_its_own_success_stops_at_the_depth_limit() {
    let dir = tempfile::tempdir().unwrap();
    crate::helpers::service(
        &dir.path().join("project"),
        "looper",
        r#"{"name": "looper", "type": "k8x_job", "trigger_events": ["t.loop", "k8x.execution.succeeded"]}"#,
        "echo loop",
        &[],
    );
    let app = crate::helpers::spawn_app_with(crate::helpers::Db::Sqlite, dir).await;
    app.post_event("loop-1", "t.loop", json!({})).await;
    let limit = backend::chain::MAX_DEPTH as usize + 1; // the first run plus one per allowed depth
    let runs = crate::helpers::wait_until(|| async {
        let rows = app.state.store.executions(Some("looper"), 100).await.unwrap();
        (rows.len() >= limit && rows.iter().all(|r| r.status == "succeeded")).then_some(rows)
    })
    .await;
    // Let the last completion event be dispatched (and refused), then make sure nothing more ran.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(app.state.store.executions(Some("looper"), 100).await.unwrap().len(), runs.len());
    assert_eq!(runs.len(), limit);
}

#[tokio::test]
async fn the_limit_holds_for_the_event_as_structured_json_too() {
    let app = crate::helpers::spawn_app().await;
    // The body fits the 64 KiB limit of the test k8x; with its attributes the event does not.
    let body = serde_json::json!({"blob": "z".repeat(64 * 1024 - 40)});
    let response = app.post_event("just-over", "t.quick", body).await;
    assert_eq!(response.status(), 413);
    let error: serde_json::Value = response.json().await.unwrap();
    let error = error["error"].as_str().unwrap().to_owned();
    assert!(error.starts_with("event `just-over` is ") && error.ends_with("at most 65536 are accepted"), "{error}");
}

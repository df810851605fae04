//! Poison never stops the line: a record that is no CloudEvent, and one whose handling keeps failing, become
//! dead letters (reason and original record kept, listed for admins, replayable) and the events behind them run.

use cloudevents::{EventBuilder, EventBuilderV10};
use reqwest::StatusCode;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, wait_until, Db, TestApp};

async fn dead_letters(app: &TestApp, count: usize) -> Vec<Value> {
    wait_until(|| async {
        let list: Vec<Value> =
            app.client.get(app.url("/api/v1/dead-letters")).send().await.unwrap().json().await.unwrap();
        (list.len() == count).then_some(list)
    })
    .await
}

#[tokio::test]
async fn a_record_that_is_no_cloudevent_is_dead_lettered_and_the_next_event_runs() {
    let app = spawn_app().await;
    use backend::store::entities::bus_record;
    let garbage = bus_record::ActiveModel {
        offset: Default::default(),
        key: Set("k".into()),
        event: Set(r#"{"specversion": "9.9", "id": 1}"#.into()),
        stored_at: Set(chrono::Utc::now()),
    };
    bus_record::Entity::insert(garbage).exec_without_returning(app.state.store.db()).await.unwrap();
    assert_eq!(app.post_event("after-garbage", "t.quick", json!({})).await.status(), 202);
    assert_eq!(app.executions_of("after-garbage", 1).await[0].status, "succeeded", "the line moved on");
    let letters = dead_letters(&app, 1).await;
    assert!(letters[0]["reason"].as_str().unwrap().starts_with("not a CloudEvent"), "{}", letters[0]);
    assert_eq!(letters[0]["record"], r#"{"specversion": "9.9", "id": 1}"#, "the original record is kept");
    let id = letters[0]["id"].as_i64().unwrap();
    let replay = app.client.post(app.url(&format!("/api/v1/dead-letters/{id}/replay"))).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::CONFLICT);
    let (viewer, _) = app.signed_in(backend::access::Role::Viewer).await;
    assert_eq!(viewer.get(app.url("/api/v1/dead-letters")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let ready = app.anonymous.get(app.url("/ready")).send().await.unwrap();
    assert_eq!((ready.status(), ready.text().await.unwrap()), (StatusCode::OK, "ready".to_owned()));
}

#[tokio::test]
async fn an_event_postgres_refuses_is_dead_lettered_after_bounded_attempts_and_can_be_replayed() {
    let db = crate::postgres::TestDatabase::create().await;
    let app = spawn_app_with(Db::Url(db.url.clone()), tempfile::tempdir().unwrap()).await;
    // Ingest refuses a NUL now; an older k8x or another Kafka client may still have put one on the bus.
    let poison = EventBuilderV10::new().id("nul\u{0}id").source("/tests").ty("t.quick").build().unwrap();
    app.state.bus.publish(&poison).await.unwrap();
    assert_eq!(app.post_event("after-poison", "t.quick", json!({})).await.status(), 202);
    assert_eq!(app.executions_of("after-poison", 1).await[0].status, "succeeded", "the line moved on");
    let letters = dead_letters(&app, 1).await;
    assert_eq!(letters[0]["attempts"], backend::dispatcher::MAX_ATTEMPTS);
    assert_eq!(letters[0]["event_type"], "t.quick");
    assert!(letters[0]["record"].as_str().unwrap().contains(r"nul\u0000id"), "the record is kept as it was");
    let id = letters[0]["id"].as_i64().unwrap();
    let replay = app.client.post(app.url(&format!("/api/v1/dead-letters/{id}/replay"))).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::ACCEPTED);
    // Still poison: it comes back as a second dead letter, and the first says it was replayed.
    let letters = dead_letters(&app, 2).await;
    assert!(letters.iter().any(|l| l["id"] == id && l["replayed_at"].is_string()));
    drop(app);
    db.drop().await;
}

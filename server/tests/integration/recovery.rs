//! Durability: an event the bus accepted is dispatched even if k8x stopped before dispatching it.

use backend::bus::{Bus, EmbeddedBus};
use cloudevents::{EventBuilder, EventBuilderV10};

use crate::helpers::{spawn_app, spawn_app_with, Db};

#[tokio::test]
async fn an_event_accepted_before_a_stop_is_dispatched_after_the_restart() {
    let app = spawn_app().await;
    let url = app.state.config.database_url();
    let dir = app.stop().await;

    // Accepted by the bus while no dispatcher runs: exactly what a crash right after the 202 leaves behind.
    let store = backend::store::Store::connect(&url).await.unwrap();
    let event = EventBuilderV10::new().id("after-crash").source("/tests").ty("t.quick").build().unwrap();
    EmbeddedBus::new(store.db().clone()).publish(&event).await.unwrap();
    drop(store);

    let app = spawn_app_with(Db::Sqlite, dir).await;
    let runs = app.executions_of("after-crash", 1).await;
    assert_eq!(runs[0].status, "succeeded");
}

#[tokio::test]
async fn an_execution_cut_short_by_a_stop_is_marked_failed() {
    let app = spawn_app().await;
    app.post_event("cut", "t.slow", serde_json::json!({})).await;
    let key = backend::ids::event_key("/tests", "cut");
    let id = crate::helpers::wait_until(|| async {
        let rows = app.state.store.executions_of_event(&key).await.unwrap();
        rows.into_iter().find(|r| r.status == "running").map(|r| r.id)
    })
    .await;
    let dir = app.stop().await;
    let app = spawn_app_with(Db::Sqlite, dir).await;
    let row = app.state.store.execution(&id).await.unwrap().unwrap();
    assert_eq!(row.status, "failed");
    assert!(row.error.unwrap().contains("k8x stopped"));
}

#[tokio::test]
async fn a_corrupt_record_on_the_bus_is_skipped_and_does_not_block_later_events() {
    use backend::store::entities::bus_record;
    use sea_orm::{ActiveValue::Set, EntityTrait};

    let app = spawn_app().await;
    let corrupt = bus_record::ActiveModel {
        key: Set("k".into()),
        event: Set("{not a cloud event".into()),
        stored_at: Set(chrono::Utc::now()),
        ..Default::default()
    };
    bus_record::Entity::insert(corrupt).exec_without_returning(app.state.store.db()).await.unwrap();
    app.post_event("after-corrupt", "t.quick", serde_json::json!({})).await;
    let runs = app.executions_of("after-corrupt", 1).await;
    assert_eq!(runs[0].status, "succeeded");
}

#[tokio::test]
async fn secrets_are_sealed_at_rest_and_a_start_with_another_key_is_refused() {
    use sea_orm::EntityTrait;

    let app = spawn_app().await;
    // The fixture service `quick` has the secret TOKEN=sup3r-s3cret; it still reaches the container.
    app.post_event("sealed", "t.quick", serde_json::json!({})).await;
    assert_eq!(app.executions_of("sealed", 1).await[0].status, "succeeded");
    let rows = backend::store::entities::service::Entity::find().all(app.state.store.db()).await.unwrap();
    let quick = rows.iter().find(|r| r.name == "quick").unwrap();
    assert!(!quick.secrets.as_deref().unwrap().contains("sup3r-s3cret"), "stored in plain text");
    let dir = app.stop().await;

    let setup =
        crate::helpers::Setup { secret_key: Some(backend::store::SecretCipher::generate_key()), ..Default::default() };
    let config = crate::helpers::config(setup, dir.path());
    let err = server::Application::build(config, tokio_util::sync::CancellationToken::new()).await.err().unwrap();
    assert!(format!("{err:#}").contains("the secret key does not open the secrets stored in this database"), "{err:#}");
    // With its own key file it starts again.
    let app = spawn_app_with(Db::Sqlite, dir).await;
    app.post_event("sealed-2", "t.quick", serde_json::json!({})).await;
    let run = &app.executions_of("sealed-2", 1).await[0];
    assert!(app.log(&run.id).await.contains(&"token=***".to_owned()));
}

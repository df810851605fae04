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
    EmbeddedBus::new(&store).publish(&event).await.unwrap();
    drop(store);

    let app = spawn_app_with(Db::Sqlite, dir).await;
    let runs = app.executions_of("after-crash", 1).await;
    assert_eq!(runs[0].status, "succeeded");
}

/// Starts k8x with its data in `dir` (a fresh one if `None`) and a shutdown grace period of `grace` seconds.
async fn with_grace(grace: u64, dir: Option<tempfile::TempDir>) -> crate::helpers::TestApp {
    let dir = dir.unwrap_or_else(|| tempfile::TempDir::new().unwrap());
    let mut config = crate::helpers::config(crate::helpers::Setup::default(), dir.path());
    config.shutdown_grace = grace;
    crate::helpers::spawn_config(config, dir).await
}

/// Posts a `t.slow` event (the job sleeps 1.5 s) and waits until its execution runs.
async fn running_slow(app: &crate::helpers::TestApp, id: &str) -> String {
    app.post_event(id, "t.slow", serde_json::json!({})).await;
    let key = backend::ids::event_key("/tests", id);
    crate::helpers::wait_until(|| async {
        let rows = app.state.store.executions_of_event(&key).await.unwrap();
        rows.into_iter().find(|r| r.status == "running").map(|r| r.id)
    })
    .await
}

#[tokio::test]
async fn a_stop_lets_running_executions_finish_within_the_grace_period() {
    let app = with_grace(30, None).await;
    let id = running_slow(&app, "graceful").await;
    let url = app.state.config.database_url();
    let dir = app.stop().await;
    // The stop waited: the execution ended on its own, and its announcement went out before k8x stopped.
    let store = backend::store::Store::connect(&url).await.unwrap();
    assert_eq!(store.outbox_len().await.unwrap(), 0, "the announcement went out before the stop");
    drop(store);
    let app = spawn_app_with(Db::Sqlite, dir).await;
    let row = app.state.store.execution(&id).await.unwrap().unwrap();
    assert_eq!(row.status, "succeeded", "{row:?}");
    assert!(app.log(&id).await.contains(&"DONE!".to_owned()));
}

#[tokio::test]
async fn past_the_grace_period_a_running_execution_is_stopped_and_recorded_interrupted() {
    let app = with_grace(0, None).await;
    let id = running_slow(&app, "cut").await;
    let dir = app.stop().await;
    let app = spawn_app_with(Db::Sqlite, dir).await;
    let row = app.state.store.execution(&id).await.unwrap().unwrap();
    assert_eq!(row.status, "interrupted", "{row:?}");
    assert!(row.error.unwrap().contains("grace period"));
    assert!(!app.log(&id).await.contains(&"DONE!".to_owned()), "it was stopped, not waited for");
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

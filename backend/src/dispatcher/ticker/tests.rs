use chrono::TimeZone;
use cloudevents::AttributesReader;
use sea_orm::EntityTrait;

use super::*;
use crate::{
    bus::EmbeddedBus,
    store::entities::{bus_record, service},
};

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, h, m, s).unwrap()
}

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display())).await.unwrap();
    (dir, store)
}

async fn schedule(store: &Store, name: &str, schedule: serde_json::Value) {
    let manifest = json!({"name": name, "type": "k8x_job", "schedule": schedule}).to_string();
    let row = crate::executor::environment::tests::service_row();
    store.upsert_service(service::Model { name: name.into(), manifest, ..row }).await.unwrap();
}

/// The ids of the events on the bus.
async fn published(store: &Store) -> Vec<String> {
    let rows = bus_record::Entity::find().all(store.db()).await.unwrap();
    rows.iter()
        .map(|r| serde_json::from_str::<Event>(&r.event).map(|e| e.id().to_owned()).unwrap_or_else(|_| r.event.clone()))
        .collect()
}

#[tokio::test]
async fn each_due_time_is_published_once_with_its_time_in_the_id() {
    let (_dir, store) = store().await;
    let bus = EmbeddedBus::new(&store);
    let catalog = Catalog::new(store.clone());
    schedule(&store, "every10", json!("*/10 * * * *")).await;

    assert_eq!(tick(&store, &bus, &catalog, at(9, 5, 0)).await.unwrap(), 0, "the first look only sets the mark");
    assert_eq!(store.schedule_marks().await.unwrap()["every10"].next_due, at(9, 10, 0));
    assert_eq!(tick(&store, &bus, &catalog, at(9, 9, 59)).await.unwrap(), 0);
    assert_eq!(tick(&store, &bus, &catalog, at(9, 10, 0)).await.unwrap(), 1);
    assert_eq!(tick(&store, &bus, &catalog, at(9, 10, 1)).await.unwrap(), 0, "once per due time");
    assert_eq!(tick(&store, &bus, &catalog, at(9, 20, 3)).await.unwrap(), 1);
    assert_eq!(published(&store).await, ["every10@2026-11-27T09:10:00Z", "every10@2026-11-27T09:20:00Z"]);

    // A second k8x process on the same database (its own index) finds nothing left to publish.
    let other = Catalog::new(store.clone());
    assert_eq!(tick(&store, &bus, &other, at(9, 20, 4)).await.unwrap(), 0);

    // Two processes that both saw the mark before either moved it publish the same event: one execution.
    let mark = store.schedule_marks().await.unwrap()["every10"].clone();
    let key = mark.schedule.clone();
    assert!(store.move_mark("every10", (&key, mark.next_due), (&key, at(9, 40, 0))).await.unwrap());
    assert!(
        !store.move_mark("every10", (&key, mark.next_due), (&key, at(9, 40, 0))).await.unwrap(),
        "only one moves it"
    );
    let twice = event("every10", &Schedule::parse(&json!("*/10 * * * *")).unwrap(), at(9, 30, 0));
    assert_eq!(twice.id(), "every10@2026-11-27T09:30:00Z");
    assert_eq!(twice.source().to_string(), "/schedules/every10");
}

#[tokio::test]
async fn missed_due_times_follow_the_policy_and_a_changed_schedule_starts_afresh() {
    let (_dir, store) = store().await;
    let bus = EmbeddedBus::new(&store);
    let catalog = Catalog::new(store.clone());
    schedule(&store, "skipper", json!("*/10 * * * *")).await;
    schedule(&store, "catcher", json!({"cron": "*/10 * * * *", "missed": "run_once"})).await;
    tick(&store, &bus, &catalog, at(9, 5, 0)).await.unwrap();

    // "Down" from 09:05 to 10:03: six due times passed. One run for `run_once`, none for `skip`.
    assert_eq!(tick(&store, &bus, &catalog, at(10, 3, 0)).await.unwrap(), 1);
    assert_eq!(published(&store).await, ["catcher@2026-11-27T10:00:00Z"]);
    let marks = store.schedule_marks().await.unwrap();
    assert_eq!((marks["skipper"].next_due, marks["catcher"].next_due), (at(10, 10, 0), at(10, 10, 0)));

    // A new schedule: no run for the old one's due time, the mark starts from the new one.
    schedule(&store, "skipper", json!("0 12 * * *")).await;
    assert_eq!(tick(&store, &bus, &catalog, at(10, 10, 0)).await.unwrap(), 1, "catcher's 10:10");
    assert_eq!(store.schedule_marks().await.unwrap()["skipper"].next_due, at(12, 0, 0));

    // No longer scheduled (inactive): its mark goes.
    let row = store.service("catcher").await.unwrap().unwrap();
    store.upsert_service(service::Model { active: false, ..row }).await.unwrap();
    tick(&store, &bus, &catalog, at(10, 11, 0)).await.unwrap();
    assert!(!store.schedule_marks().await.unwrap().contains_key("catcher"));
}

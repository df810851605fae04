use cloudevents::{AttributesReader, EventBuilder, EventBuilderV10};

use super::*;
use crate::store::Store;

/// The bus on the database at `path`, as the k8x named `this-k8x` (a restart is the same k8x).
async fn bus_on(path: &std::path::Path) -> EmbeddedBus {
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    EmbeddedBus::new(store.db().clone()).owned_by("this-k8x")
}

fn event(id: &str) -> Event {
    EventBuilderV10::new().id(id).source("test").ty("t.happened").build().unwrap()
}

#[tokio::test]
async fn an_uncommitted_event_is_delivered_again_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bus.db");
    {
        let bus = bus_on(&db).await;
        bus.publish(&event("a")).await.unwrap();
        bus.publish(&event("b")).await.unwrap();
        let mut sub = bus.subscribe("g").await.unwrap();
        let first = sub.next().await.unwrap();
        assert_eq!(first.event.as_ref().unwrap().id(), "a");
        sub.commit(&first).await.unwrap();
        let second = sub.next().await.unwrap();
        assert_eq!(second.event.as_ref().unwrap().id(), "b");
        // "crash": b was delivered but never committed
    }
    let bus = bus_on(&db).await;
    let mut sub = bus.subscribe("g").await.unwrap();
    let again = sub.next().await.unwrap();
    assert_eq!(again.event.unwrap().id(), "b");

    // another group starts from the beginning
    let mut other = bus.subscribe("other").await.unwrap();
    assert_eq!(other.next().await.unwrap().event.unwrap().id(), "a");
}

#[tokio::test]
async fn a_waiting_consumer_wakes_on_publish() {
    let dir = tempfile::tempdir().unwrap();
    let bus = bus_on(&dir.path().join("bus.db")).await;
    let mut sub = bus.subscribe("g").await.unwrap();
    let waiter = tokio::spawn(async move { sub.next().await.unwrap().event.unwrap().id().to_owned() });
    tokio::time::sleep(Duration::from_millis(50)).await;
    bus.publish(&event("late")).await.unwrap();
    let id = tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
    assert_eq!(id, "late");
}

#[tokio::test]
async fn one_process_consumes_a_group_at_a_time_and_committed_offsets_never_move_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bus.db");
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    let first = EmbeddedBus::new(store.db().clone()).owned_by("first");
    let second = EmbeddedBus::new(store.db().clone()).owned_by("second");
    for id in ["a", "b", "c"] {
        first.publish(&event(id)).await.unwrap();
    }
    let mut holder = first.subscribe("g").await.unwrap();
    let a = holder.next().await.unwrap();
    let b = holder.next().await.unwrap();
    // The other process waits while the group is held.
    let mut waiting = second.subscribe("g").await.unwrap();
    assert!(tokio::time::timeout(Duration::from_millis(500), waiting.next()).await.is_err(), "the group is held");
    holder.commit(&b).await.unwrap();
    holder.commit(&a).await.unwrap(); // late, lower: changes nothing
    let committed = bus_offset::Entity::find_by_id("g".to_owned()).one(store.db()).await.unwrap().unwrap();
    assert_eq!(committed.next_offset, b.position.offset + 1, "never backwards");
    // A clean stop lets go: the other takes over at once, from the committed offset.
    holder.close().await;
    let next = tokio::time::timeout(Duration::from_secs(5), waiting.next()).await.expect("taken over").unwrap();
    assert_eq!(next.event.unwrap().id(), "c");
}

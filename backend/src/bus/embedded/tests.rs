use cloudevents::{AttributesReader, EventBuilder, EventBuilderV10};

use super::*;
use crate::store::Store;

async fn bus_on(path: &std::path::Path) -> EmbeddedBus {
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    EmbeddedBus::new(store.db().clone())
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

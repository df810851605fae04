use cloudevents::{AttributesReader, EventBuilder, EventBuilderV10};

use super::*;
use crate::store::Store;
use sea_orm::ConnectionTrait;

/// The bus on the database at `path`, as the k8x named `this-k8x` (a restart is the same k8x).
async fn bus_on(path: &std::path::Path) -> EmbeddedBus {
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    EmbeddedBus::new(&store).owned_by("this-k8x")
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
    let first = EmbeddedBus::new(&store).owned_by("first");
    let second = EmbeddedBus::new(&store).owned_by("second");
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

#[tokio::test]
async fn concurrent_publishes_are_committed_together_and_each_is_stored_once_in_its_callers_order() {
    let dir = tempfile::tempdir().unwrap();
    let bus = bus_on(&dir.path().join("bus.db")).await;
    let publishers: Vec<_> = (0..40)
        .map(|p| {
            let bus = bus.clone();
            tokio::spawn(async move {
                for n in 0..25 {
                    bus.publish(&event(&format!("{p}-{n}"))).await.unwrap();
                }
            })
        })
        .collect();
    // A batch goes in whole: its events get consecutive offsets.
    bus.publish_all(&[event("batch-1"), event("batch-2"), event("batch-3")]).await.unwrap();
    for publisher in publishers {
        publisher.await.unwrap();
    }
    let mut sub = bus.subscribe("g").await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..1_003 {
        let delivery = sub.next().await.unwrap();
        seen.push((delivery.event.unwrap().id().to_owned(), delivery.position.offset));
    }
    let ids: std::collections::HashSet<_> = seen.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids.len(), 1_003, "every event once");
    for p in 0..40 {
        let mine: Vec<_> =
            seen.iter().filter(|(id, _)| id.starts_with(&format!("{p}-"))).map(|(id, _)| id.clone()).collect();
        assert_eq!(mine, (0..25).map(|n| format!("{p}-{n}")).collect::<Vec<_>>(), "a caller's events in its order");
    }
    let batch: Vec<_> = seen.iter().filter(|(id, _)| id.starts_with("batch-")).map(|(_, offset)| *offset).collect();
    assert_eq!(batch.len(), 3);
    assert!(batch.windows(2).all(|w| w[1] == w[0] + 1), "one transaction: {batch:?}");
}

#[tokio::test]
async fn a_batch_that_cannot_be_stored_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let bus = bus_on(&dir.path().join("bus.db")).await;
    bus.publish(&event("before")).await.unwrap();
    // The table refuses the third event of the batch: none of the batch may stay.
    bus.db
        .execute_unprepared(
            "CREATE TRIGGER refuse BEFORE INSERT ON bus_records WHEN NEW.event LIKE '%\"refused\"%' \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .await
        .unwrap();
    let refused = bus.publish_all(&[event("one"), event("two"), event("refused")]).await;
    assert!(refused.is_err());
    bus.publish(&event("after")).await.unwrap();
    let mut sub = bus.subscribe("g").await.unwrap();
    let first = sub.next().await.unwrap().event.unwrap();
    let second = sub.next().await.unwrap().event.unwrap();
    assert_eq!([first.id(), second.id()], ["before", "after"], "nothing of the refused batch was stored");
}

/// The dispatcher stops waiting for `next` whenever something else happens first: each read goes on where it
/// was, and nothing is lost, repeated or reordered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_keeps_giving_up_waiting_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bus = bus_on(&dir.path().join("bus.db")).await;
    let mut sub = bus.subscribe("g").await.unwrap();
    let publisher = tokio::spawn({
        let bus = bus.clone();
        async move {
            for n in 0..2_000 {
                bus.publish(&event(&format!("e{n:04}"))).await.unwrap();
            }
        }
    });
    let mut seen = Vec::new();
    let mut gave_up = 0;
    while seen.len() < 2_000 {
        match tokio::time::timeout(Duration::from_micros(50), sub.next()).await {
            Ok(delivery) => seen.push(delivery.unwrap().event.unwrap().id().to_owned()),
            Err(_) => gave_up += 1,
        }
        assert!(gave_up < 1_000_000, "the reader stopped making progress");
    }
    publisher.await.unwrap();
    let expected: Vec<_> = (0..2_000).map(|n| format!("e{n:04}")).collect();
    assert_eq!(seen, expected);
    assert!(gave_up > 0, "the reader was interrupted at least once");
}

use std::sync::Mutex;

use async_trait::async_trait;
use cloudevents::{EventBuilder, EventBuilderV10};
use tokio::sync::Semaphore;

use super::*;
use crate::store::entities::service;
use crate::{
    bus::EmbeddedBus,
    executor::{ExecutorError, Launch},
};
use sea_orm::EntityTrait;

/// An executor that notes each launch (by event subject and id) and holds launches of subject `slow` until
/// the gate opens.
struct Gated {
    launched: Mutex<Vec<String>>,
    gate: Semaphore,
}

#[async_trait]
impl Executor for Gated {
    async fn launch(&self, launch: Launch) -> Result<(), ExecutorError> {
        let subject = launch.event.subject().unwrap_or_default().to_owned();
        if subject == "slow" {
            self.gate.acquire().await.expect("never closed").forget();
        }
        self.launched.lock().unwrap().push(format!("{subject}:{}", launch.event.id()));
        Ok(())
    }

    async fn cancel(&self, _: &str) -> Result<(), ExecutorError> {
        Ok(())
    }
}

/// Waits (up to 10 s) until `check` holds.
async fn eventually(check: impl Fn() -> bool) {
    for _ in 0..1000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("still not so after 10 s");
}

fn event(id: &str, subject: &str) -> cloudevents::Event {
    EventBuilderV10::new().id(id).source("/t").ty("t.happened").subject(subject).build().unwrap()
}

#[tokio::test]
async fn a_slow_launch_holds_up_its_own_key_only_and_each_key_keeps_its_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display())).await.unwrap();
    let manifest = r#"{"name": "svc", "type": "k8x_job", "trigger_events": ["t.happened"]}"#;
    let row = crate::executor::environment::tests::service_row();
    store.upsert_service(service::Model { name: "svc".into(), manifest: manifest.into(), ..row }).await.unwrap();
    let bus = Arc::new(EmbeddedBus::new(&store));
    let executor = Arc::new(Gated { launched: Mutex::default(), gate: Semaphore::new(0) });
    let shutdown = CancellationToken::new();
    let dispatcher = Dispatcher::new(store.clone(), bus.clone(), executor.clone());
    let running = tokio::spawn(dispatcher.run(shutdown.clone()));

    for (id, subject) in [("1", "slow"), ("2", "slow"), ("3", "fast"), ("4", "fast")] {
        bus.publish(&event(id, subject)).await.unwrap();
    }
    let launched = || executor.launched.lock().unwrap().clone();
    eventually(|| launched() == ["fast:3", "fast:4"]).await;
    // The slow key's second event waits behind its first, and nothing past the slow one is committed.
    tokio::time::sleep(COMMIT_EVERY * 4).await;
    assert_eq!(launched(), ["fast:3", "fast:4"]);
    let committed = || async {
        let row = crate::store::entities::bus_offset::Entity::find_by_id(GROUP.to_owned()).one(store.db()).await;
        row.unwrap().map_or(0, |r| r.next_offset)
    };
    let first = crate::store::entities::bus_record::Entity::find().one(store.db()).await.unwrap().unwrap().offset;
    assert!(committed().await <= first, "the group waits at the unfinished event");

    executor.gate.add_permits(2);
    eventually(|| launched().len() == 4).await;
    assert_eq!(launched()[2..], ["slow:1", "slow:2"], "one key, in bus order");
    let mut tries = 0;
    while committed().await != first + 4 {
        tries += 1;
        assert!(tries < 100, "everything is committed once handled");
        tokio::time::sleep(COMMIT_EVERY).await;
    }
    shutdown.cancel();
    running.await.unwrap();
}

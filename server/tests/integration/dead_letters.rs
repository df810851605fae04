//! Poison never stops the line: a record that is no CloudEvent, and one whose handling keeps failing, become
//! dead letters (reason and original record kept, listed for admins, replayable) and the events behind them run.
//! One suite, two buses: each case runs on the embedded bus and on Kafka (librdkafka's mock cluster), where the
//! record also goes to the dead-letter topic with its original bytes.

use std::time::Duration;

use cloudevents::{EventBuilder, EventBuilderV10};
use rdkafka::{
    consumer::{Consumer, StreamConsumer},
    message::{Header, Headers, OwnedHeaders},
    mocking::MockCluster,
    producer::{DefaultProducerContext, FutureProducer, FutureRecord},
    ClientConfig, Message,
};
use reqwest::StatusCode;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{json, Value};

use crate::helpers::{spawn, wait_until, Db, Setup, TestApp};

/// Which bus a case runs on.
enum Bus {
    Embedded,
    Kafka(MockCluster<'static, DefaultProducerContext>),
}

impl Bus {
    fn kafka() -> Self {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("k8x.events", 2, 1).unwrap();
        // The mock cluster cannot create topics through the admin API (a real broker does: `kafka_broker.rs`).
        cluster.create_topic("k8x.events.dead-letters", 1, 1).unwrap();
        Self::Kafka(cluster)
    }

    async fn k8x(&self, db: Db) -> TestApp {
        let kafka_brokers = match self {
            Self::Embedded => None,
            Self::Kafka(cluster) => Some(cluster.bootstrap_servers()),
        };
        spawn(Setup { db, kafka_brokers, ..Setup::default() }, tempfile::TempDir::new().unwrap()).await
    }

    /// Puts a record that is no CloudEvent (specversion 9.9) on the bus, as another writer might.
    async fn put_garbage(&self, app: &TestApp) {
        match self {
            Self::Embedded => {
                use backend::store::entities::bus_record;
                let garbage = bus_record::ActiveModel {
                    offset: Default::default(),
                    key: Set("k".into()),
                    event: Set(r#"{"specversion": "9.9", "id": 1}"#.into()),
                    stored_at: Set(chrono::Utc::now()),
                };
                bus_record::Entity::insert(garbage).exec_without_returning(app.state.store.db()).await.unwrap();
            }
            Self::Kafka(cluster) => {
                let producer: FutureProducer =
                    ClientConfig::new().set("bootstrap.servers", cluster.bootstrap_servers()).create().unwrap();
                let headers = OwnedHeaders::new()
                    .insert(Header { key: "ce_specversion", value: Some("9.9") })
                    .insert(Header { key: "ce_id", value: Some("garbage") });
                let record = FutureRecord::to("k8x.events").key("k").payload("\u{1}garbage\u{2}").headers(headers);
                producer.send(record, Duration::from_secs(10)).await.unwrap();
            }
        }
    }

    /// On Kafka, the records on the dead-letter topic as (headers, payload); `None` on the embedded bus.
    async fn dead_letter_topic(&self, count: usize) -> Option<Vec<(Vec<(String, String)>, Vec<u8>)>> {
        let Self::Kafka(cluster) = self else { return None };
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", cluster.bootstrap_servers())
            .set("group.id", format!("inspector-{}", uuid::Uuid::new_v4()))
            .set("auto.offset.reset", "earliest")
            .create()
            .unwrap();
        consumer.subscribe(&["k8x.events.dead-letters"]).unwrap();
        let mut records = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), async {
            while records.len() < count {
                let record = consumer.recv().await.unwrap();
                let headers = record
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|h| {
                                (h.key.to_owned(), String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                records.push((headers, record.payload().unwrap_or_default().to_vec()));
            }
        })
        .await
        .expect("the dead letters reach the dead-letter topic");
        Some(records)
    }
}

fn header<'a>(headers: &'a [(String, String)], key: &str) -> &'a str {
    headers.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {key} in {headers:?}"))
}

async fn dead_letters(app: &TestApp, count: usize) -> Vec<Value> {
    wait_until(|| async {
        let list: Vec<Value> =
            app.client.get(app.url("/api/v1/dead-letters")).send().await.unwrap().json().await.unwrap();
        (list.len() == count).then_some(list)
    })
    .await
}

async fn a_record_that_is_no_cloudevent_is_dead_lettered_and_the_next_event_runs(bus: Bus) {
    let app = bus.k8x(Db::Sqlite).await;
    bus.put_garbage(&app).await;
    assert_eq!(app.post_event("after-garbage", "t.quick", json!({})).await.status(), 202);
    assert_eq!(app.executions_of("after-garbage", 1).await[0].status, "succeeded", "the line moved on");
    let letters = dead_letters(&app, 1).await;
    assert!(letters[0]["reason"].as_str().unwrap().starts_with("not a CloudEvent"), "{}", letters[0]);
    let record = letters[0]["record"].as_str().unwrap();
    match &bus {
        Bus::Embedded => assert_eq!(record, r#"{"specversion": "9.9", "id": 1}"#, "the original record is kept"),
        Bus::Kafka(_) => {
            let record: Value = serde_json::from_str(record).unwrap();
            assert_eq!(record["headers"]["ce_specversion"], "9.9", "the original headers are kept: {record}");
        }
    }
    if let Some(topic) = bus.dead_letter_topic(1).await {
        let (headers, payload) = &topic[0];
        assert_eq!(payload, "\u{1}garbage\u{2}".as_bytes(), "the original bytes");
        assert_eq!(header(headers, "ce_specversion"), "9.9", "the original headers");
        assert!(header(headers, "k8x-dead-letter-reason").starts_with("not a CloudEvent"));
        assert_eq!(header(headers, "k8x-dead-letter-topic"), "k8x.events");
        assert_eq!(header(headers, "k8x-dead-letter-group"), backend::dispatcher::GROUP);
        header(headers, "k8x-dead-letter-offset").parse::<i64>().unwrap();
    }
    let id = letters[0]["id"].as_i64().unwrap();
    let replay = app.client.post(app.url(&format!("/api/v1/dead-letters/{id}/replay"))).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::CONFLICT, "what is no CloudEvent cannot be replayed");
    let (viewer, _) = app.signed_in(backend::access::Role::Viewer).await;
    assert_eq!(viewer.get(app.url("/api/v1/dead-letters")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let ready = app.anonymous.get(app.url("/ready")).send().await.unwrap();
    assert_eq!((ready.status(), ready.text().await.unwrap()), (StatusCode::OK, "ready".to_owned()));
}

async fn an_event_postgres_refuses_is_dead_lettered_after_bounded_attempts_and_can_be_replayed(bus: Bus) {
    let db = crate::postgres::TestDatabase::create().await;
    let app = bus.k8x(Db::Url(db.url.clone())).await;
    // Ingest refuses a NUL now; an older k8x or another Kafka client may still have put one on the bus.
    let poison = EventBuilderV10::new().id("nul\u{0}id").source("/tests").ty("t.quick").build().unwrap();
    app.state.bus.publish(&poison).await.unwrap();
    assert_eq!(app.post_event("after-poison", "t.quick", json!({})).await.status(), 202);
    assert_eq!(app.executions_of("after-poison", 1).await[0].status, "succeeded", "the line moved on");
    let letters = dead_letters(&app, 1).await;
    assert_eq!(letters[0]["attempts"], backend::dispatcher::MAX_ATTEMPTS);
    assert_eq!(letters[0]["event_type"], "t.quick");
    assert!(letters[0]["record"].as_str().unwrap().contains(r"nul\u0000id"), "the record is kept as it was");
    if let Some(topic) = bus.dead_letter_topic(1).await {
        let (headers, _) = &topic[0];
        assert_eq!(header(headers, "ce_id"), "nul\u{0}id", "the original id, NUL and all");
        assert_eq!(header(headers, "k8x-dead-letter-attempts"), backend::dispatcher::MAX_ATTEMPTS.to_string());
    }
    let id = letters[0]["id"].as_i64().unwrap();
    let replay = app.client.post(app.url(&format!("/api/v1/dead-letters/{id}/replay"))).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::ACCEPTED);
    // Still poison: it comes back as a second dead letter, and the first says it was replayed.
    let letters = dead_letters(&app, 2).await;
    assert!(letters.iter().any(|l| l["id"] == id && l["replayed_at"].is_string()));
    drop(app);
    db.drop().await;
}

/// Runs each case on both buses.
macro_rules! on_both_buses {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test] async fn $case() { super::$case(super::Bus::Embedded).await })*
        }
        mod kafka {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(super::Bus::kafka()).await })*
        }
    };
}

on_both_buses!(
    a_record_that_is_no_cloudevent_is_dead_lettered_and_the_next_event_runs,
    an_event_postgres_refuses_is_dead_lettered_after_bounded_attempts_and_can_be_replayed,
);

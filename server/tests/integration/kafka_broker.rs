//! The Kafka bus against a real Apache Kafka broker: the topic and its dead-letter topic made at start, events round-tripping with their
//! headers, events produced by another Kafka client in the CloudEvents binary binding dispatched, and a broker
//! that goes away: ingest answers 503 with Retry-After within the publish timeout, never 202, and everything
//! resumes by itself when the broker is back.

use std::time::{Duration, Instant};

use rdkafka::{
    consumer::{Consumer, StreamConsumer},
    message::{Header, Headers, OwnedHeaders},
    producer::{FutureProducer, FutureRecord},
    ClientConfig, Message,
};
use serde_json::json;

use crate::{
    broker::Broker,
    helpers::{config, spawn_config, Setup},
};

async fn k8x_on(broker: &Broker) -> crate::helpers::TestApp {
    let dir = tempfile::TempDir::new().unwrap();
    let mut config = config(Setup { kafka_brokers: Some(broker.bootstrap()), ..Setup::default() }, dir.path());
    config.kafka_topic = "k8x.real".into();
    config.kafka_partitions = 3;
    spawn_config(config, dir).await
}

#[tokio::test]
async fn on_a_real_broker_the_topic_is_made_and_events_from_any_client_run_once() {
    let broker = Broker::start().await;
    let app = k8x_on(&broker).await;
    // The topic did not exist: k8x made it, with the partitions it was told.
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", "inspector")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    let metadata = consumer.fetch_metadata(Some("k8x.real"), Duration::from_secs(10)).unwrap();
    assert_eq!(metadata.topics()[0].partitions().len(), 3);
    // And its dead-letter topic.
    let metadata = consumer.fetch_metadata(Some("k8x.real.dead-letters"), Duration::from_secs(10)).unwrap();
    assert!(metadata.topics()[0].error().is_none(), "the dead-letter topic exists");

    assert_eq!(app.post_event("real-1", "t.quick", json!({"via": "kafka"})).await.status(), 202);
    let run = app.executions_of("real-1", 1).await.remove(0);
    assert!(app.log(&run.id).await.contains(&r#"params={"via":"kafka"}"#.to_owned()));

    // The record on the topic carries the CloudEvents binary-binding headers.
    consumer.subscribe(&["k8x.real"]).unwrap();
    // Three partitions: the completion event k8x published may come first; look for the one posted.
    let header_pairs = |record: &rdkafka::message::BorrowedMessage<'_>| -> Vec<(String, String)> {
        record
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| (h.key.to_owned(), String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (headers, payload) = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let record = consumer.recv().await.unwrap();
            let headers = header_pairs(&record);
            if headers.contains(&("ce_id".to_owned(), "real-1".to_owned())) {
                break (headers, record.payload().map(<[u8]>::to_vec));
            }
        }
    })
    .await
    .expect("the posted event is on the topic");
    for (key, value) in
        [("ce_id", "real-1"), ("ce_type", "t.quick"), ("ce_source", "/tests"), ("ce_specversion", "1.0")]
    {
        assert!(headers.contains(&(key.to_owned(), value.to_owned())), "{key} missing in {headers:?}");
    }
    assert_eq!(
        payload.map(|p| serde_json::from_slice::<serde_json::Value>(&p).unwrap()),
        Some(json!({"via": "kafka"}))
    );

    // Another client, producing the binding by hand.
    let producer: FutureProducer = ClientConfig::new().set("bootstrap.servers", broker.bootstrap()).create().unwrap();
    let headers = OwnedHeaders::new()
        .insert(Header { key: "ce_specversion", value: Some("1.0") })
        .insert(Header { key: "ce_id", value: Some("foreign-1") })
        .insert(Header { key: "ce_source", value: Some("/tests") })
        .insert(Header { key: "ce_type", value: Some("t.quick") })
        .insert(Header { key: "content-type", value: Some("application/json") });
    let message = FutureRecord::to("k8x.real").key("k").payload(r#"{"from": "elsewhere"}"#).headers(headers);
    producer.send(message, Duration::from_secs(10)).await.unwrap();
    let run = app.executions_of("foreign-1", 1).await.remove(0);
    assert!(app.log(&run.id).await.contains(&r#"params={"from":"elsewhere"}"#.to_owned()));

    // A second k8x on a SQLite file of its own would share the group without sharing the deduplication.
    let dir = tempfile::TempDir::new().unwrap();
    let mut other = config(Setup { kafka_brokers: Some(broker.bootstrap()), ..Setup::default() }, dir.path());
    other.kafka_topic = "k8x.real".into();
    let refused = server::Application::build(other, tokio_util::sync::CancellationToken::new()).await;
    let err = format!("{:#}", refused.err().expect("refused"));
    assert!(err.contains("must share one database"), "{err}");
}

#[tokio::test]
async fn a_broker_that_goes_away_gets_503s_and_everything_resumes_when_it_is_back() {
    let broker = Broker::start().await;
    let app = k8x_on(&broker).await;
    assert_eq!(app.post_event("before", "t.quick", json!({})).await.status(), 202);
    app.executions_of("before", 1).await;

    broker.stop().await;
    let patient = crate::helpers::client_builder().timeout(Duration::from_secs(60)).build().unwrap();
    let started = Instant::now();
    let refused = crate::helpers::event_to(&patient, &app.url(""), "during", "t.quick").send().await.unwrap();
    let waited = started.elapsed();
    assert_eq!(refused.status(), 503, "never 202 while the broker is away");
    assert!(refused.headers().contains_key("retry-after"));
    // The publish timeout (5 s), with room for a busy machine: seconds, not minutes.
    assert!(waited <= Duration::from_secs(20), "answered within the publish timeout, not {waited:?}");
    eprintln!("503 after {waited:?} with the broker away");

    broker.start_again().await;
    // Ingest and dispatch come back by themselves (the client retries as Retry-After says).
    let accepted = crate::helpers::wait_until(|| async {
        let response = app.post_event("after", "t.quick", json!({})).await;
        (response.status() == 202).then_some(())
    })
    .await;
    let _ = accepted;
    assert_eq!(app.executions_of("after", 1).await[0].status, "succeeded");
}

//! The Kafka bus: one topic, events in the CloudEvents Kafka protocol binding (binary mode, `ce_` headers),
//! keyed by [`super::ordering_key`]. The producer waits for all in-sync replicas (`acks=all`, idempotent), so
//! `publish` returns only once the broker has the event. Consumers commit by hand, after the work is durable.
//!
//! Records given up on go to a dead-letter topic (`<topic>.dead-letters` unless configured) as they came — key,
//! headers, payload — with `k8x-dead-letter-*` headers saying why, where from and after how many attempts.

use std::time::Duration;

use async_trait::async_trait;
use cloudevents::{
    binding::rdkafka::{FutureRecordExt, MessageExt, MessageRecord},
    Event,
};
use rdkafka::{
    consumer::{CommitMode, Consumer, StreamConsumer},
    error::{KafkaError, RDKafkaErrorCode},
    message::{Header, Headers, OwnedHeaders, OwnedMessage},
    producer::{FutureProducer, FutureRecord},
    util::Timeout,
    ClientConfig, Message, Offset, TopicPartitionList,
};

use super::{Bus, BusError, Delivery, Position, Record, Result, Subscription, Verdict};

/// How long a publish may wait for the broker before it is reported as failed (ingest then answers 503 with
/// Retry-After): the bound on how long a client waits while the broker is away.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// The bus on a Kafka cluster.
pub struct KafkaBus {
    /// Bootstrap servers, for the consumers this bus creates.
    brokers: String,
    /// The topic that carries events.
    topic: String,
    /// The topic records given up on go to.
    dead_letter_topic: String,
    /// The `client.id` of this bus's consumers: names the database they deduplicate with.
    client_id: String,
    /// One producer for the process: it is thread-safe and batches internally.
    producer: FutureProducer,
}

impl KafkaBus {
    /// Connects a producer and makes sure the topic and the dead-letter topic exist: created with `partitions`
    /// (and the cluster's default replication) when the cluster does not have them.
    pub async fn connect(brokers: &str, topic: &str, dead_letter_topic: Option<&str>, partitions: i32) -> Result<Self> {
        let mut bus = Self::new(brokers, topic)?;
        if let Some(dead_letter_topic) = dead_letter_topic {
            bus.dead_letter_topic = dead_letter_topic.to_owned();
        }
        if bus.dead_letter_topic == bus.topic {
            // Every dead letter would come back as a new record to give up on, for ever.
            return Err(BusError::Topic(format!("the dead-letter topic must not be the events topic `{topic}`")));
        }
        bus.ensure_topic(&bus.topic, partitions).await?;
        bus.ensure_topic(&bus.dead_letter_topic, partitions).await?;
        Ok(bus)
    }

    async fn ensure_topic(&self, name: &str, partitions: i32) -> Result<()> {
        use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
        // No auto-creation by the metadata request itself: on a broker that allows it, it would make the topic
        // with the broker's partition count instead of ours.
        let admin: AdminClient<_> = ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .set("allow.auto.create.topics", "false")
            .create()?;
        let admin = std::sync::Arc::new(admin);
        let (lookup, topic) = (admin.clone(), name.to_owned());
        let known = tokio::task::spawn_blocking(move || {
            let metadata = lookup.inner().fetch_metadata(Some(&topic), Timeout::After(PUBLISH_TIMEOUT))?;
            Ok::<_, rdkafka::error::KafkaError>(
                metadata.topics().iter().any(|t| t.name() == topic && t.error().is_none()),
            )
        })
        .await
        .map_err(|e| BusError::Topic(format!("looking up the topic: {e}")))??;
        if known {
            return Ok(());
        }
        // Replication -1: the cluster's `default.replication.factor`.
        let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(-1));
        let options = AdminOptions::new().operation_timeout(Some(PUBLISH_TIMEOUT));
        for result in admin.create_topics([&topic], &options).await? {
            match result {
                Ok(_) => tracing::info!(topic = %name, partitions, "created the Kafka topic"),
                Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => return Err(BusError::Topic(format!("creating topic `{name}`: {code}"))),
            }
        }
        Ok(())
    }

    /// The same bus, its consumers identifying as `client_id` (which database they deduplicate with).
    pub fn identified_as(self, client_id: impl Into<String>) -> Self {
        Self { client_id: client_id.into(), ..self }
    }

    /// The `client.id`s of consumer group `group`'s members other than this bus's own kind (a member left by
    /// an earlier run of this same k8x, not yet timed out, is not counted).
    pub async fn other_members(&self, group: &str) -> Result<Vec<String>> {
        let (brokers, group, own) = (self.brokers.clone(), group.to_owned(), self.client_id.clone());
        tokio::task::spawn_blocking(move || {
            let probe: rdkafka::consumer::BaseConsumer =
                ClientConfig::new().set("bootstrap.servers", &brokers).create()?;
            let groups = probe.fetch_group_list(Some(&group), Timeout::After(Duration::from_secs(2)))?;
            Ok(groups
                .groups()
                .iter()
                .filter(|g| g.name() == group)
                .flat_map(|g| g.members().iter().map(|m| m.client_id().to_owned()))
                .filter(|client| *client != own)
                .collect())
        })
        .await
        .map_err(|e| BusError::Task(e.to_string()))?
    }

    /// Connects a producer; the topic must exist (and `<topic>.dead-letters`, for a record given up on).
    pub fn new(brokers: &str, topic: &str) -> Result<Self> {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", PUBLISH_TIMEOUT.as_millis().to_string())
            .create()?;
        Ok(Self {
            brokers: brokers.to_owned(),
            topic: topic.to_owned(),
            dead_letter_topic: format!("{topic}.dead-letters"),
            client_id: "k8x".to_owned(),
            producer,
        })
    }
}

#[async_trait]
impl Bus for KafkaBus {
    async fn publish(&self, event: &Event) -> Result<()> {
        let key = super::ordering_key(event);
        let record = MessageRecord::from_event(event.clone()).map_err(|e| BusError::Encode(e.to_string()))?;
        let message = FutureRecord::<String, Vec<u8>>::to(&self.topic).key(&key).message_record(&record);
        self.producer.send(message, Timeout::After(PUBLISH_TIMEOUT)).await.map_err(|(err, _)| err)?;
        Ok(())
    }

    /// Enqueued one after another, in order (the idempotent producer keeps a partition's order, retries
    /// included), then every acknowledgement awaited; the first error is the answer. A full producer queue is
    /// waited out (for at most [`PUBLISH_TIMEOUT`]) without letting a later event overtake.
    async fn publish_all(&self, events: &[Event]) -> Result<()> {
        let deadline = tokio::time::Instant::now() + PUBLISH_TIMEOUT;
        let mut acknowledgements = Vec::with_capacity(events.len());
        for event in events {
            let key = super::ordering_key(event);
            let record = MessageRecord::from_event(event.clone()).map_err(|e| BusError::Encode(e.to_string()))?;
            let mut message = FutureRecord::<String, Vec<u8>>::to(&self.topic).key(&key).message_record(&record);
            loop {
                match self.producer.send_result(message) {
                    Ok(acknowledgement) => break acknowledgements.push(acknowledgement),
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                        if tokio::time::Instant::now() < deadline =>
                    {
                        message = back;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err((err, _)) => return Err(err.into()),
                }
            }
        }
        for acknowledgement in acknowledgements {
            match acknowledgement.await {
                Ok(Ok(_)) => {}
                Ok(Err((err, _))) => return Err(err.into()),
                Err(_) => return Err(BusError::Topic("the producer went away before acknowledging".into())),
            }
        }
        Ok(())
    }

    async fn subscribe(&self, group: &str) -> Result<Box<dyn Subscription>> {
        let mut config = ClientConfig::new();
        if self.client_id != "k8x" {
            // Static membership: a k8x restarted with the same name takes its partitions back at once instead of
            // waiting for a rebalance after its old session times out.
            config.set("group.instance.id", &self.client_id);
        }
        let consumer: StreamConsumer = config
            .set("bootstrap.servers", &self.brokers)
            .set("group.id", group)
            .set("client.id", &self.client_id)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            // A replica that dies without leaving the group hands its partitions on after 10 s (Kafka's
            // default is 45 s): events of a crashed replica wait less.
            .set("session.timeout.ms", "10000")
            .create()?;
        consumer.subscribe(&[&self.topic])?;
        Ok(Box::new(KafkaSubscription { consumer, topic: self.topic.clone() }))
    }

    async fn dead_letter(&self, delivery: &Delivery, verdict: Verdict<'_>) -> Result<()> {
        let original = delivery.record.clone().unwrap_or_default();
        let mut headers = OwnedHeaders::new_with_capacity(original.headers.len() + 6);
        // A record dead-lettered before (and put back by hand) gets this verdict only, not two.
        for (key, value) in original.headers.iter().filter(|(key, _)| !key.starts_with("k8x-dead-letter-")) {
            headers = headers.insert(Header { key, value: value.as_deref() });
        }
        let (partition, offset, attempts) = (
            delivery.position.partition.to_string(),
            delivery.position.offset.to_string(),
            verdict.attempts.to_string(),
        );
        for (key, value) in [
            ("k8x-dead-letter-reason", verdict.reason),
            ("k8x-dead-letter-group", verdict.group),
            ("k8x-dead-letter-topic", &self.topic),
            ("k8x-dead-letter-partition", &partition),
            ("k8x-dead-letter-offset", &offset),
            ("k8x-dead-letter-attempts", &attempts),
        ] {
            headers = headers.insert(Header { key, value: Some(value) });
        }
        let mut message = FutureRecord::<[u8], [u8]>::to(&self.dead_letter_topic).headers(headers);
        if let Some(key) = &original.key {
            message = message.key(key);
        }
        if let Some(payload) = &original.payload {
            message = message.payload(payload);
        }
        self.producer.send(message, Timeout::After(PUBLISH_TIMEOUT)).await.map_err(|(err, _)| err)?;
        Ok(())
    }
}

/// One member of a consumer group.
struct KafkaSubscription {
    consumer: StreamConsumer,
    topic: String,
}

#[async_trait]
impl Subscription for KafkaSubscription {
    async fn next(&mut self) -> Result<Delivery> {
        let message = self.consumer.recv().await?;
        let position = Position { partition: message.partition(), offset: message.offset() };
        // rdkafka panics on a header name that is not UTF-8: such a record is refused, not a crash.
        let headers = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            message
                .headers()
                .map(|h| h.iter().map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec))).collect::<Vec<_>>())
                .unwrap_or_default()
        }));
        let record = Record {
            key: message.key().map(<[u8]>::to_vec),
            headers: headers.as_ref().cloned().unwrap_or_default(),
            payload: message.payload().map(<[u8]>::to_vec),
        };
        let event = match headers {
            Ok(_) => decode(&record),
            Err(_) => Err("a header name is not UTF-8".to_owned()),
        };
        let origin = self.topic.clone();
        Ok(Delivery { origin, position, event, raw: raw(&record), record: Some(record) })
    }

    async fn commit(&mut self, delivery: &Delivery) -> Result<()> {
        let mut offsets = TopicPartitionList::new();
        offsets.add_partition_offset(
            &self.topic,
            delivery.position.partition,
            Offset::Offset(delivery.position.offset + 1),
        )?;
        self.consumer.commit(&offsets, CommitMode::Sync)?;
        Ok(())
    }
}

/// A record as JSON: its key, headers (text, or base64 where not UTF-8) and payload (base64).
fn raw(record: &Record) -> String {
    use base64::{engine::general_purpose::STANDARD, Engine};
    let bytes = |b: &[u8]| match std::str::from_utf8(b) {
        Ok(text) => serde_json::Value::String(text.to_owned()),
        Err(_) => serde_json::json!({ "base64": STANDARD.encode(b) }),
    };
    let headers: serde_json::Map<String, serde_json::Value> = record
        .headers
        .iter()
        .map(|(key, value)| (key.clone(), value.as_deref().map(bytes).unwrap_or_default()))
        .collect();
    serde_json::json!({
        "key": record.key.as_deref().map(bytes),
        "headers": headers,
        "payload_base64": record.payload.as_deref().map(|p| STANDARD.encode(p)),
    })
    .to_string()
}

/// Decodes a record in the CloudEvents Kafka binding; a header without a value is refused here because the SDK's
/// binding panics on one.
pub(crate) fn decode(record: &Record) -> std::result::Result<Event, String> {
    if let Some((key, _)) = record.headers.iter().find(|(_, value)| value.is_none()) {
        return Err(format!("header `{key}` has no value"));
    }
    // The SDK's structured mode unwraps the payload: a structured record without one is refused here.
    let structured = record.headers.iter().any(|(key, value)| {
        key.eq_ignore_ascii_case("content-type")
            && value.as_deref().is_some_and(|v| v.to_ascii_lowercase().starts_with(b"application/cloudevents"))
    });
    if structured && record.payload.is_none() {
        return Err("a structured-mode record without a payload".to_owned());
    }
    let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
    for (key, value) in &record.headers {
        headers = headers.insert(Header { key, value: value.as_deref() });
    }
    let message = OwnedMessage::new(
        record.payload.clone(),
        record.key.clone(),
        String::new(),
        rdkafka::Timestamp::NotAvailable,
        0,
        0,
        Some(headers),
    );
    message.to_event().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use cloudevents::{AttributesReader, EventBuilder, EventBuilderV10};
    use rdkafka::mocking::MockCluster;

    use super::*;

    #[tokio::test]
    async fn events_round_trip_and_uncommitted_ones_come_back() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("k8x.events", 1, 1).unwrap();
        let bus = KafkaBus::new(&cluster.bootstrap_servers(), "k8x.events").unwrap();
        for id in ["one", "two"] {
            let event = EventBuilderV10::new()
                .id(id)
                .source("test")
                .ty("t.happened")
                .data("application/json", serde_json::json!({"n": 1}))
                .build()
                .unwrap();
            bus.publish(&event).await.unwrap();
        }
        {
            let mut sub = bus.subscribe("g").await.unwrap();
            let first = sub.next().await.unwrap();
            let event = first.event.as_ref().unwrap();
            assert_eq!(event.id(), "one");
            assert_eq!(event.ty(), "t.happened");
            sub.commit(&first).await.unwrap();
            assert_eq!(sub.next().await.unwrap().event.unwrap().id(), "two");
        }
        let mut again = bus.subscribe("g").await.unwrap();
        assert_eq!(again.next().await.unwrap().event.unwrap().id(), "two");
    }

    #[tokio::test]
    async fn a_batch_arrives_whole_and_in_order() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("k8x.events", 3, 1).unwrap();
        let bus = KafkaBus::new(&cluster.bootstrap_servers(), "k8x.events").unwrap();
        let events: Vec<Event> = (0..500)
            .map(|n| EventBuilderV10::new().id(n.to_string()).source("one-key").ty("t.happened").build().unwrap())
            .collect();
        bus.publish_all(&events).await.unwrap();
        let mut sub = bus.subscribe("g").await.unwrap();
        for n in 0..500 {
            assert_eq!(sub.next().await.unwrap().event.unwrap().id(), n.to_string(), "one key, in order");
        }
    }
}

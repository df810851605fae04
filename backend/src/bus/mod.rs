//! The bus: where accepted events wait for the dispatcher.
//!
//! [`Bus`] is the seam between ingest and dispatch. [`EmbeddedBus`] keeps events in the database (the default
//! for one machine); [`KafkaBus`] puts them on a Kafka topic in the CloudEvents Kafka binding. Both give
//! at-least-once delivery: a consumer sees every event until it commits past it.

mod embedded;
mod kafka;

use async_trait::async_trait;
use cloudevents::{AttributesReader, Event};

pub use embedded::EmbeddedBus;
#[cfg(test)]
pub(crate) use kafka::decode as decode_kafka_record;
pub use kafka::KafkaBus;

/// A bus operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("embedded bus: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("event could not be encoded: {0}")]
    Encode(String),
    #[error("kafka: {0}")]
    Topic(String),
    #[error("the publishing task failed: {0}")]
    Task(String),
}

pub type Result<T, E = BusError> = std::result::Result<T, E>;

/// Where a delivery sits in the bus, so that it can be committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub partition: i32,
    pub offset: i64,
}

/// One event handed to a consumer. `event` is an error when the stored record cannot be decoded: the
/// consumer dead-letters it and commits past it, since no retry can ever decode it.
#[derive(Debug)]
pub struct Delivery {
    /// Which log it came from (`embedded`, or the Kafka topic): with `position`, names the record.
    pub origin: String,
    pub position: Position,
    pub event: std::result::Result<Event, String>,
    /// The record as it sat on the bus (the stored JSON, or Kafka headers and payload as JSON), for a dead letter.
    pub raw: String,
    /// The record's own bytes where the bus keeps its dead letters apart (Kafka's dead-letter topic).
    pub record: Option<Record>,
}

/// A Kafka record's bytes, exactly as they came.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub key: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    pub payload: Option<Vec<u8>>,
}

/// Why a record became a dead letter, told to the bus along with it.
#[derive(Debug, Clone, Copy)]
pub struct Verdict<'a> {
    /// The consumer group that gave up.
    pub group: &'a str,
    /// What went wrong.
    pub reason: &'a str,
    /// How often handling was tried.
    pub attempts: u32,
}

/// A durable event log with consumer groups.
#[async_trait]
pub trait Bus: Send + Sync {
    /// Stores the event; returns only once it would survive a crash of this process.
    async fn publish(&self, event: &Event) -> Result<()>;

    /// Stores every event (a batch); returns once all would survive a crash. On an error some may be stored,
    /// unless the bus says otherwise; a retry is safe, as consumers tell events apart by source and id.
    async fn publish_all(&self, events: &[Event]) -> Result<()> {
        for event in events {
            self.publish(event).await?;
        }
        Ok(())
    }

    /// Joins a consumer group; delivery resumes after the group's last commit.
    async fn subscribe(&self, group: &str) -> Result<Box<dyn Subscription>>;

    /// Puts a record given up on where this bus keeps dead letters, with its original bytes; returns once it
    /// is durable there. A bus without a place of its own (the embedded one: its dead letters are the
    /// database's table, which the dispatcher writes either way) has nothing to do.
    async fn dead_letter(&self, _delivery: &Delivery, _verdict: Verdict<'_>) -> Result<()> {
        Ok(())
    }
}

/// A consumer's view of the bus.
#[async_trait]
pub trait Subscription: Send {
    /// The next event, waiting until there is one.
    async fn next(&mut self) -> Result<Delivery>;

    /// Marks this delivery, and everything before it, as done for the group.
    async fn commit(&mut self, delivery: &Delivery) -> Result<()>;

    /// Leaves the group cleanly (a stop), so that another consumer takes over at once.
    async fn close(&mut self) {}
}

/// The ordering key of an event: its subject, else its source, so that one subject stays in order.
pub fn ordering_key(event: &Event) -> String {
    event.subject().map(str::to_owned).unwrap_or_else(|| event.source().to_string())
}

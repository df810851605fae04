//! The embedded bus: an append-only table of events plus one committed offset per consumer group.
//!
//! Publishing is one INSERT, so an event is durable as soon as `publish` returns. Consumers read in offset
//! order; a publish in this process wakes them at once, and they also poll so that events published by
//! another process on the same database are found too.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::Utc;
use cloudevents::Event;
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use tokio::sync::Notify;

use super::{Bus, BusError, Delivery, Position, Result, Subscription};
use crate::store::entities::{bus_offset, bus_record};

/// The PostgreSQL advisory lock key that orders publishers ("k8xbus").
const PUBLISH_LOCK: i64 = 0x6b38_7862_7573;

/// How many records a consumer fetches at a time.
const BATCH: u64 = 100;

/// The bus on the k8x database.
#[derive(Clone)]
pub struct EmbeddedBus {
    /// The database holding `bus_records` and `bus_offsets`.
    db: DatabaseConnection,
    /// Wakes this process's consumers when this process publishes.
    published: Arc<Notify>,
    /// How often consumers look for events published by other processes.
    poll: Duration,
}

impl EmbeddedBus {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db, published: Arc::new(Notify::new()), poll: Duration::from_millis(500) }
    }
}

#[async_trait]
impl Bus for EmbeddedBus {
    async fn publish(&self, event: &Event) -> Result<()> {
        let json = serde_json::to_string(event).map_err(|e| BusError::Encode(e.to_string()))?;
        let record = bus_record::ActiveModel {
            key: Set(super::ordering_key(event)),
            event: Set(json),
            stored_at: Set(Utc::now()),
            ..Default::default()
        };
        // The transaction runs on a task of its own: a caller that goes away (an HTTP client that hung up)
        // drops only the wait, never a transaction half-way, which could leave a pooled connection idle in a
        // transaction holding the publish lock.
        let (db, published) = (self.db.clone(), self.published.clone());
        let stored = tokio::spawn(async move {
            append(&db, record).await?;
            published.notify_waiters();
            Ok::<_, BusError>(())
        });
        stored.await.map_err(|e| BusError::Task(e.to_string()))?
    }

    async fn subscribe(&self, group: &str) -> Result<Box<dyn Subscription>> {
        let next =
            bus_offset::Entity::find_by_id(group.to_owned()).one(&self.db).await?.map_or(0, |row| row.next_offset);
        Ok(Box::new(EmbeddedSubscription { bus: self.clone(), group: group.to_owned(), next, buffer: VecDeque::new() }))
    }
}

/// Appends one record. Consumers read in offset order and never look back, so an offset must not become visible
/// after a higher one. SQLite has one writer at a time; on PostgreSQL a transaction-scoped advisory lock makes
/// publishers take offsets and commit one after another.
async fn append(db: &DatabaseConnection, record: bus_record::ActiveModel) -> Result<()> {
    let txn = db.begin().await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PUBLISH_LOCK})")).await?;
    }
    bus_record::Entity::insert(record).exec_without_returning(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// One consumer of a group.
struct EmbeddedSubscription {
    bus: EmbeddedBus,
    group: String,
    /// The first offset not yet fetched into `buffer`.
    next: i64,
    /// Fetched records not yet handed out.
    buffer: VecDeque<bus_record::Model>,
}

#[async_trait]
impl Subscription for EmbeddedSubscription {
    async fn next(&mut self) -> Result<Delivery> {
        loop {
            if let Some(record) = self.buffer.pop_front() {
                let event = serde_json::from_str::<Event>(&record.event).map_err(|e| e.to_string());
                let position = Position { partition: 0, offset: record.offset };
                return Ok(Delivery { position, event, raw: record.event, record: None });
            }
            // Register for the wake-up before looking, so a publish between the look and the wait is not missed.
            let published = self.bus.published.notified();
            tokio::pin!(published);
            published.as_mut().enable();
            let records = bus_record::Entity::find()
                .filter(bus_record::Column::Offset.gte(self.next))
                .order_by_asc(bus_record::Column::Offset)
                .limit(BATCH)
                .all(&self.bus.db)
                .await?;
            if let Some(last) = records.last() {
                self.next = last.offset + 1;
                self.buffer.extend(records);
                continue;
            }
            tokio::select! {
                _ = published => {}
                _ = tokio::time::sleep(self.bus.poll) => {}
            }
        }
    }

    async fn commit(&mut self, delivery: &Delivery) -> Result<()> {
        let row = bus_offset::ActiveModel {
            group_id: Set(self.group.clone()),
            next_offset: Set(delivery.position.offset + 1),
        };
        bus_offset::Entity::insert(row)
            .on_conflict(
                OnConflict::column(bus_offset::Column::GroupId)
                    .update_column(bus_offset::Column::NextOffset)
                    .to_owned(),
            )
            .exec_without_returning(&self.bus.db)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;

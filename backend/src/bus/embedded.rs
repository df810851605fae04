//! The embedded bus: an append-only table of events plus one committed offset per consumer group.
//!
//! Publishing appends to the table through the store's grouped writer ([`appender`]), which commits whatever
//! publishes (and, on SQLite, the store's other grouped writes) have queued up meanwhile in one transaction: an event is
//! durable as soon as `publish` returns, and a busy k8x pays one commit per batch, not per event. Consumers read
//! in offset order; a publish in this process wakes them at once, and they also poll so that events published by
//! another process on the same database are found too.
//!
//! Several processes on one database: one process at a time consumes for a group — it holds the group's lease
//! ([`GROUP_LEASE`], renewed every 3 s, also while an event is being handled) and the others wait; when it
//! stops, it lets go, and when it dies the lease runs out and another takes over from the committed offset. A
//! committed offset never moves backwards.

mod appender;

use std::{collections::VecDeque, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::Utc;
use cloudevents::Event;
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::Set,
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::task::AbortOnDropHandle;

use super::{Bus, BusError, Delivery, Position, Result, Subscription};
use crate::store::{
    entities::{bus_offset, bus_record},
    Store,
};

/// The PostgreSQL advisory lock key that orders publishers ("k8xbus").
const PUBLISH_LOCK: i64 = 0x6b38_7862_7573;

/// How many records a consumer fetches at a time.
const BATCH: u64 = 500;

/// How long a process holds a group without renewing.
pub const GROUP_LEASE: Duration = Duration::from_secs(15);
/// How often the holder renews (and how often a waiting process tries to take the group).
const RENEW_EVERY: Duration = Duration::from_secs(3);

/// The bus on the k8x database.
#[derive(Clone)]
pub struct EmbeddedBus {
    /// The database holding `bus_records` and `bus_offsets`.
    db: DatabaseConnection,
    /// Wakes this process's consumers when this process publishes.
    published: Arc<Notify>,
    /// How often consumers look for events published by other processes.
    poll: Duration,
    /// This process, as the holder of a group's lease.
    owner: String,
    /// This process's writer, which stores publishes in batches.
    appender: appender::Appender,
}

impl EmbeddedBus {
    /// The same bus, holding groups as `owner` (a k8x restarted with the same name takes its groups back at
    /// once; by default each bus is a new owner).
    pub fn owned_by(self, owner: &str) -> Self {
        Self { owner: owner.to_owned(), ..self }
    }

    /// The bus on `store`'s database, appending through its writer (so: within a Tokio runtime).
    pub fn new(store: &Store) -> Self {
        let owner = uuid::Uuid::new_v4().to_string();
        let published = Arc::new(Notify::new());
        let appender = appender::Appender::start(store.bus_writer().clone(), published.clone());
        Self { db: store.db().clone(), published, poll: Duration::from_millis(500), owner, appender }
    }
}

/// The stored form of an event.
fn record_of(event: &Event) -> Result<bus_record::ActiveModel> {
    let json = serde_json::to_string(event).map_err(|e| BusError::Encode(e.to_string()))?;
    Ok(bus_record::ActiveModel {
        key: Set(super::ordering_key(event)),
        event: Set(json),
        stored_at: Set(Utc::now()),
        ..Default::default()
    })
}

#[async_trait]
impl Bus for EmbeddedBus {
    async fn publish(&self, event: &Event) -> Result<()> {
        self.appender.append(vec![record_of(event)?]).await
    }

    /// All in one transaction: every event is stored, or none.
    async fn publish_all(&self, events: &[Event]) -> Result<()> {
        self.appender.append(events.iter().map(record_of).collect::<Result<_>>()?).await
    }

    async fn subscribe(&self, group: &str) -> Result<Box<dyn Subscription>> {
        // The group's row exists from now on, so that a lease can be taken on it.
        let row = bus_offset::ActiveModel {
            group_id: Set(group.to_owned()),
            next_offset: Set(0),
            owner: Set(None),
            lease_until: Set(None),
        };
        bus_offset::Entity::insert(row)
            .on_conflict(OnConflict::column(bus_offset::Column::GroupId).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .or_else(|err| if matches!(err, DbErr::RecordNotInserted) { Ok(0) } else { Err(err) })?;
        Ok(Box::new(EmbeddedSubscription {
            bus: self.clone(),
            group: group.to_owned(),
            next: 0,
            buffer: VecDeque::new(),
            held_until: None,
            keep_alive: None,
            fetching: None,
        }))
    }
}

/// One consumer of a group.
struct EmbeddedSubscription {
    bus: EmbeddedBus,
    group: String,
    /// The first offset not yet fetched into `buffer`.
    next: i64,
    /// Fetched records not yet handed out.
    buffer: VecDeque<bus_record::Model>,
    /// When this process's hold on the group must be renewed by (as this process's clock counts); `None`
    /// while it does not hold it.
    held_until: Option<Instant>,
    /// Renews the hold while an event is being handled (however long that takes), not only as events are read.
    keep_alive: Option<AbortOnDropHandle<()>>,
    /// The read under way, on a task of its own: a caller that stops waiting for [`Subscription::next`] (the
    /// dispatcher's `select!` does, each time something else happens first) leaves it running, and the next call
    /// takes its result — no query is abandoned half-way (which costs SQLite a connection each time).
    fetching: Option<AbortOnDropHandle<Result<Vec<bus_record::Model>>>>,
}

/// The records from offset `from` on (at most [`BATCH`]), once there are any: woken by this process's publishes,
/// and looking every `poll` for other processes'.
async fn fetch(bus: EmbeddedBus, from: i64) -> Result<Vec<bus_record::Model>> {
    loop {
        // Register for the wake-up before looking, so a publish between the look and the wait is not missed.
        let published = bus.published.notified();
        tokio::pin!(published);
        published.as_mut().enable();
        let records = bus_record::Entity::find()
            .filter(bus_record::Column::Offset.gte(from))
            .order_by_asc(bus_record::Column::Offset)
            .limit(BATCH)
            .all(&bus.db)
            .await?;
        if !records.is_empty() {
            return Ok(records);
        }
        tokio::select! {
            _ = published => {}
            _ = tokio::time::sleep(bus.poll) => {}
        }
    }
}

impl EmbeddedSubscription {
    /// Makes sure this process holds the group, renewing when due; waits while another process holds it.
    /// Taking the group (again) starts from its committed offset, since another holder may have moved it.
    async fn hold(&mut self) -> Result<()> {
        loop {
            if self.held_until.is_some_and(|until| until > Instant::now() + (GROUP_LEASE - RENEW_EVERY)) {
                return Ok(());
            }
            // A hold that ran out (renewals failed meanwhile) is lost: another process may have taken the group and
            // moved it on, so taking it again starts from the committed offset, not from what was read before.
            if self.held_until.is_some_and(|until| until <= Instant::now()) {
                self.held_until = None;
                self.forget_reads();
            }
            let now = Utc::now();
            let lease = chrono::Duration::from_std(GROUP_LEASE).expect("a short duration");
            let asked = Instant::now();
            let turn = crate::store::group_commit::lane(&self.bus.db).await;
            let taken = bus_offset::Entity::update_many()
                .col_expr(bus_offset::Column::Owner, Expr::value(self.bus.owner.clone()))
                .col_expr(bus_offset::Column::LeaseUntil, Expr::value(now + lease))
                .filter(bus_offset::Column::GroupId.eq(self.group.as_str()))
                .filter(
                    Condition::any()
                        .add(bus_offset::Column::Owner.is_null())
                        .add(bus_offset::Column::Owner.eq(self.bus.owner.as_str()))
                        .add(bus_offset::Column::LeaseUntil.lt(now)),
                )
                .exec(&self.bus.db)
                .await?;
            drop(turn);
            if taken.rows_affected == 1 {
                if self.held_until.is_none() {
                    let row = bus_offset::Entity::find_by_id(self.group.clone()).one(&self.bus.db).await?;
                    self.next = row.map_or(0, |r| r.next_offset);
                    self.forget_reads();
                    tracing::info!(group = %self.group, offset = self.next, "consuming the embedded bus for the group");
                    // (Replacing an earlier renewer stops it.)
                    self.keep_alive =
                        Some(AbortOnDropHandle::new(tokio::spawn(keep_alive(self.bus.clone(), self.group.clone()))));
                }
                self.held_until = Some(asked + GROUP_LEASE);
                return Ok(());
            }
            if self.held_until.take().is_some() {
                tracing::warn!(group = %self.group, "another process took over the group");
                self.forget_reads();
            }
            tokio::time::sleep(RENEW_EVERY).await;
        }
    }

    /// Drops what was read (and is being read) from where this process last was: the group starts again from its
    /// committed offset.
    fn forget_reads(&mut self) {
        self.buffer.clear();
        self.fetching = None;
    }
}

/// Renews this process's hold on `group` every [`RENEW_EVERY`] until it is lost (or the task is stopped).
async fn keep_alive(bus: EmbeddedBus, group: String) {
    let lease = chrono::Duration::from_std(GROUP_LEASE).expect("a short duration");
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let turn = crate::store::group_commit::lane(&bus.db).await;
        let renewed = bus_offset::Entity::update_many()
            .col_expr(bus_offset::Column::LeaseUntil, Expr::value(Utc::now() + lease))
            .filter(bus_offset::Column::GroupId.eq(group.as_str()))
            .filter(bus_offset::Column::Owner.eq(bus.owner.as_str()))
            .exec(&bus.db)
            .await;
        drop(turn);
        match renewed {
            Ok(done) if done.rows_affected == 0 => return,
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, %group, "could not renew the hold on the group"),
        }
    }
}

#[async_trait]
impl Subscription for EmbeddedSubscription {
    async fn next(&mut self) -> Result<Delivery> {
        loop {
            self.hold().await?;
            if let Some(record) = self.buffer.pop_front() {
                let event = serde_json::from_str::<Event>(&record.event).map_err(|e| e.to_string());
                let position = Position { partition: 0, offset: record.offset };
                let origin = "embedded".to_owned();
                return Ok(Delivery { origin, position, event, raw: record.event, record: None });
            }
            let from = self.next;
            let bus = self.bus.clone();
            let fetching = self.fetching.get_or_insert_with(|| AbortOnDropHandle::new(tokio::spawn(fetch(bus, from))));
            let read = fetching.await;
            self.fetching = None;
            let records = read.map_err(|err| BusError::Task(format!("reading the embedded bus: {err}")))??;
            if let Some(last) = records.last() {
                self.next = last.offset + 1;
                self.buffer.extend(records);
            }
        }
    }

    /// Moves the group's offset past `delivery`, never backwards (a process that lost the group late cannot
    /// undo what the next holder committed).
    async fn commit(&mut self, delivery: &Delivery) -> Result<()> {
        let next = delivery.position.offset + 1;
        let _turn = crate::store::group_commit::lane(&self.bus.db).await;
        bus_offset::Entity::update_many()
            .col_expr(bus_offset::Column::NextOffset, Expr::value(next))
            .filter(bus_offset::Column::GroupId.eq(self.group.as_str()))
            .filter(bus_offset::Column::NextOffset.lt(next))
            .exec(&self.bus.db)
            .await?;
        Ok(())
    }

    /// Lets go of the group, so that another process takes over at once.
    async fn close(&mut self) {
        let released = bus_offset::Entity::update_many()
            .col_expr(bus_offset::Column::Owner, Expr::value(Option::<String>::None))
            .col_expr(bus_offset::Column::LeaseUntil, Expr::value(Option::<chrono::DateTime<Utc>>::None))
            .filter(bus_offset::Column::GroupId.eq(self.group.as_str()))
            .filter(bus_offset::Column::Owner.eq(self.bus.owner.as_str()))
            .exec(&self.bus.db)
            .await;
        if let Err(err) = released {
            tracing::warn!(%err, group = %self.group, "could not let go of the group");
        }
        self.held_until = None;
        self.forget_reads();
        self.keep_alive = None;
    }
}

#[cfg(test)]
mod tests;

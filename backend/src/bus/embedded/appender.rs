//! Group commit: every publish of this process goes through one writer task, which stores whatever has queued
//! up meanwhile in one transaction (one fsync for many events) and answers each publisher once that transaction
//! has committed. Durability is unchanged — nobody hears "stored" before the commit — but a busy k8x pays one
//! commit per batch instead of one per event.
//!
//! The writer also keeps publishing from holding the pool: it uses one connection at a time, so however many
//! requests arrive, the dispatcher, the log writer and the pages still find connections free; and on PostgreSQL
//! only the writer waits on the advisory lock that orders publishers of every process.
//!
//! A caller that goes away (an HTTP client that hung up) drops only its wait; the batch it joined is written
//! or fails as a whole, never half-way.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, TransactionTrait};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

use super::PUBLISH_LOCK;
use crate::bus::{BusError, Result};
use crate::store::entities::bus_record;

/// The most records one transaction takes (SQLite allows 32,766 bound values; a record binds three).
const MAX_BATCH: usize = 2_000;
/// How many publish calls may wait for the writer before publishers wait to queue.
const QUEUE: usize = 8_192;

/// One publish call: its records (stored together) and where to answer.
struct Pending {
    records: Vec<bus_record::ActiveModel>,
    done: oneshot::Sender<std::result::Result<(), String>>,
}

/// The handle publishers use; the writer task runs until every handle is gone.
#[derive(Clone)]
pub(super) struct Appender {
    queue: mpsc::Sender<Pending>,
}

impl Appender {
    /// Starts the writer on `db`; it wakes `published` after each commit. Needs a Tokio runtime.
    pub(super) fn start(db: DatabaseConnection, published: Arc<Notify>) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(write(db, published, waiting));
        Self { queue }
    }

    /// Stores `records` in one transaction (with whatever else is waiting); returns once it has committed.
    pub(super) async fn append(&self, records: Vec<bus_record::ActiveModel>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Pending { records, done })
            .await
            .map_err(|_| BusError::Task("the bus writer has stopped".into()))?;
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(BusError::Task(why)),
            Err(_) => Err(BusError::Task("the bus writer stopped before storing the event".into())),
        }
    }
}

/// The writer: takes the first waiting call, everything else already queued (up to [`MAX_BATCH`] records),
/// stores them all in one transaction and answers each.
async fn write(db: DatabaseConnection, published: Arc<Notify>, mut waiting: mpsc::Receiver<Pending>) {
    while let Some(first) = waiting.recv().await {
        let mut batch = vec![first];
        let mut count = batch[0].records.len();
        while count < MAX_BATCH {
            match waiting.try_recv() {
                Ok(next) => {
                    count += next.records.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let mut records = Vec::with_capacity(count);
        let mut answers = Vec::with_capacity(batch.len());
        for pending in batch {
            records.extend(pending.records);
            answers.push(pending.done);
        }
        let stored = store(&db, records).await;
        if stored.is_ok() {
            published.notify_waiters();
        }
        let answer = stored.map_err(|err| err.to_string());
        if let Err(why) = &answer {
            tracing::error!(%why, events = count, "the embedded bus could not store a batch of events");
        }
        for done in answers {
            let _ = done.send(answer.clone());
        }
    }
}

/// Appends records in one transaction. Consumers read in offset order and never look back, so an offset must
/// not become visible after a higher one. SQLite has one writer at a time; on PostgreSQL a transaction-scoped
/// advisory lock makes the writers of several processes take offsets and commit one after another.
async fn store(db: &DatabaseConnection, records: Vec<bus_record::ActiveModel>) -> Result<()> {
    let txn = db.begin().await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PUBLISH_LOCK})")).await?;
    }
    // A batch larger than one statement may bind goes in several statements of the same transaction.
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let chunk: Vec<_> = records.by_ref().take(MAX_BATCH).collect();
        bus_record::Entity::insert_many(chunk).exec_without_returning(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}

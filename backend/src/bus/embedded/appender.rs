//! Publishing through group commit ([`crate::store::group_commit`]): every publish of this process goes through
//! one writer task, which stores whatever has queued up meanwhile in one transaction and answers each publisher
//! once it has committed. One publish call is one job: its events are stored together, or none of them.
//!
//! On PostgreSQL only the writer waits on the advisory lock that orders the publishers of every process, so
//! publishing never holds more than one pooled connection.

use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait};
use tokio::sync::Notify;

use super::PUBLISH_LOCK;
use crate::bus::Result;
use crate::store::entities::bus_record;
use crate::store::group_commit::{Batch, GroupCommit, Writer};

/// The most records one statement takes (SQLite allows 32,766 bound values; a record binds three).
const MAX_STATEMENT: usize = 2_000;

/// Appends records, in batches.
struct Records {
    /// Woken after each commit: consumers read on.
    published: Arc<Notify>,
}

#[async_trait]
impl Batch for Records {
    type Job = Vec<bus_record::ActiveModel>;
    type Done = ();
    const LIMIT: usize = MAX_STATEMENT;
    /// First in a shared transaction (SQLite's; on PostgreSQL appends have a writer of their own).
    const RANK: u8 = 0;

    fn weight(job: &Self::Job) -> usize {
        job.len()
    }

    /// Consumers read in offset order and never look back, so an offset must not become visible after a higher
    /// one. SQLite has one writer at a time; on PostgreSQL a transaction-scoped advisory lock makes the writers
    /// of several processes take offsets and commit one after another.
    async fn write(&self, txn: &DatabaseTransaction, jobs: &[Self::Job]) -> std::result::Result<Vec<()>, DbErr> {
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PUBLISH_LOCK})")).await?;
        }
        let mut records = jobs.iter().flatten().cloned().peekable();
        while records.peek().is_some() {
            let chunk: Vec<_> = records.by_ref().take(MAX_STATEMENT).collect();
            bus_record::Entity::insert_many(chunk).exec_without_returning(txn).await?;
        }
        Ok(vec![(); jobs.len()])
    }

    fn committed(&self) {
        self.published.notify_waiters();
    }
}

/// The handle publishers use.
#[derive(Clone)]
pub(super) struct Appender(GroupCommit<Records>);

impl Appender {
    /// Appends through `writer`, waking `published` after each commit.
    pub(super) fn start(writer: Writer, published: Arc<Notify>) -> Self {
        Self(GroupCommit::on(writer, Records { published }))
    }

    /// Stores `records` in one transaction (with whatever else is waiting); returns once it has committed.
    pub(super) async fn append(&self, records: Vec<bus_record::ActiveModel>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        Ok(self.0.write(records).await?)
    }
}

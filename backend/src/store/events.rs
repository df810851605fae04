//! Events the dispatcher has seen, recorded together with the executions they cause: one job of group commit
//! ([`super::group_commit`]) per event, so that a busy dispatcher pays one commit for many events.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryTrait,
};

use super::{
    entities::{event, execution},
    group_commit::{Batch, GroupCommit},
    NewExecution, Result, Store, StoreError,
};

/// Rows per statement: an execution binds 26 values, and SQLite allows 32,766 in one statement.
const MAX_STATEMENT: usize = 500;

/// One event and its executions, as written.
pub(super) struct Dispatch {
    event: event::ActiveModel,
    executions: Vec<execution::ActiveModel>,
}

impl Dispatch {
    /// The ids of its executions, in order.
    fn ids(&self) -> impl Iterator<Item = &str> {
        self.executions.iter().filter_map(|row| row.id.try_as_ref()).map(String::as_str)
    }
}

/// Writes dispatches, in batches.
pub(super) struct Dispatches;

#[async_trait]
impl Batch for Dispatches {
    type Job = Dispatch;
    /// The stored executions (new or as they were), in the order asked for.
    type Done = Vec<execution::Model>;
    const LIMIT: usize = 2_000;
    /// After the bus's appends.
    const RANK: u8 = 1;

    fn weight(job: &Dispatch) -> usize {
        1 + job.executions.len()
    }

    async fn write(&self, txn: &DatabaseTransaction, jobs: &[Dispatch]) -> Result<Vec<Self::Done>, DbErr> {
        for chunk in jobs.chunks(MAX_STATEMENT) {
            event::Entity::insert_many(chunk.iter().map(|job| job.event.clone()))
                .on_conflict(OnConflict::column(event::Column::Key).do_nothing().to_owned())
                .exec_without_returning(txn)
                .await
                .or_else(super::not_inserted_is_fine)?;
        }
        // The new executions come back from their insert; those that existed (a redelivery) are read.
        let rows: Vec<_> = jobs.iter().flat_map(|job| &job.executions).collect();
        let mut stored = HashMap::with_capacity(rows.len());
        for chunk in rows.chunks(MAX_STATEMENT) {
            let mut insert = execution::Entity::insert_many(chunk.iter().map(|row| (*row).clone()))
                .on_conflict(OnConflict::column(execution::Column::Id).do_nothing().to_owned())
                .into_query();
            insert.returning_all();
            let inserted = txn.query_all(&insert).await?;
            for row in inserted {
                let row = execution::Model::from_query_result(&row, "")?;
                stored.insert(row.id.clone(), row);
            }
        }
        let missing: Vec<&str> = jobs.iter().flat_map(Dispatch::ids).filter(|id| !stored.contains_key(*id)).collect();
        for chunk in missing.chunks(MAX_STATEMENT) {
            let found =
                execution::Entity::find().filter(execution::Column::Id.is_in(chunk.iter().copied())).all(txn).await?;
            stored.extend(found.into_iter().map(|row| (row.id.clone(), row)));
        }
        jobs.iter()
            .map(|job| {
                job.ids()
                    .map(|id| {
                        stored
                            .get(id)
                            .cloned()
                            .ok_or_else(|| DbErr::Custom(format!("execution {id} vanished right after it was created")))
                    })
                    .collect()
            })
            .collect()
    }
}

impl Store {
    /// Records an event once and creates its executions unless they exist, in one transaction (shared with other
    /// callers' dispatches); returns the stored executions either way, in order. Repeating it (a redelivery)
    /// changes nothing.
    pub async fn record_dispatch(
        &self,
        key: &str,
        event: &cloudevents::Event,
        executions: Vec<NewExecution>,
    ) -> Result<Vec<execution::Model>> {
        let job = Dispatch {
            event: event_row(key, event)?,
            executions: executions.into_iter().map(NewExecution::row).collect(),
        };
        let writer = self.signals.dispatches.get_or_init(|| GroupCommit::on(self.writer().clone(), Dispatches));
        Ok(writer.write(job).await?)
    }

    /// Records an event once; recording it again (a redelivery) changes nothing.
    pub async fn record_event(&self, key: &str, event: &cloudevents::Event) -> Result<()> {
        self.record_dispatch(key, event, Vec::new()).await.map(drop)
    }

    /// A recorded event by key.
    pub async fn event(&self, key: &str) -> Result<Option<event::Model>> {
        Ok(event::Entity::find_by_id(key.to_owned()).one(&self.db).await?)
    }
}

/// The row of an event.
fn event_row(key: &str, event: &cloudevents::Event) -> Result<event::ActiveModel> {
    use cloudevents::AttributesReader as _;
    let json =
        serde_json::to_string(event).map_err(|e| StoreError::Corrupt { what: "event", detail: e.to_string() })?;
    Ok(event::ActiveModel {
        key: Set(key.to_owned()),
        event_id: Set(event.id().to_owned()),
        source: Set(event.source().to_string()),
        event_type: Set(event.ty().to_owned()),
        event: Set(json),
        received_at: Set(Utc::now()),
    })
}

//! Dead letters: written by the dispatcher when it gives up on a record, listed and replayed by admins.

use chrono::Utc;
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{entities::dead_letter, Result, Store};

/// A record given up on.
#[derive(Debug, Clone)]
pub struct NewDeadLetter {
    pub group: String,
    pub position: String,
    pub reason: String,
    pub record: String,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub attempts: i32,
}

impl Store {
    /// Keeps a record given up on, once: the same (group, position) again — a record dead-lettered anew after
    /// a crash before its commit — changes nothing. Text is stripped of NUL characters, which PostgreSQL refuses
    /// (and which may be why the record is here).
    pub async fn add_dead_letter(&self, letter: NewDeadLetter) -> Result<()> {
        let clean = |text: String| text.replace('\0', "\u{FFFD}");
        let row = dead_letter::ActiveModel {
            id: Default::default(),
            group_id: Set(letter.group),
            position: Set(letter.position),
            reason: Set(clean(letter.reason)),
            record: Set(clean(letter.record)),
            event_id: Set(letter.event_id.map(clean)),
            event_type: Set(letter.event_type.map(clean)),
            attempts: Set(letter.attempts),
            created_at: Set(Utc::now()),
            replayed_at: Set(None),
        };
        dead_letter::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([dead_letter::Column::GroupId, dead_letter::Column::Position])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .or_else(super::not_inserted_is_fine)?;
        Ok(())
    }

    /// The newest `limit` dead letters.
    pub async fn dead_letters(&self, limit: u64) -> Result<Vec<dead_letter::Model>> {
        Ok(dead_letter::Entity::find().order_by_desc(dead_letter::Column::Id).limit(limit).all(&self.db).await?)
    }

    /// One dead letter.
    pub async fn dead_letter(&self, id: i64) -> Result<Option<dead_letter::Model>> {
        Ok(dead_letter::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Notes that a dead letter was put back on the bus.
    pub async fn mark_replayed(&self, id: i64) -> Result<()> {
        dead_letter::Entity::update_many()
            .col_expr(dead_letter::Column::ReplayedAt, Utc::now().into())
            .filter(dead_letter::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

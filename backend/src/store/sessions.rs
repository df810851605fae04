//! Browser sessions as rows: the record is tower-sessions' own, as JSON; expiry is a column so that
//! expired sessions can be found and removed.

use chrono::{DateTime, Utc};
use sea_orm::{sea_query::OnConflict, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::{entities::session, Result, Store};

impl Store {
    /// Inserts a session; false when the id is taken.
    pub async fn insert_session(&self, id: &str, record: &str, expires_at: DateTime<Utc>) -> Result<bool> {
        let row = session_row(id, record, expires_at);
        let inserted = session::Entity::insert(row)
            .on_conflict(OnConflict::column(session::Column::Id).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .or_else(super::not_inserted_is_fine)?;
        Ok(inserted == 1)
    }

    /// Inserts or replaces a session.
    pub async fn save_session(&self, id: &str, record: &str, expires_at: DateTime<Utc>) -> Result<()> {
        session::Entity::insert(session_row(id, record, expires_at))
            .on_conflict(
                OnConflict::column(session::Column::Id)
                    .update_columns([session::Column::Record, session::Column::ExpiresAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// A session's record, unless it has expired.
    pub async fn session(&self, id: &str) -> Result<Option<String>> {
        let row = session::Entity::find_by_id(id.to_owned())
            .filter(session::Column::ExpiresAt.gt(Utc::now()))
            .one(&self.db)
            .await?;
        Ok(row.map(|row| row.record))
    }

    /// Removes a session.
    pub async fn delete_session(&self, id: &str) -> Result<()> {
        session::Entity::delete_by_id(id.to_owned()).exec(&self.db).await?;
        Ok(())
    }

    /// Removes every expired session; returns how many.
    pub async fn delete_expired_sessions(&self) -> Result<u64> {
        let result =
            session::Entity::delete_many().filter(session::Column::ExpiresAt.lte(Utc::now())).exec(&self.db).await?;
        Ok(result.rows_affected)
    }
}

fn session_row(id: &str, record: &str, expires_at: DateTime<Utc>) -> session::ActiveModel {
    session::ActiveModel { id: Set(id.to_owned()), record: Set(record.to_owned()), expires_at: Set(expires_at) }
}

//! Log lines: appended in batches by executors, read by the UI and the live stream.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{entities::log_line, Result, Store};

/// A line waiting to be stored.
#[derive(Clone, Debug, PartialEq)]
pub struct NewLogLine {
    pub seq: i64,
    pub stream: &'static str,
    pub text: String,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Appends lines of one execution in one statement.
    pub async fn append_log(&self, execution_id: &str, lines: &[NewLogLine]) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let rows = lines.iter().map(|line| log_line::ActiveModel {
            execution_id: Set(execution_id.to_owned()),
            seq: Set(line.seq),
            stream: Set(line.stream.to_owned()),
            text: Set(line.text.clone()),
            at: Set(line.at),
        });
        log_line::Entity::insert_many(rows).exec_without_returning(&self.db).await?;
        Ok(())
    }

    /// The last `count` lines (all of them for `None`), oldest first.
    pub async fn log_tail(&self, execution_id: &str, count: Option<u64>) -> Result<Vec<log_line::Model>> {
        let mut lines = log_line::Entity::find()
            .filter(log_line::Column::ExecutionId.eq(execution_id))
            .order_by_desc(log_line::Column::Seq)
            .limit(count)
            .all(&self.db)
            .await?;
        lines.reverse();
        Ok(lines)
    }

    /// Lines after `after_seq`, oldest first, at most `limit`.
    pub async fn log_after(&self, execution_id: &str, after_seq: i64, limit: u64) -> Result<Vec<log_line::Model>> {
        Ok(log_line::Entity::find()
            .filter(log_line::Column::ExecutionId.eq(execution_id))
            .filter(log_line::Column::Seq.gt(after_seq))
            .order_by_asc(log_line::Column::Seq)
            .limit(limit)
            .all(&self.db)
            .await?)
    }
}

//! Log lines: appended in batches by executors, read by the UI and the live stream.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{entities::log_line, Result, Store};

/// A line waiting to be stored.
#[derive(Clone, Debug, PartialEq)]
pub struct NewLogLine {
    pub seq: i64,
    pub stream: &'static str,
    pub text: String,
    pub at: DateTime<Utc>,
    /// Where a line read from Kubernetes came from, and the runtime's timestamp of it.
    pub source: Option<LogCursor>,
}

/// A position in one pod container's log: the runtime timestamp of a line (fixed-width RFC 3339 with
/// nanoseconds, so text order is time order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogCursor {
    /// `pod/container`.
    pub source: String,
    pub at: String,
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
            source: Set(line.source.as_ref().map(|c| c.source.clone())),
            source_at: Set(line.source.as_ref().map(|c| c.at.clone())),
        });
        log_line::Entity::insert_many(rows).exec_without_returning(&self.db).await?;
        self.announce(execution_id).await;
        Ok(())
    }

    /// The highest sequence number stored for an execution (0 without lines): a recorder that takes over
    /// an execution (after a restart) numbers on from here.
    pub async fn last_log_seq(&self, execution_id: &str) -> Result<i64> {
        let last = log_line::Entity::find()
            .filter(log_line::Column::ExecutionId.eq(execution_id))
            .order_by_desc(log_line::Column::Seq)
            .one(&self.db)
            .await?;
        Ok(last.map_or(0, |line| line.seq))
    }

    /// Where the stored log of one pod container ends: the timestamp of its newest stored line, and how
    /// many stored lines carry exactly that timestamp (a resumed stream skips that many of them).
    pub async fn log_position(&self, execution_id: &str, source: &str) -> Result<Option<(String, u64)>> {
        use log_line::Column as C;
        let newest = log_line::Entity::find()
            .filter(C::ExecutionId.eq(execution_id))
            .filter(C::Source.eq(source))
            .order_by_desc(C::SourceAt)
            .one(&self.db)
            .await?;
        let Some(at) = newest.and_then(|line| line.source_at) else { return Ok(None) };
        let same = log_line::Entity::find()
            .filter(C::ExecutionId.eq(execution_id))
            .filter(C::Source.eq(source))
            .filter(C::SourceAt.eq(at.as_str()))
            .count(&self.db)
            .await?;
        Ok(Some((at, same)))
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

    /// Lines numbered `first..=last`, oldest first.
    pub async fn log_range(&self, execution_id: &str, first: i64, last: i64) -> Result<Vec<log_line::Model>> {
        Ok(log_line::Entity::find()
            .filter(log_line::Column::ExecutionId.eq(execution_id))
            .filter(log_line::Column::Seq.between(first, last))
            .order_by_asc(log_line::Column::Seq)
            .all(&self.db)
            .await?)
    }

    /// Lines containing `text` (ignoring case; `%` and `_` are plain characters), oldest first: `limit` of them
    /// after skipping `offset`, and how many match in all (counted up to `count_limit`).
    pub async fn log_search(
        &self,
        execution_id: &str,
        text: &str,
        offset: u64,
        limit: u64,
        count_limit: u64,
    ) -> Result<(Vec<log_line::Model>, u64)> {
        use sea_orm::sea_query::{Alias, Expr, Query};
        use sea_orm::{ConnectionTrait, QueryTrait};
        let matching = log_line::Entity::find()
            .filter(log_line::Column::ExecutionId.eq(execution_id))
            .filter(super::contains_ignoring_case(self.db.get_database_backend(), log_line::Column::Text, text));
        let lines =
            matching.clone().order_by_asc(log_line::Column::Seq).offset(offset).limit(limit).all(&self.db).await?;
        // Counted over a limited subquery: a search in a huge log stops counting at the limit.
        let limited = matching.select_only().column(log_line::Column::Seq).limit(count_limit).into_query();
        let count =
            Query::select().expr(Expr::cust("COUNT(*)")).from_subquery(limited, Alias::new("matching")).to_owned();
        let row = self.db.query_one(&count).await?;
        let total = row.map(|row| row.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0);
        Ok((lines, total.max(0) as u64))
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

//! Schedule marks: each scheduled service's next due time not yet run. Moved on by compare-and-set, so that
//! of several k8x processes one moves it; the tick for a due time is published before (its event id names the
//! due time, so a tick published twice still runs once).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter,
};

use super::{entities::schedule_mark, Result, Store};

impl Store {
    /// Every mark, by service.
    pub async fn schedule_marks(&self) -> Result<HashMap<String, schedule_mark::Model>> {
        let rows = schedule_mark::Entity::find().all(&self.db).await?;
        Ok(rows.into_iter().map(|row| (row.service.clone(), row)).collect())
    }

    /// Starts `service`'s mark at `next` for `schedule` unless it has one; true when this call made it.
    pub async fn start_mark(&self, service: &str, schedule: &str, next: DateTime<Utc>) -> Result<bool> {
        let row = schedule_mark::ActiveModel {
            service: Set(service.to_owned()),
            schedule: Set(schedule.to_owned()),
            next_due: Set(next),
        };
        let inserted = schedule_mark::Entity::insert(row)
            .on_conflict(OnConflict::column(schedule_mark::Column::Service).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .or_else(super::not_inserted_is_fine)?;
        Ok(inserted == 1)
    }

    /// Moves `service`'s mark from `(schedule, due)` to `(new_schedule, next)`; false when another process
    /// moved it first.
    pub async fn move_mark(
        &self,
        service: &str,
        (schedule, due): (&str, DateTime<Utc>),
        (new_schedule, next): (&str, DateTime<Utc>),
    ) -> Result<bool> {
        use schedule_mark::Column as C;
        let result = schedule_mark::Entity::update_many()
            .col_expr(C::Schedule, Expr::value(new_schedule))
            .col_expr(C::NextDue, Expr::value(next))
            .filter(C::Service.eq(service))
            .filter(C::Schedule.eq(schedule))
            .filter(C::NextDue.eq(due))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Forgets the marks of services no longer scheduled.
    pub async fn forget_marks(&self, services: Vec<String>) -> Result<()> {
        if !services.is_empty() {
            schedule_mark::Entity::delete_many()
                .filter(schedule_mark::Column::Service.is_in(services))
                .exec(&self.db)
                .await?;
        }
        Ok(())
    }
}

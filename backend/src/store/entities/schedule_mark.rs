//! A scheduled service's next due time not yet run, and the schedule it was computed from.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedule_marks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service: String,
    /// The schedule (expression, zone, policy): a changed schedule starts afresh.
    #[sea_orm(column_type = "Text")]
    pub schedule: String,
    pub next_due: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

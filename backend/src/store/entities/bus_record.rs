//! One event on the embedded bus; `offset` orders the log.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bus_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub offset: i64,
    /// Ordering key (the event's subject, else its source).
    pub key: String,
    /// The CloudEvent, structured-mode JSON.
    #[sea_orm(column_type = "Text")]
    pub event: String,
    pub stored_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

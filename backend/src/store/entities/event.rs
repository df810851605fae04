//! An event the dispatcher has seen, kept for the UI and for tracing what it triggered.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    /// Derived from (source, id), which CloudEvents makes unique.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub event_id: String,
    pub source: String,
    pub event_type: String,
    #[sea_orm(column_type = "Text")]
    pub event: String,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

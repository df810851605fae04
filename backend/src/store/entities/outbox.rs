//! Completion events waiting to be put on the bus: written in the transaction that records an ending, relayed
//! (and deleted) by whichever process claims them first.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The CloudEvent, as structured JSON.
    #[sea_orm(column_type = "Text")]
    pub event: String,
    pub created_at: DateTimeUtc,
    /// The relay pass that took it, while `claimed_until` runs.
    pub claim: Option<String>,
    pub claimed_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

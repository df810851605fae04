//! A record the dispatcher gave up on, kept whole for an admin to read and replay.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dead_letters")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The consumer group that gave up.
    pub group_id: String,
    /// Where it sat on the bus: `partition/offset`.
    pub position: String,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    /// The original record: the stored event (embedded bus) or the Kafka headers and payload, as JSON.
    #[sea_orm(column_type = "Text")]
    pub record: String,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    pub replayed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

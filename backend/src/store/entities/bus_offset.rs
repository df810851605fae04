//! Where a consumer group of the embedded bus has got to, and which process consumes for it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bus_offsets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: String,
    /// The first offset the group has not yet committed.
    pub next_offset: i64,
    /// The process that consumes for the group (one at a time), while its lease runs.
    pub owner: Option<String>,
    /// Until when `owner` holds the group; renewed as it consumes, after that another process may take over.
    pub lease_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

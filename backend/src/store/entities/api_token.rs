//! An API token: only its SHA-256 is kept; the prefix lets people recognise it in a list.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Hex SHA-256 of the whole token.
    #[sea_orm(unique)]
    pub hash: String,
    /// The token's first characters, shown in lists.
    pub prefix: String,
    /// What it is for, as its creator said.
    pub name: String,
    /// The user it acts for; removing the user revokes it.
    pub owner: String,
    /// JSON array of scopes (`["ingest"]`).
    #[sea_orm(column_type = "Text")]
    pub scopes: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A secret or config value set by an admin for the platform, a project or a service. Secret values are
//! sealed; `Debug` leaves every value out.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scoped_values")]
pub struct Model {
    /// `platform`, `project` or `service`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    /// The project's or service's name; empty for the platform.
    #[sea_orm(primary_key, auto_increment = false)]
    pub owner: String,
    /// `secret` or `config`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// A secret: the sealed text. A config: JSON.
    #[sea_orm(column_type = "Text")]
    pub value: String,
    pub updated_by: String,
    pub updated_at: DateTimeUtc,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopedValue")
            .field("scope", &self.scope)
            .field("owner", &self.owner)
            .field("kind", &self.kind)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

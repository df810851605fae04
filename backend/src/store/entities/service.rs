//! A service as loaded from its directory. `secrets` stays server-side: no view type carries it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub project: String,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub active: bool,
    pub allow_manual_triggering: bool,
    /// JSON array of event types.
    #[sea_orm(column_type = "Text")]
    pub trigger_events: String,
    /// JSON array of tags.
    #[sea_orm(column_type = "Text")]
    pub tags: String,
    #[sea_orm(column_type = "Text")]
    pub manifest: String,
    #[sea_orm(column_type = "Text")]
    pub deployment: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub parameters: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub configs: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub secrets: Option<String>,
    pub updated_at: DateTimeUtc,
    /// The commit (or `sha256:` digest of an archive or directory) its files came from.
    pub revision: Option<String>,
    /// Its directory, relative to the project's root.
    pub source_dir: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

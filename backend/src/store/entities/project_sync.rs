//! One sync of a project: what started it, the revision it read, what changed, and how it ended.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project_syncs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project: String,
    /// `manual`, `webhook`, `interval`, `start-up` or `upload`.
    pub trigger: String,
    /// `running`, `ok`, `partial` (some services invalid) or `failed` (nothing changed).
    pub result: String,
    /// The commit, or `sha256:…` of an archive or a directory's files.
    pub revision: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub author: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub message: Option<String>,
    pub committed_at: Option<DateTimeUtc>,
    /// JSON of a `model::projects::SyncChanges`.
    #[sea_orm(column_type = "Text")]
    pub changes: String,
    /// JSON array of `model::projects::ProblemView`s.
    #[sea_orm(column_type = "Text")]
    pub problems: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

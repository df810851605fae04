//! One line an execution wrote.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "log_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub execution_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// `stdout`, `stderr` or `k8x`.
    pub stream: String,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    pub at: DateTimeUtc,
    /// The pod container the line came from (`pod/container`), for lines read from Kubernetes.
    pub source: Option<String>,
    /// The container runtime's timestamp of the line (fixed-width RFC 3339, nanoseconds), so a broken log
    /// stream resumes after the last stored line instead of repeating or losing lines.
    pub source_at: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

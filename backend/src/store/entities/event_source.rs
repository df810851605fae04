//! A sender that signs its requests (`X-Hub-Signature-256`) instead of sending a token, and, for plain
//! webhooks, how its requests become CloudEvents. The shared secret is sealed like service secrets.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_sources")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub secret: String,
    /// Plain webhooks: the header whose value is the event type (`X-GitHub-Event`).
    pub type_header: Option<String>,
    /// Plain webhooks: the JSON pointer of the body field that is the event type (`/EventName`).
    pub type_field: Option<String>,
    /// Plain webhooks: what the type is prefixed with (`com.github.`).
    pub type_prefix: Option<String>,
    /// Plain webhooks: the header whose value is the event id (`X-GitHub-Delivery`); else a hash of the body.
    pub id_header: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSource").field("name", &self.name).finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

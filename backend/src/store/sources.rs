//! Event sources that sign their requests: the shared secret is sealed like service secrets. A source also
//! says how its plain (non-CloudEvents) webhooks become CloudEvents: [`WebhookShape`].

use chrono::Utc;
use sea_orm::{sea_query::OnConflict, ActiveValue::Set, EntityTrait, QueryOrder};
use serde::{Deserialize, Serialize};

use super::{entities::event_source, Result, Store};

/// Where a plain webhook's event type and id come from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookShape {
    /// The header whose value is the type (`X-GitHub-Event`).
    pub type_header: Option<String>,
    /// Else the JSON pointer of the body field that is the type (`/EventName`).
    pub type_field: Option<String>,
    /// Put before the type (`com.github.`).
    pub type_prefix: Option<String>,
    /// The header whose value is the id (`X-GitHub-Delivery`); else a hash of the body.
    pub id_header: Option<String>,
}

impl WebhookShape {
    /// The shapes of well-known senders: `github`, `gitlab`, `gitea`, `minio` (bucket notifications).
    pub fn preset(name: &str) -> Option<Self> {
        let shape = |header: Option<&str>, field: Option<&str>, prefix: &str, id: Option<&str>| Self {
            type_header: header.map(str::to_owned),
            type_field: field.map(str::to_owned),
            type_prefix: Some(prefix.to_owned()),
            id_header: id.map(str::to_owned),
        };
        match name {
            "github" => Some(shape(Some("X-GitHub-Event"), None, "com.github.", Some("X-GitHub-Delivery"))),
            "gitlab" => Some(shape(Some("X-Gitlab-Event"), None, "com.gitlab.", Some("X-Gitlab-Event-UUID"))),
            "gitea" => Some(shape(Some("X-Gitea-Event"), None, "io.gitea.", Some("X-Gitea-Delivery"))),
            "minio" => Some(shape(None, Some("/EventName"), "io.minio.", None)),
            _ => None,
        }
    }

    fn of(row: &event_source::Model) -> Self {
        Self {
            type_header: row.type_header.clone(),
            type_field: row.type_field.clone(),
            type_prefix: row.type_prefix.clone(),
            id_header: row.id_header.clone(),
        }
    }
}

impl event_source::Model {
    /// How this source's plain webhooks become CloudEvents.
    pub fn webhook_shape(&self) -> WebhookShape {
        WebhookShape::of(self)
    }
}

impl Store {
    /// Registers a source with its secret; false when the name is taken.
    pub async fn add_source(&self, name: &str, secret: &str, shape: &WebhookShape, created_by: &str) -> Result<bool> {
        let secret = self.seal(secret);
        let row = event_source::ActiveModel {
            name: Set(name.to_owned()),
            secret: Set(secret),
            type_header: Set(shape.type_header.clone()),
            type_field: Set(shape.type_field.clone()),
            type_prefix: Set(shape.type_prefix.clone()),
            id_header: Set(shape.id_header.clone()),
            created_by: Set(created_by.to_owned()),
            created_at: Set(Utc::now()),
        };
        let inserted = event_source::Entity::insert(row)
            .on_conflict(OnConflict::column(event_source::Column::Name).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .or_else(super::not_inserted_is_fine)?;
        Ok(inserted == 1)
    }

    /// A source with its secret opened.
    pub async fn source(&self, name: &str) -> Result<Option<event_source::Model>> {
        let Some(mut row) = event_source::Entity::find_by_id(name.to_owned()).one(&self.db).await? else {
            return Ok(None);
        };
        row.secret = self.open(std::mem::take(&mut row.secret), || format!("event source `{name}`"))?;
        Ok(Some(row))
    }

    /// Every source (secrets still sealed: lists never need them).
    pub async fn sources(&self) -> Result<Vec<event_source::Model>> {
        Ok(event_source::Entity::find().order_by_asc(event_source::Column::Name).all(&self.db).await?)
    }

    /// Removes a source; false when there is none.
    pub async fn remove_source(&self, name: &str) -> Result<bool> {
        Ok(event_source::Entity::delete_by_id(name.to_owned()).exec(&self.db).await?.rows_affected == 1)
    }
}

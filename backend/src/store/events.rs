//! Events the dispatcher has seen.

use chrono::Utc;
use sea_orm::{sea_query::OnConflict, ActiveValue::Set, EntityTrait};

use super::{entities::event, Result, Store};

impl Store {
    /// Records an event once; recording it again (a redelivery) changes nothing.
    pub async fn record_event(&self, key: &str, event: &cloudevents::Event) -> Result<()> {
        use cloudevents::AttributesReader as _;
        let json = serde_json::to_string(event)
            .map_err(|e| super::StoreError::Corrupt { what: "event", detail: e.to_string() })?;
        let row = event::ActiveModel {
            key: Set(key.to_owned()),
            event_id: Set(event.id().to_owned()),
            source: Set(event.source().to_string()),
            event_type: Set(event.ty().to_owned()),
            event: Set(json),
            received_at: Set(Utc::now()),
        };
        event::Entity::insert(row)
            .on_conflict(OnConflict::column(event::Column::Key).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .or_else(super::not_inserted_is_fine)?;
        Ok(())
    }

    /// A recorded event by key.
    pub async fn event(&self, key: &str) -> Result<Option<event::Model>> {
        Ok(event::Entity::find_by_id(key.to_owned()).one(&self.db).await?)
    }
}

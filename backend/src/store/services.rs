//! Services: written by the catalog loader, read by the dispatcher and the UI.

use sea_orm::{sea_query::OnConflict, EntityTrait, QueryOrder};

use super::{entities::service, Result, Store};

impl Store {
    /// Inserts or replaces a service by name.
    pub async fn upsert_service(&self, model: service::Model) -> Result<()> {
        use service::Column as C;
        let active: service::ActiveModel = model.into();
        service::Entity::insert(active)
            .on_conflict(
                OnConflict::column(C::Name)
                    .update_columns([
                        C::Project,
                        C::Kind,
                        C::Description,
                        C::Active,
                        C::AllowManualTriggering,
                        C::TriggerEvents,
                        C::Tags,
                        C::Manifest,
                        C::Deployment,
                        C::Parameters,
                        C::Configs,
                        C::Secrets,
                        C::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Every service, by name.
    pub async fn services(&self) -> Result<Vec<service::Model>> {
        Ok(service::Entity::find().order_by_asc(service::Column::Name).all(&self.db).await?)
    }

    /// One service by name.
    pub async fn service(&self, name: &str) -> Result<Option<service::Model>> {
        Ok(service::Entity::find_by_id(name.to_owned()).one(&self.db).await?)
    }
}

//! Services: written by the catalog loader, read by the dispatcher and the UI.

use sea_orm::{sea_query::OnConflict, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

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

    /// Removes the services of `project` that are not in `keep`; returns how many went.
    pub async fn remove_services_except(&self, project: &str, keep: &[String]) -> Result<u64> {
        let result = service::Entity::delete_many()
            .filter(service::Column::Project.eq(project))
            .filter(service::Column::Name.is_not_in(keep.iter().cloned()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
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

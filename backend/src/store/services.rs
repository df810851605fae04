//! Services: written by the catalog loader, read by the dispatcher and the UI.

use sea_orm::{sea_query::OnConflict, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{entities::service, Result, Store};

impl Store {
    /// Inserts or replaces a service by name; its secrets are sealed on the way.
    pub async fn upsert_service(&self, mut model: service::Model) -> Result<()> {
        use service::Column as C;
        model.secrets = model.secrets.map(|secrets| self.seal(&secrets));
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

    /// Every service, by name, secrets opened.
    pub async fn services(&self) -> Result<Vec<service::Model>> {
        let rows = service::Entity::find().order_by_asc(service::Column::Name).all(&self.db).await?;
        rows.into_iter().map(|row| self.opened(row)).collect()
    }

    /// One service by name, secrets opened.
    pub async fn service(&self, name: &str) -> Result<Option<service::Model>> {
        let row = service::Entity::find_by_id(name.to_owned()).one(&self.db).await?;
        row.map(|row| self.opened(row)).transpose()
    }

    /// Whether any stored service has sealed secrets (then a key is needed to run them).
    pub async fn has_sealed_secrets(&self) -> Result<bool> {
        let rows = service::Entity::find().filter(service::Column::Secrets.like("v1:%")).all(&self.db).await?;
        Ok(!rows.is_empty())
    }

    /// `row` with its secrets opened. Secrets stored before encryption existed are read as they are (and
    /// sealed the next time the service is loaded).
    fn opened(&self, mut row: service::Model) -> Result<service::Model> {
        if let Some(secrets) = row.secrets.take() {
            row.secrets = Some(self.open(secrets, || format!("service `{}`", row.name))?);
        }
        Ok(row)
    }
}

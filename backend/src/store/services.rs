//! Services: written by the catalog loader, read by the dispatcher and the UI.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::OnConflict, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{entities::service, Result, Store};

/// The columns of a [`ServiceListing`] (the name first).
const LISTED: [service::Column; 8] = [
    service::Column::Name,
    service::Column::Project,
    service::Column::Kind,
    service::Column::Description,
    service::Column::Active,
    service::Column::AllowManualTriggering,
    service::Column::TriggerEvents,
    service::Column::Tags,
];

/// A service as the services list shows it: no files, no secrets.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct ServiceListing {
    pub name: String,
    pub project: String,
    pub kind: String,
    pub description: String,
    pub active: bool,
    pub allow_manual_triggering: bool,
    pub trigger_events: String,
    pub tags: String,
}

impl From<&service::Model> for ServiceListing {
    fn from(row: &service::Model) -> Self {
        Self {
            name: row.name.clone(),
            project: row.project.clone(),
            kind: row.kind.clone(),
            description: row.description.clone(),
            active: row.active,
            allow_manual_triggering: row.allow_manual_triggering,
            trigger_events: row.trigger_events.clone(),
            tags: row.tags.clone(),
        }
    }
}

/// What the services table looks like, cheaply: how many services, and the newest change. Any upsert or
/// removal changes it.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct CatalogFingerprint {
    pub count: i64,
    pub newest: Option<DateTime<Utc>>,
}

impl Store {
    /// Inserts or replaces a service by name; its secrets are sealed on the way.
    pub async fn upsert_service(&self, model: service::Model) -> Result<()> {
        self.upsert_service_on(&self.db, model).await?;
        self.signals.catalog.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// [`Store::upsert_service`] on `conn` (a transaction), without announcing the change.
    pub(super) async fn upsert_service_on(&self, conn: &impl ConnectionTrait, mut model: service::Model) -> Result<()> {
        use service::Column as C;
        model.secrets = model.secrets.map(|secrets| self.seal(&secrets));
        let active: service::ActiveModel = model.into();
        service::Entity::insert(active)
            .on_conflict(
                OnConflict::column(C::Name)
                    .update_columns(LISTED[1..].iter().copied().chain([
                        C::Manifest,
                        C::Deployment,
                        C::Parameters,
                        C::Configs,
                        C::Secrets,
                        C::UpdatedAt,
                        C::Revision,
                        C::SourceDir,
                    ]))
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }

    /// How many times this process has changed the stored services: a cache of them is stale when it moves.
    pub fn catalog_changes(&self) -> u64 {
        self.signals.catalog.load(Ordering::Acquire)
    }

    /// The services table's [`CatalogFingerprint`], to notice changes made by other processes.
    pub async fn catalog_fingerprint(&self) -> Result<CatalogFingerprint> {
        let fingerprint = service::Entity::find()
            .select_only()
            .column_as(service::Column::Name.count(), "count")
            .column_as(service::Column::UpdatedAt.max(), "newest")
            .into_model::<CatalogFingerprint>()
            .one(&self.db)
            .await?;
        Ok(fingerprint.unwrap_or(CatalogFingerprint { count: 0, newest: None }))
    }

    /// Every service, by name, secrets opened.
    pub async fn services(&self) -> Result<Vec<service::Model>> {
        let rows = service::Entity::find().order_by_asc(service::Column::Name).all(&self.db).await?;
        rows.into_iter().map(|row| self.opened(row)).collect()
    }

    /// A page of services (by name) whose name, description, project, tags or trigger events contain
    /// `search` (ignoring case), without their files or secrets; and how many match in all.
    pub async fn service_page(&self, search: &str, offset: u64, limit: u64) -> Result<(Vec<ServiceListing>, u64)> {
        use service::Column as C;
        let mut query = service::Entity::find();
        if !search.trim().is_empty() {
            let backend = self.db.get_database_backend();
            let mut any = sea_orm::Condition::any();
            for column in [C::Name, C::Description, C::Project, C::Tags, C::TriggerEvents] {
                any = any.add(super::contains_ignoring_case(backend, column, search.trim()));
            }
            query = query.filter(any);
        }
        let total = query.clone().count(&self.db).await?;
        let rows = query
            .select_only()
            .columns(LISTED)
            .order_by_asc(C::Name)
            .offset(offset)
            .limit(limit)
            .into_model::<ServiceListing>()
            .all(&self.db)
            .await?;
        Ok((rows, total))
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
    pub(super) fn opened(&self, mut row: service::Model) -> Result<service::Model> {
        if let Some(secrets) = row.secrets.take() {
            row.secrets = Some(self.open(secrets, || format!("service `{}`", row.name))?);
        }
        Ok(row)
    }
}

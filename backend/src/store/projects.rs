//! Projects, their syncs, and the services a sync writes — all of a sync's changes in one transaction, so a
//! project is never half-updated. A sync is claimed first, so that of several k8x processes on one database
//! only one syncs a project at a time.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use model::projects::{ProblemView, SyncChanges};

use super::{
    entities::{project, project_sync, service},
    Result, Store,
};

/// The services a sync writes: rows to insert or replace, and names to remove.
#[derive(Clone, Debug, Default)]
pub struct ServiceChanges {
    pub upsert: Vec<service::Model>,
    pub remove: Vec<String>,
}

/// How many syncs of each project are kept.
const SYNCS_KEPT: u64 = 500;

/// What writing a sync's changes came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finished {
    Done,
    /// The claim ran out (or was taken) before the sync ended: nothing was written.
    ClaimLost,
    /// Another project took a service name meanwhile: nothing was written.
    NameTaken {
        service: String,
        project: String,
    },
}

/// How a sync ended, to record.
#[derive(Clone, Debug, Default)]
pub struct SyncEnd {
    pub result: &'static str,
    pub revision: Option<String>,
    pub author: Option<String>,
    pub message: Option<String>,
    pub committed_at: Option<DateTime<Utc>>,
    pub changes: SyncChanges,
    pub problems: Vec<ProblemView>,
    pub error: Option<String>,
}

impl Store {
    /// Adds a project, sealing its token, deploy key and webhook secret; false when the name is taken.
    pub async fn add_project(&self, mut row: project::Model) -> Result<bool> {
        self.seal_project(&mut row);
        let inserted = project::Entity::insert(project::ActiveModel::from(row))
            .on_conflict(OnConflict::column(project::Column::Name).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .or_else(super::not_inserted_is_fine)?;
        Ok(inserted == 1)
    }

    /// Replaces a project's settings (its secrets sealed on the way); false when there is none.
    pub async fn update_project(&self, mut row: project::Model) -> Result<bool> {
        use project::Column as C;
        self.seal_project(&mut row);
        let result = project::Entity::update_many()
            .col_expr(C::Description, Expr::value(row.description))
            .col_expr(C::Location, Expr::value(row.location))
            .col_expr(C::Branch, Expr::value(row.branch))
            .col_expr(C::Subdir, Expr::value(row.subdir))
            .col_expr(C::Kind, Expr::value(row.kind))
            .col_expr(C::Token, Expr::value(row.token))
            .col_expr(C::DeployKey, Expr::value(row.deploy_key))
            .col_expr(C::DeployKeyPublic, Expr::value(row.deploy_key_public))
            .col_expr(C::SshHostKey, Expr::value(row.ssh_host_key))
            .col_expr(C::SyncIntervalSeconds, Expr::value(row.sync_interval_seconds))
            .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
            .filter(C::Name.eq(&row.name))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    fn seal_project(&self, row: &mut project::Model) {
        row.token = row.token.take().map(|t| self.seal(&t));
        row.deploy_key = row.deploy_key.take().map(|k| self.seal(&k));
        row.webhook_secret = self.seal(&row.webhook_secret);
    }

    /// A project with its token, deploy key and webhook secret opened.
    pub async fn project(&self, name: &str) -> Result<Option<project::Model>> {
        let Some(mut row) = project::Entity::find_by_id(name.to_owned()).one(&self.db).await? else {
            return Ok(None);
        };
        let owner = || format!("project `{name}`");
        row.token = row.token.take().map(|t| self.open(t, owner)).transpose()?;
        row.deploy_key = row.deploy_key.take().map(|k| self.open(k, owner)).transpose()?;
        row.webhook_secret = self.open(std::mem::take(&mut row.webhook_secret), owner)?;
        Ok(Some(row))
    }

    /// A project's kind (`directory`, `git`, `archive`), if there is such a project: no secret opened.
    pub async fn project_kind(&self, name: &str) -> Result<Option<String>> {
        Ok(project::Entity::find_by_id(name.to_owned())
            .select_only()
            .column(project::Column::Kind)
            .into_tuple()
            .one(&self.db)
            .await?)
    }

    /// Every project, by name (secrets still sealed: lists never need them).
    pub async fn projects(&self) -> Result<Vec<project::Model>> {
        Ok(project::Entity::find().order_by_asc(project::Column::Name).all(&self.db).await?)
    }

    /// Removes a project, its services, their and its secrets and configs, and its syncs (executions stay);
    /// false when there is none.
    pub async fn remove_project(&self, name: &str) -> Result<bool> {
        use super::entities::scoped_value::{Column as V, Entity as Values};
        let txn = self.db.begin().await?;
        let services: Vec<String> = service::Entity::find()
            .select_only()
            .column(service::Column::Name)
            .filter(service::Column::Project.eq(name))
            .into_tuple()
            .all(&txn)
            .await?;
        Values::delete_many()
            .filter(
                sea_orm::Condition::any()
                    .add(sea_orm::Condition::all().add(V::Scope.eq("project")).add(V::Owner.eq(name)))
                    .add(sea_orm::Condition::all().add(V::Scope.eq("service")).add(V::Owner.is_in(services))),
            )
            .exec(&txn)
            .await?;
        project_sync::Entity::delete_many().filter(project_sync::Column::Project.eq(name)).exec(&txn).await?;
        service::Entity::delete_many().filter(service::Column::Project.eq(name)).exec(&txn).await?;
        let removed = project::Entity::delete_by_id(name.to_owned()).exec(&txn).await?.rows_affected == 1;
        txn.commit().await?;
        self.signals.catalog.fetch_add(1, Ordering::Release);
        Ok(removed)
    }

    /// Claims the right to sync `name` as `owner` (a token of one sync) until `lease` from now: false while
    /// another sync, of this process or another, holds an unexpired claim.
    pub async fn claim_sync(&self, name: &str, owner: &str, lease: Duration) -> Result<bool> {
        use project::Column as C;
        let now = Utc::now();
        let result = project::Entity::update_many()
            .col_expr(C::SyncClaimedBy, Expr::value(owner))
            .col_expr(C::SyncClaimedUntil, Expr::value(now + lease))
            .filter(C::Name.eq(name))
            .filter(sea_orm::Condition::any().add(C::SyncClaimedUntil.is_null()).add(C::SyncClaimedUntil.lt(now)))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Moves the end of `owner`'s claim on `name` to `lease` from now: false when `owner` no longer holds it (it
    /// ran out and another sync took it).
    pub async fn renew_sync(&self, name: &str, owner: &str, lease: Duration) -> Result<bool> {
        use project::Column as C;
        let result = project::Entity::update_many()
            .col_expr(C::SyncClaimedUntil, Expr::value(Utc::now() + lease))
            .filter(C::Name.eq(name))
            .filter(C::SyncClaimedBy.eq(owner))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Pins the ssh host key `key` for project `name`, unless one is pinned already.
    pub async fn pin_host_key(&self, name: &str, key: &str) -> Result<()> {
        use project::Column as C;
        project::Entity::update_many()
            .col_expr(C::SshHostKey, Expr::value(key))
            .filter(C::Name.eq(name))
            .filter(C::SshHostKey.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Lets go of the sync claims an earlier run of process `instance` left behind (claims are `instance#…`):
    /// it was stopped mid-sync, and waiting out its lease would hold those projects for minutes. Called at
    /// start-up, before this run claims anything. Returns how many were released.
    pub async fn release_abandoned_syncs(&self, instance: &str) -> Result<usize> {
        let prefix = format!("{instance}#");
        let held = project::Entity::find().filter(project::Column::SyncClaimedBy.is_not_null()).all(&self.db).await?;
        let mut released = 0;
        for project in held {
            if let Some(token) = project.sync_claimed_by.filter(|token| token.starts_with(&prefix)) {
                // The claim let go of and the syncs it covered ended together, and only while the claim is still
                // this instance's: once its lease ran out another k8x may have claimed the project and be
                // syncing it (its row stays locked until this commits, so it cannot claim in between).
                let txn = self.db.begin().await?;
                if release(&txn, &project.name, &token).await? {
                    fail_syncs(&txn, running_syncs_of(&project.name), INTERRUPTED).await?;
                    released += 1;
                }
                txn.commit().await?;
            }
        }
        Ok(released)
    }

    /// Lets go of a claim `owner` holds.
    pub async fn release_sync(&self, name: &str, owner: &str) -> Result<()> {
        release(&self.db, name, owner).await?;
        Ok(())
    }

    /// Records that a sync of `project` started; returns its id. Called with the project's claim held, so a sync
    /// still recorded as running is one whose process stopped before it ended: it is recorded as failed first.
    pub async fn start_sync(&self, project: &str, trigger: &str) -> Result<i64> {
        self.end_interrupted_syncs(project).await?;
        let row = project_sync::ActiveModel {
            project: Set(project.to_owned()),
            trigger: Set(trigger.to_owned()),
            result: Set("running".to_owned()),
            changes: Set("{}".to_owned()),
            problems: Set("[]".to_owned()),
            started_at: Set(Utc::now()),
            ..Default::default()
        };
        Ok(project_sync::Entity::insert(row).exec(&self.db).await?.last_insert_id)
    }

    /// Writes a sync's service changes and its record in one transaction — if the sync still holds project
    /// `project`'s claim as `owner`, and no service it writes belongs to another project by then.
    pub async fn finish_sync(
        &self,
        id: i64,
        project: &str,
        owner: &str,
        changes: ServiceChanges,
        end: SyncEnd,
    ) -> Result<Finished> {
        use service::Column as C;
        let txn = self.db.begin().await?;
        let held = project::Entity::update_many()
            .col_expr(project::Column::UpdatedAt, Expr::col(project::Column::UpdatedAt).into())
            .filter(project::Column::Name.eq(project))
            .filter(project::Column::SyncClaimedBy.eq(owner))
            .exec(&txn)
            .await?;
        if held.rows_affected != 1 {
            return Ok(Finished::ClaimLost);
        }
        let names: Vec<String> = changes.upsert.iter().map(|row| row.name.clone()).collect();
        let owners: Vec<(String, String)> = service::Entity::find()
            .select_only()
            .columns([C::Name, C::Project])
            .filter(C::Name.is_in(names))
            .into_tuple()
            .all(&txn)
            .await?;
        if let Some((service, other)) = owners.into_iter().find(|(_, owner)| owner != project) {
            return Ok(Finished::NameTaken { service, project: other });
        }
        for row in changes.upsert {
            self.upsert_service_on(&txn, row).await?;
        }
        if !changes.remove.is_empty() {
            use super::entities::scoped_value::{Column as V, Entity as Values};
            // A service that is gone takes its secrets and configs along: a service of that name in another
            // project must not get them.
            Values::delete_many()
                .filter(V::Scope.eq("service"))
                .filter(V::Owner.is_in(changes.remove.clone()))
                .exec(&txn)
                .await?;
            service::Entity::delete_many()
                .filter(C::Project.eq(project))
                .filter(C::Name.is_in(changes.remove))
                .exec(&txn)
                .await?;
        }
        project_sync::Entity::update(project_sync::ActiveModel {
            id: Set(id),
            result: Set(end.result.to_owned()),
            revision: Set(end.revision),
            author: Set(end.author),
            message: Set(end.message),
            committed_at: Set(end.committed_at),
            changes: Set(serde_json::to_string(&end.changes).unwrap_or_else(|_| "{}".into())),
            problems: Set(serde_json::to_string(&end.problems).unwrap_or_else(|_| "[]".into())),
            error: Set(end.error),
            finished_at: Set(Some(Utc::now())),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        // The record keeps the newest syncs of each project.
        let oldest_kept: Option<i64> = project_sync::Entity::find()
            .select_only()
            .column(project_sync::Column::Id)
            .filter(project_sync::Column::Project.eq(project))
            .order_by_desc(project_sync::Column::Id)
            .offset(SYNCS_KEPT - 1)
            .into_tuple()
            .one(&txn)
            .await?;
        if let Some(oldest) = oldest_kept {
            project_sync::Entity::delete_many()
                .filter(project_sync::Column::Project.eq(project))
                .filter(project_sync::Column::Id.lt(oldest))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        self.signals.catalog.fetch_add(1, Ordering::Release);
        Ok(Finished::Done)
    }

    /// Records the syncs of `project` still recorded as running as failed: the k8x process running them stopped,
    /// or they ran past their claim (their claim is gone, or is its own left behind). Their services were left
    /// untouched.
    async fn end_interrupted_syncs(&self, project: &str) -> Result<()> {
        fail_syncs(&self.db, running_syncs_of(project), INTERRUPTED).await
    }

    /// Records sync `id` as failed with `error` (its services untouched) — also when it was recorded as
    /// interrupted meanwhile (it ran past its claim): `error` says better what happened.
    pub async fn fail_sync(&self, id: i64, error: &str) -> Result<()> {
        use project_sync::Column as C;
        let which = sea_orm::Condition::any().add(C::Result.eq("running")).add(C::Error.eq(INTERRUPTED));
        fail_syncs(&self.db, sea_orm::Condition::all().add(C::Id.eq(id)).add(which), error).await
    }

    /// A project's syncs, newest first.
    pub async fn syncs(&self, project: &str, limit: u64) -> Result<Vec<project_sync::Model>> {
        Ok(project_sync::Entity::find()
            .filter(project_sync::Column::Project.eq(project))
            .order_by_desc(project_sync::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Each project's newest sync.
    pub async fn last_syncs(&self) -> Result<Vec<project_sync::Model>> {
        let newest: Vec<i64> = project_sync::Entity::find()
            .select_only()
            .column_as(project_sync::Column::Id.max(), "id")
            .group_by(project_sync::Column::Project)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(project_sync::Entity::find().filter(project_sync::Column::Id.is_in(newest)).all(&self.db).await?)
    }

    /// The services of `project`, by name, secrets opened (a sync compares them with the new files).
    pub async fn project_services(&self, project: &str) -> Result<Vec<service::Model>> {
        let rows = service::Entity::find()
            .filter(service::Column::Project.eq(project))
            .order_by_asc(service::Column::Name)
            .all(&self.db)
            .await?;
        rows.into_iter().map(|row| self.opened(row)).collect()
    }

    /// How many services each project has.
    pub async fn service_counts(&self) -> Result<std::collections::HashMap<String, u64>> {
        let rows: Vec<(String, i64)> = service::Entity::find()
            .select_only()
            .column(service::Column::Project)
            .column_as(service::Column::Name.count(), "count")
            .group_by(service::Column::Project)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|(project, n)| (project, u64::try_from(n).unwrap_or(0))).collect())
    }

    /// Which projects hold services named `names`, for the names another project already uses.
    pub async fn owners_of(&self, names: &[String]) -> Result<Vec<(String, String)>> {
        Ok(service::Entity::find()
            .select_only()
            .columns([service::Column::Name, service::Column::Project])
            .filter(service::Column::Name.is_in(names.iter().cloned()))
            .into_tuple()
            .all(&self.db)
            .await?)
    }
}

/// What a sync whose process stopped, or that ran past its claim, is recorded with.
const INTERRUPTED: &str = "interrupted: its k8x process stopped, or it ran past its claim, before it ended";

/// Records the syncs `which` selects as failed with `error`.
async fn fail_syncs(db: &impl ConnectionTrait, which: sea_orm::Condition, error: &str) -> Result<()> {
    use project_sync::Column as C;
    project_sync::Entity::update_many()
        .col_expr(C::Result, Expr::value("failed"))
        .col_expr(C::Error, Expr::value(error))
        .col_expr(C::FinishedAt, Expr::value(Utc::now()))
        .filter(which)
        .exec(db)
        .await?;
    Ok(())
}

/// The syncs of `project` recorded as running.
fn running_syncs_of(project: &str) -> sea_orm::Condition {
    use project_sync::Column as C;
    sea_orm::Condition::all().add(C::Project.eq(project)).add(C::Result.eq("running"))
}

/// Lets go of project `name`'s sync claim if `owner` holds it; whether it did.
async fn release(db: &impl ConnectionTrait, name: &str, owner: &str) -> Result<bool> {
    use project::Column as C;
    let released = project::Entity::update_many()
        .col_expr(C::SyncClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(C::SyncClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(C::Name.eq(name))
        .filter(C::SyncClaimedBy.eq(owner))
        .exec(db)
        .await?;
    Ok(released.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_sync_at_a_time_holds_a_project_even_within_one_process() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display())).await.unwrap();
        let row = project::Model::new("p", "s".into());
        assert!(store.add_project(row).await.unwrap());
        let lease = Duration::seconds(60);
        assert!(store.claim_sync("p", "me#1", lease).await.unwrap());
        assert!(!store.claim_sync("p", "me#2", lease).await.unwrap(), "a second sync of the same process waits");
        let id = store.start_sync("p", "manual").await.unwrap();
        let end = || SyncEnd { result: "ok", ..Default::default() };
        assert_eq!(
            store.finish_sync(id, "p", "me#2", ServiceChanges::default(), end()).await.unwrap(),
            Finished::ClaimLost
        );
        store.release_sync("p", "me#2").await.unwrap();
        assert!(!store.claim_sync("p", "me#3", lease).await.unwrap(), "only the holder releases");
        assert_eq!(store.finish_sync(id, "p", "me#1", ServiceChanges::default(), end()).await.unwrap(), Finished::Done);
        assert!(store.renew_sync("p", "me#1", lease).await.unwrap(), "the holder renews");
        assert!(!store.renew_sync("p", "me#2", lease).await.unwrap(), "only the holder renews");
        store.release_sync("p", "me#1").await.unwrap();
        assert!(!store.renew_sync("p", "me#1", lease).await.unwrap(), "a released claim is not renewed");
        assert!(store.claim_sync("p", "me#3", lease).await.unwrap());
        // An expired claim is free.
        assert!(store.claim_sync("p", "late", Duration::seconds(-1)).await.is_ok());
    }
}

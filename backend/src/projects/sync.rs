//! A sync: the project's files now (a directory or a Git checkout), checked by the catalog, compared with the
//! stored services, and written in one transaction with its record.
//!
//! What a sync never does: remove or change a service whose new files are broken (its last good version
//! stays and keeps running), take a name another project's service has, or change anything when the files
//! cannot be had at all (the sync is recorded as failed, the services stay as they were).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use futures::FutureExt;
use model::projects::{NotRunView, ProblemView, SyncChanges, SyncView};
use secrecy::ExposeSecret;
use tokio_util::task::AbortOnDropHandle;

use super::{
    source::{self, Snapshot},
    ProjectError, Projects,
};
use crate::{
    catalog::{self, CatalogError, Scan, ScannedService, Walk},
    store::{entities::service, Finished, ServiceChanges, SyncEnd},
};

/// How long a sync's claim holds unless renewed. A running sync renews it every sixth of this
/// ([`Projects::keep_claim`]), however long its fetch takes; a claim left by a k8x that stopped mid-sync holds
/// the project this long at most (its restart lets go of it at once). Each process reads its own clock: clocks
/// may differ by up to about five sixths of this before a running sync's claim looks expired to another.
pub const CLAIM: std::time::Duration = std::time::Duration::from_secs(120);

/// How soon a renewal that failed (the database unreachable) is tried again.
const RENEW_RETRY: std::time::Duration = std::time::Duration::from_secs(2);

/// What a sync reads its files with (run off the runtime): the files, or why they could not be had.
type SnapshotFn = Box<dyn FnOnce() -> Result<Snapshot, String> + Send>;

impl Projects {
    /// Syncs project `name` now, if no other sync of it runs (else [`ProjectError::Busy`]); `trigger` says
    /// why (`manual`, `webhook`, `interval`, `start-up`). Returns the sync as recorded.
    pub async fn sync(&self, name: &str, trigger: &str) -> Result<SyncView, ProjectError> {
        self.sync_if(name, trigger, |_| true).await?.ok_or_else(|| ProjectError::NotFound(name.to_owned()))
    }

    /// Like [`Projects::sync`], but only if `still_due(when the newest sync began)` holds once the sync is
    /// claimed (another process may have synced meanwhile): `None` when it did not.
    pub async fn sync_if(
        &self,
        name: &str,
        trigger: &str,
        still_due: impl FnOnce(Option<DateTime<Utc>>) -> bool + Send + 'static,
    ) -> Result<Option<SyncView>, ProjectError> {
        let project = self.store.project(name).await?.ok_or_else(|| ProjectError::NotFound(name.to_owned()))?;
        let data_dir = self.data_dir.clone();
        let snapshot: SnapshotFn = Box::new(move || source::snapshot(&project, &data_dir).map_err(|e| e.to_string()));
        self.detached(name, trigger, Some(Box::new(still_due)), snapshot).await
    }

    /// Replaces an archive project's services with those of an uploaded archive (refused whole, with nothing
    /// written, when the archive is not safe to unpack).
    pub async fn upload(&self, name: &str, bytes: axum::body::Bytes) -> Result<SyncView, ProjectError> {
        let project = self.store.project(name).await?.ok_or_else(|| ProjectError::NotFound(name.to_owned()))?;
        if project.kind != super::ProjectKind::Archive.as_str() {
            return Err(ProjectError::Invalid(format!(
                "project `{name}` syncs from its {}; only archive projects take uploads",
                project.kind
            )));
        }
        let snapshot = tokio::task::spawn_blocking(move || super::archive::unpack(&bytes))
            .await
            .map_err(|e| ProjectError::Invalid(format!("unpacking failed: {e}")))??;
        self.sync_with(name, "upload", move || Ok(snapshot)).await
    }

    /// Syncs project `name` from `snapshot` (run off the runtime): the files, or why they could not be had.
    pub async fn sync_with(
        &self,
        name: &str,
        trigger: &str,
        snapshot: impl FnOnce() -> Result<Snapshot, String> + Send + 'static,
    ) -> Result<SyncView, ProjectError> {
        let view = self.detached(name, trigger, None, Box::new(snapshot)).await?;
        view.ok_or_else(|| ProjectError::NotFound(name.to_owned()))
    }

    /// Runs a sync as a task of its own, so that a caller who goes away (a closed request) leaves neither a
    /// claim nor a sync recorded as running behind.
    async fn detached(
        &self,
        name: &str,
        trigger: &str,
        still_due: Option<Box<dyn FnOnce(Option<DateTime<Utc>>) -> bool + Send>>,
        snapshot: SnapshotFn,
    ) -> Result<Option<SyncView>, ProjectError> {
        let (this, name, trigger) = (self.clone(), name.to_owned(), trigger.to_owned());
        let task = tokio::spawn(async move {
            let token = format!("{}#{}", this.owner, uuid::Uuid::new_v4().simple());
            if !this.store.claim_sync(&name, &token, this.lease()).await? {
                return Err(ProjectError::Busy(name));
            }
            // Renewed on a task of its own, so that no stretch of the work delays it; stopped with the work.
            let renewing = AbortOnDropHandle::new(tokio::spawn(this.clone().keep_claim(name.clone(), token.clone())));
            let work = async {
                let newest = this.store.syncs(&name, 1).await?.first().map(|s| s.started_at);
                if still_due.is_some_and(|due| !due(newest)) {
                    return Ok(None);
                }
                this.sync_claimed(&name, &trigger, &token, snapshot).await.map(Some)
            };
            // A panic on the way still lets go of the claim.
            let result = std::panic::AssertUnwindSafe(work).catch_unwind().await.unwrap_or_else(|p| Err(stopped(&*p)));
            drop(renewing);
            if let Err(err) = this.store.release_sync(&name, &token).await {
                tracing::warn!(%err, project = %name, "could not release a sync claim; it runs out by itself");
            }
            result
        });
        task.await.map_err(|e| ProjectError::Invalid(format!("the sync stopped: {e}")))?
    }

    /// Renews the claim `token` on project `name` every sixth of its lease (sooner again after a failure), until
    /// the sync holding it ends and stops this task — or the claim is found lost (it ran out and was taken, or a
    /// restart of this process let go of it): the sync goes on, and
    /// [`Store::finish_sync`](crate::store::Store::finish_sync) refuses its result.
    async fn keep_claim(self, name: String, token: String) {
        let every = self.claim / 6;
        let mut wait = every;
        loop {
            tokio::time::sleep(wait).await;
            wait = match self.store.renew_sync(&name, &token, self.lease()).await {
                Ok(true) => every,
                Ok(false) => {
                    tracing::warn!(project = %name, "a sync lost its claim; its result will not be applied");
                    return;
                }
                Err(err) => {
                    tracing::warn!(%err, project = %name, "could not renew a sync claim; retrying");
                    RENEW_RETRY.min(every)
                }
            };
        }
    }

    /// How long a claim holds from now.
    pub(super) fn lease(&self) -> Duration {
        Duration::from_std(self.claim).unwrap_or_else(|_| Duration::days(1))
    }

    /// One sync, its claim held as `token`: recorded as running, then as it ended — as failed, services
    /// untouched, whatever goes wrong on the way.
    async fn sync_claimed(
        &self,
        name: &str,
        trigger: &str,
        token: &str,
        snapshot: SnapshotFn,
    ) -> Result<SyncView, ProjectError> {
        let id = self.store.start_sync(name, trigger).await?;
        // A panic on the way is recorded like any failure (nothing was written: the changes go in one
        // transaction).
        let outcome = std::panic::AssertUnwindSafe(async {
            let read = tokio::task::spawn_blocking(move || {
                let snapshot = snapshot()?;
                let walk = catalog::walk(&snapshot.root);
                Ok::<_, String>((snapshot, walk))
            })
            .await
            .unwrap_or_else(|e| Err(format!("reading the project failed: {e}")));
            let (changes, end) = match read {
                Ok((snapshot, walk)) => {
                    if let Some(key) = &snapshot.host_key {
                        self.store.pin_host_key(name, key).await?;
                    }
                    self.compare(name, &snapshot, walk).await?
                }
                Err(error) => (ServiceChanges::default(), failed(error)),
            };
            match end.result {
                "failed" => tracing::warn!(project = %name, error = ?end.error, "sync failed; services unchanged"),
                result => tracing::info!(project = %name, %result, revision = ?end.revision, "synced"),
            }
            match self.store.finish_sync(id, name, token, changes, end).await? {
                Finished::Done => Ok(()),
                Finished::ClaimLost => Err(ProjectError::Invalid(format!(
                    "the sync of `{name}` lost its claim on the project (it ran out, or was taken) and was not \
                     applied; sync again"
                ))),
                Finished::NameTaken { service, project } => Err(ProjectError::Invalid(format!(
                    "project `{project}` took the service name `{service}` during the sync; nothing was applied"
                ))),
            }
        })
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| Err(stopped(&*panic)));
        if let Err(err) = &outcome {
            // The services stay as they were; the record says why.
            if let Err(store) = self.store.fail_sync(id, &err.to_string()).await {
                tracing::warn!(%store, project = %name, "could not record a failed sync");
            }
            outcome?;
        }
        let row = self.store.syncs(name, 1).await?.into_iter().next();
        row.map(|row| super::views::sync_view(&row)).ok_or_else(|| ProjectError::NotFound(name.to_owned()))
    }

    /// What the scanned files change in the stored services of project `name`.
    async fn compare(
        &self,
        name: &str,
        snapshot: &Snapshot,
        walk: Walk,
    ) -> Result<(ServiceChanges, SyncEnd), ProjectError> {
        let Walk { scan: Scan { services, not_run, mut problems, broken_dirs }, broken_names, complete } = walk;
        let stored: BTreeMap<String, service::Model> =
            self.store.project_services(name).await?.into_iter().map(|s| (s.name.clone(), s)).collect();
        let names: Vec<String> = services.iter().map(|s| s.files.manifest.name.as_str().to_owned()).collect();
        let taken: HashMap<String, String> =
            self.store.owners_of(&names).await?.into_iter().filter(|(_, owner)| owner != name).collect();
        let mut invalid: BTreeSet<String> = broken_dirs.iter().cloned().collect();
        let (mut added, mut changed, mut unchanged) = (Vec::new(), Vec::new(), 0u64);
        let mut changes = ServiceChanges::default();
        let mut present = BTreeSet::new();
        for scanned in services {
            let service_name = scanned.files.manifest.name.as_str().to_owned();
            if let Some(owner) = taken.get(&service_name) {
                problems.push(
                    CatalogError::new(
                        join(&scanned.dir, "manifest.json"),
                        format!("project `{owner}` already has a service named `{service_name}`"),
                    )
                    .field("name"),
                );
                invalid.insert(scanned.dir.clone());
                continue;
            }
            present.insert(service_name.clone());
            let row = to_row(scanned, name, &snapshot.revision);
            match stored.get(&service_name) {
                Some(old) if same_files(old, &row) => unchanged += 1,
                Some(_) => {
                    changed.push(service_name);
                    changes.upsert.push(row);
                }
                None => {
                    added.push(service_name);
                    changes.upsert.push(row);
                }
            }
        }
        // A service whose directory is still there but broken keeps its last good version; when some directory
        // could not be looked at, nothing is removed (what was not seen may still be there).
        let removed: Vec<String> = stored
            .values()
            .filter(|old| complete && !present.contains(&old.name) && !broken_names.contains(&old.name))
            .filter(|old| !old.source_dir.as_ref().is_some_and(|dir| invalid.contains(dir)))
            .map(|old| old.name.clone())
            .collect();
        changes.remove = removed.clone();
        let result = if problems.is_empty() { "ok" } else { "partial" };
        let end = SyncEnd {
            result,
            revision: Some(snapshot.revision.clone()),
            author: snapshot.author.clone(),
            message: snapshot.message.clone(),
            committed_at: snapshot.committed_at,
            changes: SyncChanges {
                added,
                changed,
                removed,
                unchanged,
                invalid: invalid.into_iter().collect(),
                not_run: not_run.into_iter().map(|n| NotRunView { dir: n.dir, kind: n.kind }).collect(),
            },
            problems: problems.iter().map(ProblemView::from).collect(),
            error: None,
        };
        Ok((changes, end))
    }
}

/// The record of a sync that changed nothing, and why.
fn failed(error: String) -> SyncEnd {
    SyncEnd { result: "failed", error: Some(error), ..Default::default() }
}

/// Whether a stored service and a new row have the same files (and directory).
fn same_files(old: &service::Model, new: &service::Model) -> bool {
    old.manifest == new.manifest
        && old.deployment == new.deployment
        && old.parameters == new.parameters
        && old.configs == new.configs
        && old.secrets == new.secrets
        && old.source_dir == new.source_dir
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_owned()
    } else {
        format!("{dir}/{file}")
    }
}

/// The row a scanned service becomes, at `revision`.
fn to_row(scanned: ScannedService, project: &str, revision: &str) -> service::Model {
    let files = scanned.files;
    let m = &files.manifest;
    let strings = |items: Vec<String>| serde_json::Value::from(items).to_string();
    service::Model {
        name: m.name.as_str().to_owned(),
        project: project.to_owned(),
        kind: catalog::Manifest::KIND.to_owned(),
        description: m.description.clone(),
        active: m.active,
        allow_manual_triggering: m.allow_manual_triggering,
        trigger_events: serde_json::to_string(&m.trigger_events).unwrap_or_else(|_| "[]".into()),
        tags: strings(m.tags.clone()),
        manifest: files.manifest_json,
        deployment: files.deployment_yaml,
        parameters: files.parameters_json,
        configs: files.configs.map(|c| serde_json::Value::Object(c).to_string()),
        secrets: files.secrets.map(|secrets| {
            let plain: BTreeMap<&String, &str> = secrets.iter().map(|(k, v)| (k, v.expose_secret())).collect();
            serde_json::to_string(&plain).unwrap_or_default()
        }),
        updated_at: Utc::now(),
        revision: Some(revision.to_owned()),
        source_dir: Some(scanned.dir),
    }
}

/// What a sync that panicked ends with.
fn stopped(panic: &(dyn std::any::Any + Send)) -> ProjectError {
    ProjectError::Invalid(format!("the sync stopped: {}", crate::panics::message(panic)))
}

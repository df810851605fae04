//! Projects and syncs as the UI and the API show them. Never a token or a deploy key's private half; the
//! webhook secret only when asked for (admins).

use std::collections::HashMap;

use model::projects::{ProjectDetail, ProjectService, ProjectView, SyncChanges, SyncView};

use super::{ProjectError, Projects};
use crate::store::entities::{project, project_sync};

/// Syncs a project page lists.
const SYNCS_SHOWN: u64 = 20;

/// The path Git hosts send pushes to.
pub const WEBHOOK_PATH: &str = "/api/v1/git/push";

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A sync as recorded.
pub fn sync_view(row: &project_sync::Model) -> SyncView {
    let changes: SyncChanges = serde_json::from_str(&row.changes).unwrap_or_default();
    SyncView {
        id: row.id,
        trigger: row.trigger.clone(),
        result: row.result.clone(),
        revision: row.revision.clone(),
        author: row.author.clone(),
        message: row.message.clone(),
        committed_at: row.committed_at.map(time),
        started_at: time(row.started_at),
        finished_at: row.finished_at.map(time),
        added: changes.added,
        changed: changes.changed,
        removed: changes.removed,
        unchanged: changes.unchanged,
        invalid: changes.invalid,
        not_run: changes.not_run,
        problems: serde_json::from_str(&row.problems).unwrap_or_default(),
        error: row.error.clone(),
    }
}

fn project_view(row: &project::Model, services: u64, last_sync: Option<SyncView>) -> ProjectView {
    ProjectView {
        name: row.name.clone(),
        description: row.description.clone(),
        kind: row.kind.clone(),
        location: row.location.clone(),
        branch: row.branch.clone(),
        subdir: row.subdir.clone(),
        sync_interval_seconds: row.sync_interval_seconds,
        has_token: row.token.is_some(),
        deploy_key_public: row.deploy_key_public.clone(),
        ssh_host_key: row.ssh_host_key.clone(),
        services,
        last_sync,
    }
}

impl Projects {
    /// Every project with its service count and last sync.
    pub async fn list(&self) -> Result<Vec<ProjectView>, ProjectError> {
        let rows = self.store.projects().await?;
        let counts = self.store.service_counts().await?;
        let mut last: HashMap<String, project_sync::Model> =
            self.store.last_syncs().await?.into_iter().map(|s| (s.project.clone(), s)).collect();
        Ok(rows
            .iter()
            .map(|row| {
                let count = counts.get(&row.name).copied().unwrap_or(0);
                project_view(row, count, last.remove(&row.name).as_ref().map(sync_view))
            })
            .collect())
    }

    /// The problems of every project's last sync, as `project: problem`, for the services page.
    pub async fn problems(&self) -> Result<Vec<String>, ProjectError> {
        let mut problems = Vec::new();
        for sync in self.store.last_syncs().await? {
            let view = sync_view(&sync);
            if let Some(error) = &view.error {
                problems.push(format!("{}: the last sync failed: {error}", sync.project));
            }
            problems.extend(view.problems.iter().map(|p| format!("{}: {p}", sync.project)));
        }
        Ok(problems)
    }

    /// A project's page; `with_secret` adds the webhook secret (admins).
    pub async fn detail(&self, name: &str, with_secret: bool) -> Result<ProjectDetail, ProjectError> {
        let row = self.store.project(name).await?.ok_or_else(|| ProjectError::NotFound(name.to_owned()))?;
        let services: Vec<ProjectService> = self
            .store
            .project_services(name)
            .await?
            .into_iter()
            .map(|s| ProjectService { name: s.name, active: s.active, dir: s.source_dir, revision: s.revision })
            .collect();
        let syncs: Vec<SyncView> = self.store.syncs(name, SYNCS_SHOWN).await?.iter().map(sync_view).collect();
        let count = services.len() as u64;
        Ok(ProjectDetail {
            project: project_view(&row, count, syncs.first().cloned()),
            services,
            syncs,
            webhook_path: WEBHOOK_PATH.to_owned(),
            webhook_secret: with_secret.then(|| row.webhook_secret.clone()),
        })
    }
}

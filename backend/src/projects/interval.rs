//! Interval syncs: every few seconds, each Git project with `sync_interval_seconds` whose last sync started
//! that long ago is synced. With several k8x processes, the sync claim lets one at a time through, and the
//! last sync is read again under the claim, so a project due once is synced once.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::{ProjectError, ProjectKind, Projects};

/// How often due projects are looked for.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// Syncs due projects until `stop`.
pub async fn run(projects: Arc<Projects>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(LOOK_EVERY) => {}
        }
        if let Err(err) = projects.sync_due().await {
            tracing::warn!(%err, "could not look for projects due a sync");
        }
    }
}

impl Projects {
    /// Syncs each project whose interval has passed since its last sync began.
    pub async fn sync_due(&self) -> Result<(), ProjectError> {
        let now = Utc::now();
        let last = self.store.last_syncs().await?;
        for project in self.store.projects().await? {
            let Some(interval) = project.sync_interval_seconds else { continue };
            if project.kind != ProjectKind::Git.as_str() {
                continue;
            }
            let due = move |started: Option<chrono::DateTime<Utc>>| {
                started.is_none_or(|at| now - at >= chrono::Duration::seconds(i64::from(interval)))
            };
            let started = last.iter().find(|s| s.project == project.name).map(|s| s.started_at);
            if !due(started) {
                continue;
            }
            match self.sync_if(&project.name, "interval", due).await {
                Ok(_) | Err(ProjectError::Busy(_)) => {}
                Err(err) => tracing::warn!(%err, project = %project.name, "interval sync failed"),
            }
        }
        Ok(())
    }
}

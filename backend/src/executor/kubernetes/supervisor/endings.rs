//! How executions end: a Job that ended (after its pods' last log lines), a Job that is gone, an image that
//! will not come; and the executions taken over after a restart (adopted, or launched if they never were).

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use kube::ResourceExt;
use model::views::ExecutionStatus;
use tokio::{task::JoinHandle, time::Instant};

use super::{pods_of, Supervisor, LOG_DRAIN, LOG_DRAIN_STOPPED};
use crate::{
    executor::{
        kubernetes::observe::{observe, Phase},
        stored::NotLaunchable,
    },
    store::Ending,
};

/// How often the leases of followed executions are renewed (well within [`super::super::LEASE`]).
const RENEW_EVERY: Duration = Duration::from_secs(10);

/// How often executions that nobody follows (their process died, or a stop came between claim and Job) are
/// looked for.
const SCAN_EVERY: Duration = Duration::from_secs(30);

/// How often an execution another process follows is looked at again (taking it over is one cheap update
/// that succeeds only once that process's lease has run out or it let go).
const FOREIGN_RETRY: Duration = Duration::from_secs(5);

/// The lease, as the store counts time.
fn lease() -> chrono::Duration {
    chrono::Duration::from_std(super::super::LEASE).expect("a short duration")
}

impl Supervisor {
    /// Once a second: executions whose Job ended but whose pods had not; the leases' heartbeat; executions
    /// another process held that may be free now; image pull timeouts.
    pub(super) async fn on_tick(&mut self) {
        let waiting: Vec<String> =
            self.tracked.iter().filter(|(_, t)| t.ended_at.is_some()).map(|(id, _)| id.clone()).collect();
        for id in waiting {
            self.refresh(&id).await;
        }
        if self.renewed.elapsed() >= RENEW_EVERY {
            self.renewed = Instant::now();
            self.renew().await;
        }
        if self.scanned.elapsed() >= SCAN_EVERY && self.orphans_checked {
            self.scanned = Instant::now();
            self.check_orphans().await;
            self.prune_settled();
        }
        let due: Vec<String> =
            self.foreign.iter().filter(|(_, at)| Instant::now() >= **at).map(|(id, _)| id.clone()).collect();
        for id in due {
            self.foreign.remove(&id);
            self.retry_foreign(&id).await;
        }
        self.check_pull_timeouts();
    }

    /// Renews the leases of the executions followed here, and stops following any that another process
    /// took over meanwhile (this one was too slow to renew: it must not go on beside the other).
    async fn renew(&mut self) {
        let ids: Vec<String> = self.tracked.keys().cloned().collect();
        let held = match self.ctx.store.renew_leases(&self.ctx.owner, &ids, lease()).await {
            Ok(held) => held,
            Err(err) => {
                tracing::error!(%err, "could not renew the leases of the executions this process follows");
                return;
            }
        };
        for id in ids.iter().filter(|id| !held.contains(*id)) {
            tracing::warn!(execution = %id, "another k8x process took this execution over; no longer following it");
            if let Some(tracked) = self.tracked.remove(id) {
                tracked.stop.cancel();
                tokio::spawn(tracked.recorder.close());
            }
        }
    }

    /// Forgets ended executions whose Job and pods are gone: nothing will mention them again.
    fn prune_settled(&mut self) {
        let present: std::collections::HashSet<String> = self
            .jobs
            .values()
            .filter_map(super::execution_of)
            .chain(self.pods.values().filter_map(super::execution_of))
            .collect();
        self.settled.retain(|id| present.contains(id));
    }

    /// Gives up executions whose image could not be pulled for longer than allowed.
    pub(super) fn check_pull_timeouts(&mut self) {
        let limit = self.ctx.settings.image_pull_timeout;
        let expired: Vec<(String, String, String)> = self
            .tracked
            .iter()
            .filter(|(_, t)| t.stopping.is_none() && t.pull_failing_since.is_some_and(|since| since.elapsed() >= limit))
            .map(|(id, t)| (id.clone(), t.job_name.clone(), t.reason.clone().unwrap_or_default()))
            .collect();
        for (id, job_name, reason) in expired {
            let why = format!("{reason} (gave up after {} s)", limit.as_secs());
            if let Some(tracked) = self.tracked.get_mut(&id) {
                tracked.stopping = Some(Ending::failed(None, why).with_reason("ImagePullBackOff"));
            }
            self.delete(&id, &job_name);
        }
    }

    /// An execution's Job is gone: deleted by k8x (cancel), by somebody else, by its TTL, or while k8x was
    /// down. `last` is the Job as last seen: if it had ended, that is the ending.
    pub(super) async fn job_gone(&mut self, id: &str, last: Option<&Job>) {
        let Some(tracked) = self.tracked.get(id) else { return };
        // An earlier attempt's Job going (its TTL) says nothing about the attempt followed now.
        if last.is_some_and(|job| job.name_any() != tracked.job_name) {
            return;
        }
        let pods = |job| observe(job, &pods_of(&self.pods, id, &tracked.job_name));
        let ended = last.map(pods).and_then(|seen| match seen.phase {
            Phase::Ended(ending) => Some(ending),
            _ => None,
        });
        let ending = match (&tracked.stopping, ended) {
            (Some(ending), _) => ending.clone(),
            (None, Some(ending)) => ending,
            (None, None) => match self.ctx.store.execution(id).await {
                Ok(Some(row)) if row.cancel_requested => Ending::cancelled(),
                _ => Ending::failed(None, format!("the Job `{}` was deleted before it ended", tracked.job_name))
                    .with_reason("JobDeleted"),
            },
        };
        self.finish(id, ending);
    }

    /// Follows an execution this k8x did not launch: found in the store, not ended, run by Kubernetes.
    pub(super) async fn adopt(&mut self, id: &str) -> bool {
        if self.settled.contains(id) || self.foreign.get(id).is_some_and(|at| Instant::now() < *at) {
            return false;
        }
        let row = match self.ctx.store.execution(id).await {
            Ok(Some(row)) => row,
            Ok(None) => {
                self.settled.insert(id.to_owned());
                return false;
            }
            Err(err) => {
                tracing::error!(%err, execution = %id, "could not read an execution to adopt");
                return false;
            }
        };
        if ExecutionStatus::parse(&row.status).is_finished() || row.executor != "kubernetes" || row.job_name.is_none() {
            self.settled.insert(id.to_owned());
            return false;
        }
        // Another live process follows it: look again once its lease could have run out.
        match self.ctx.store.take_over(id, &self.ctx.owner, lease()).await {
            Ok(true) => {}
            Ok(false) => {
                self.foreign.insert(id.to_owned(), Instant::now() + FOREIGN_RETRY);
                return false;
            }
            Err(err) => {
                tracing::error!(%err, execution = %id, "could not take an execution over");
                self.foreign.insert(id.to_owned(), Instant::now() + FOREIGN_RETRY);
                return false;
            }
        }
        match self.ctx.relaunch.relaunch(&row).await {
            Ok(launch) => {
                tracing::info!(execution = %id, job = ?row.job_name, "adopting a running execution");
                let mut tracked = self.track(launch);
                tracked.running = ExecutionStatus::parse(&row.status) == ExecutionStatus::Running;
                tracked.created = row.job_uid.is_some();
                // Cancelled while nobody followed it: the cancel is carried out now.
                if row.cancel_requested {
                    tracked.stopping = Some(Ending::cancelled());
                    if tracked.created {
                        let job_name = tracked.job_name.clone();
                        self.tracked.insert(id.to_owned(), tracked);
                        self.delete(id, &job_name);
                        return true;
                    }
                }
                tracked.reason = row.reason.clone();
                self.tracked.insert(id.to_owned(), tracked);
                true
            }
            Err(NotLaunchable::Store(err)) => {
                // The database is away: look again later rather than fail what may run fine.
                tracing::warn!(execution = %id, %err, "could not read an execution to adopt; trying again later");
                self.foreign.insert(id.to_owned(), Instant::now() + FOREIGN_RETRY);
                false
            }
            Err(NotLaunchable::Gone(why)) => {
                tracing::error!(execution = %id, %why, "cannot adopt an execution");
                let ending =
                    Ending::failed(None, format!("k8x restarted and could not take the execution over: {why}"));
                if let Err(err) = self.ctx.store.finish_execution(id, &ending).await {
                    tracing::error!(%err, execution = %id, "could not record an ending");
                }
                self.settled.insert(id.to_owned());
                false
            }
        }
    }

    /// After the first listing of Jobs: executions claimed for a Job that is not there. One that never ran
    /// (k8x stopped between claiming it and creating the Job) is launched now; one that ran lost its Job
    /// while k8x was down.
    pub(super) async fn check_orphans(&mut self) {
        let rows = match self.ctx.store.unfinished_jobs().await {
            Ok(rows) => rows,
            Err(err) => {
                tracing::error!(%err, "could not list the executions to adopt");
                return;
            }
        };
        for row in rows {
            self.take_orphan(row).await;
        }
    }

    /// An unfinished execution whose Job is not in the cluster's listing: launched now if its Job was
    /// never created, else ended (a Job created once is never created again).
    async fn take_orphan(&mut self, row: crate::store::entities::execution::Model) {
        let Some(job_name) = row.job_name.clone() else { return };
        // Claimed by this process: its launch is on the way here (or done), not an orphan.
        let ours = row.owner.as_deref() == Some(self.ctx.owner.as_str());
        if ours || self.jobs.contains_key(&job_name) || self.tracked.contains_key(&row.id) || !self.adopt(&row.id).await
        {
            return;
        }
        if row.job_uid.is_none() && !row.cancel_requested {
            tracing::info!(execution = %row.id, job = %job_name, "launching an execution a stop interrupted");
            let launch = self.tracked[&row.id].recorder.launch().clone();
            self.create(launch);
        } else if row.job_uid.is_none() {
            self.finish(&row.id, Ending::cancelled());
        } else {
            self.job_gone(&row.id, None).await;
        }
    }

    /// Looks again at an execution another process followed: if that process died, this one takes over.
    async fn retry_foreign(&mut self, id: &str) {
        let row = match self.ctx.store.execution(id).await {
            Ok(Some(row)) => row,
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(%err, execution = %id, "could not look at an execution another process followed");
                self.foreign.insert(id.to_owned(), Instant::now() + FOREIGN_RETRY);
                return;
            }
        };
        match &row.job_name {
            Some(name) if self.jobs.contains_key(name) => self.refresh(id).await,
            Some(_) if self.orphans_checked => self.take_orphan(row).await,
            _ => {}
        }
    }

    /// Ends an execution once its followers have stored the last lines.
    pub(super) fn finish(&mut self, id: &str, ending: Ending) {
        let Some(tracked) = self.tracked.remove(id) else { return };
        self.settled.insert(id.to_owned());
        let drain = if tracked.stopping.is_some() { LOG_DRAIN_STOPPED } else { LOG_DRAIN };
        let id = id.to_owned();
        let shutdown = self.shutdown.clone();
        self.finishers.spawn(async move {
            let followers: Vec<JoinHandle<()>> = tracked.followers.into_values().collect();
            let mut all = futures::future::join_all(followers);
            if tokio::time::timeout(drain, &mut all).await.is_err() {
                tracing::warn!(execution = %id, "log streams did not end in time; stopping them");
                tracked.stop.cancel();
                all.await;
            }
            // k8x stopped while the last lines were read: leave the execution to the next start, which
            // reads the rest and records the ending then.
            if shutdown.is_cancelled() {
                tracked.recorder.close().await;
                return;
            }
            if let Err(err) = tracked.recorder.finish(ending).await {
                tracing::error!(%err, execution = %id, "could not record the end of an execution");
            }
        });
    }
}

//! What the supervisor is asked to do — track a launched execution, cancel one — and the results of the
//! API calls it runs in the background (create, own, delete).

use std::collections::HashMap;

use k8s_openapi::api::batch::v1::Job;
use kube::{api::DeleteParams, ResourceExt};
use model::views::ExecutionStatus;

use super::{Command, Done, Supervisor, Tracked};
use crate::{
    executor::{
        environment::job_name,
        kubernetes::{launch, objects::objects, retry},
        stored::end_unstarted,
        Launch, Recorder,
    },
    store::Ending,
};

impl Supervisor {
    pub(super) async fn on_command(&mut self, command: Command) {
        match command {
            Command::Track(launch) => {
                let launch = *launch;
                let id = launch.execution_id.clone();
                if self.tracked.contains_key(&id) {
                    return;
                }
                // Settled here before: a cancel that came before this launch (then it has ended), or an earlier
                // attempt (a retry is a new claim, and the execution is unfinished).
                if self.settled.contains(&id) {
                    match self.ctx.store.execution(&id).await {
                        Ok(Some(row))
                            if !ExecutionStatus::parse(&row.status).is_finished() && row.attempt == launch.attempt =>
                        {
                            self.settled.remove(&id);
                        }
                        _ => return,
                    }
                }
                let tracked = self.track(launch.clone());
                self.tracked.insert(id.clone(), tracked);
                self.create(launch);
                self.refresh(&id).await;
            }
            Command::Cancel(id) => self.cancel(&id).await,
        }
    }

    pub(super) async fn on_done(&mut self, done: Done) {
        match done {
            Done::Created { id } => {
                let Some(tracked) = self.tracked.get_mut(&id) else { return };
                tracked.created = true;
                tracked.owned = true;
                // A cancel that came while the Job was being created deletes it now.
                if tracked.stopping.is_some() {
                    let job_name = tracked.job_name.clone();
                    self.delete(&id, &job_name);
                }
            }
            Done::LaunchFailed { id, why } => {
                let Some(tracked) = self.tracked.get(&id) else { return };
                match tracked.stopping.clone() {
                    Some(ending) => self.finish(&id, ending),
                    None => {
                        tracked.recorder.sink().line("k8x", format!("could not launch: {why}")).await;
                        self.finish(&id, Ending::failed(None, why));
                    }
                }
            }
            Done::Deleted { id } => {
                let stopping = self.tracked.get(&id).and_then(|t| t.stopping.clone());
                if let Some(ending) = stopping {
                    self.finish(&id, ending);
                }
            }
            Done::DeleteFailed { id, why } => {
                if let Some(tracked) = self.tracked.get_mut(&id) {
                    tracked.stopping = None;
                    tracked.recorder.sink().line("k8x", format!("could not stop the Job: {why}")).await;
                }
            }
        }
    }

    /// Starts following an execution.
    pub(super) fn track(&self, launch: Launch) -> Tracked {
        let job_name = job_name(&launch.service.name, &launch.execution_id, launch.attempt);
        let recorder = Recorder::start(self.ctx.store.clone(), launch, self.ctx.settings.log_max_lines);
        Tracked {
            job_name,
            recorder,
            followers: HashMap::new(),
            init_done: HashMap::new(),
            stop: self.shutdown.child_token(),
            reason: None,
            running: false,
            pods: Vec::new(),
            pull_failing_since: None,
            stopping: None,
            ended_at: None,
            created: false,
            owned: false,
        }
    }

    /// Creates the execution's Secrets and Job in the background.
    pub(super) fn create(&self, launch: Launch) {
        let ctx = self.ctx.clone();
        let done = self.done_tx.clone();
        let sink = self.tracked.get(&launch.execution_id).map(|t| t.recorder.sink());
        tokio::spawn(async move {
            let objects = objects(&launch, &ctx.settings);
            if let Some(sink) = sink {
                for note in &objects.notes {
                    sink.line("k8x", note.clone()).await;
                }
            }
            let id = launch.execution_id;
            // The uid is recorded right away, here: `Done` messages do not outlive a stop.
            let record = |job: &Job| {
                let (store, id, uid) = (ctx.store.clone(), id.clone(), job.uid().unwrap_or_default());
                let done = done.clone();
                tokio::spawn(async move {
                    if let Err(err) = store.set_job_uid(&id, &uid).await {
                        tracing::error!(%err, execution = %id, "could not record that a Job exists");
                    }
                    let _ = done.send(Done::Created { id });
                })
            };
            let mut recorded = None;
            let created = launch::ensure(&ctx.jobs, &ctx.secrets, &objects, |job| recorded = Some(record(job))).await;
            if let Some(recording) = recorded {
                let _ = recording.await;
            }
            if let Err(why) = created {
                let _ = done.send(Done::LaunchFailed { id, why });
            }
        });
    }

    /// Gives an adopted execution's Secrets to its Job, in case k8x stopped before it did.
    pub(super) fn own(&self, launch: &Launch, job: &Job) {
        let ctx = self.ctx.clone();
        let objects = objects(launch, &ctx.settings);
        let job = job.clone();
        tokio::spawn(async move {
            if let Err(why) = launch::own(&ctx.secrets, &objects, &job).await {
                tracing::warn!(job = %job.name_any(), %why, "could not give the execution's Secrets to its Job");
            }
        });
    }

    /// Deletes an execution's Job (and with it its pods and Secrets) in the background.
    pub(super) fn delete(&self, id: &str, job_name: &str) {
        let ctx = self.ctx.clone();
        let done = self.done_tx.clone();
        let (id, job_name) = (id.to_owned(), job_name.to_owned());
        tokio::spawn(async move {
            let params = DeleteParams::background();
            let deleted = retry::call("delete a Job", || ctx.jobs.delete(&job_name, &params)).await;
            let _ = match deleted {
                Ok(_) => done.send(Done::Deleted { id }),
                Err(kube::Error::Api(status)) if status.is_not_found() => done.send(Done::Deleted { id }),
                Err(err) => done.send(Done::DeleteFailed { id, why: retry::explain("delete the Job", &err) }),
            };
        });
    }

    pub(super) async fn cancel(&mut self, id: &str) {
        if let Some(tracked) = self.tracked.get_mut(id) {
            if tracked.stopping.is_none() {
                tracked.stopping = Some(Ending::cancelled());
                let job_name = tracked.job_name.clone();
                tracked.recorder.sink().line("k8x", format!("cancelled: deleting Job `{job_name}`")).await;
                // A Job still being created is deleted once it exists (see `Done::Created`).
                if tracked.created {
                    self.delete(id, &job_name);
                }
            }
            return;
        }
        // Ending here already (its last log lines are being stored): the cancel comes too late — unless it has
        // been queued again for a retry since, which the read below finds.
        let retrying = self.settled.contains(id)
            && matches!(self.ctx.store.execution(id).await, Ok(Some(row)) if row.status == ExecutionStatus::Queued.as_str() && row.job_name.is_none());
        if self.settled.contains(id) && !retrying {
            return;
        }
        // Not followed here: delete its Job if it was created (whoever follows it sees the cancel recorded),
        // else it was never launched and simply ends.
        match self.ctx.store.execution(id).await {
            Ok(Some(row)) if !ExecutionStatus::parse(&row.status).is_finished() => match (row.job_name, row.job_uid) {
                (Some(job_name), Some(_)) => self.delete(id, &job_name),
                _ => {
                    self.settled.insert(id.to_owned());
                    if let Err(err) = end_unstarted(&self.ctx.store, id, Ending::cancelled()).await {
                        tracing::error!(%err, execution = %id, "could not record a cancel");
                    }
                }
            },
            Ok(_) => {}
            Err(err) => tracing::error!(%err, execution = %id, "could not read an execution to cancel"),
        }
    }
}

//! The supervisor: one task that owns what the Kubernetes executor knows and drives every execution from
//! what the cluster reports.
//!
//! Two watchers (`kube::runtime::watcher`, with its backoff) follow the Jobs and the pods labelled
//! `app.kubernetes.io/managed-by=k8x` in the namespace. Each change is looked at ([`observe`]): an execution
//! becomes running when a pod runs, records why it waits, and ends when its Job ends — after its log
//! followers have stored the last lines. Commands (track a launched execution, cancel one) and the results of
//! API calls made in the background arrive on channels. Everything here runs on this one task, so no state
//! is shared and no lock is needed; slow work (API calls, log reading, finishing) runs on tasks of its own.
//!
//! After a restart the watchers' first listing shows every managed Job: executions that have not ended are
//! adopted (status and log following resume where the store says); executions whose Job is missing are
//! launched if they never were, or failed if their Job went while k8x was down.
//!
//! Here: the state, the watch loop and `refresh` (one look at an execution); [`commands`]: tracking,
//! cancelling and the background API calls; [`endings`]: how executions end, adoption after a restart.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use futures::{Stream, StreamExt};
use k8s_openapi::api::{
    batch::v1::Job,
    core::v1::{Pod, Secret},
};
use kube::{
    runtime::{watcher, WatchStreamExt},
    Api, ResourceExt,
};
use model::views::ExecutionStatus;
use tokio::{sync::mpsc, task::JoinHandle, time::Instant};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{
    follow::Follower,
    objects::{label_value, EXECUTION_LABEL, MANAGED_BY},
    observe::{container_statuses, observe, Phase},
    Settings,
};
use crate::{
    executor::{Launch, Recorder},
    store::{Ending, Store},
};

/// How long an ended execution waits for its log followers to store the last lines.
const LOG_DRAIN: Duration = Duration::from_secs(60);
/// The same, when k8x deleted the Job itself (its pods are being killed).
const LOG_DRAIN_STOPPED: Duration = Duration::from_secs(10);
/// How long an ended Job waits for its pods' final states to arrive (the pod watch may lag the Job watch)
/// before the execution is ended with what is known.
const POD_SETTLE: Duration = Duration::from_secs(10);

/// What the executor asks of the supervisor.
pub enum Command {
    /// A claimed execution: create its objects and follow it.
    Track(Box<Launch>),
    /// Stop an execution (its cancel is recorded in the store).
    Cancel(String),
}

/// Results of background work.
enum Done {
    /// An execution's Job exists (created now, or found created before); its uid is recorded.
    Created { id: String },
    /// Creating the objects of an execution failed for good.
    LaunchFailed { id: String, why: String },
    /// k8x deleted an execution's Job (or it was gone already).
    Deleted { id: String },
    /// Deleting an execution's Job failed for good.
    DeleteFailed { id: String, why: String },
}

/// What the executor shares with its background tasks.
pub struct Context {
    /// This process, as the owner of the executions it follows.
    pub owner: String,
    pub jobs: Api<Job>,
    pub pods: Api<Pod>,
    pub secrets: Api<Secret>,
    pub store: Store,
    /// Rebuilds the launches of executions taken over.
    pub relaunch: Arc<dyn crate::executor::stored::Relaunch>,
    pub settings: Settings,
}

/// One execution being followed.
struct Tracked {
    job_name: String,
    recorder: Recorder,
    /// A follower per `pod/container` whose log is being read.
    followers: HashMap<String, JoinHandle<()>>,
    /// Per pod, a token per init container follower, cancelled when it has stored its last line: the
    /// containers' followers wait for them, so init containers' logs come first.
    init_done: HashMap<String, Vec<CancellationToken>>,
    /// Ends the followers when the execution is given up or k8x stops.
    stop: CancellationToken,
    /// What the execution page says it waits on.
    reason: Option<String>,
    running: bool,
    /// Pods seen, oldest first: the attempt number of a retried pod.
    pods: Vec<String>,
    /// Since when a pod waits on an image that cannot be pulled.
    pull_failing_since: Option<Instant>,
    /// k8x is deleting the Job (a cancel, an image that will not come): the ending once it is gone.
    stopping: Option<Ending>,
    /// When the Job was first seen ended while its pods were not yet seen ended.
    ended_at: Option<Instant>,
    /// Its Job exists (k8x created it, or found it): a cancel can delete it.
    created: bool,
    /// Its Secrets have been given to its Job (or that was asked for in this run).
    owned: bool,
}

/// The supervisor's state.
pub struct Supervisor {
    ctx: Arc<Context>,
    tracked: HashMap<String, Tracked>,
    /// Executions known to be ended (or not k8x's to follow): their Jobs are not looked at again.
    settled: HashSet<String>,
    /// Executions another live process follows, and when to try taking them over again.
    foreign: HashMap<String, Instant>,
    /// When the leases were last renewed.
    renewed: Instant,
    /// When executions without a live owner were last looked for (and `settled` pruned).
    scanned: Instant,
    jobs: HashMap<String, Job>,
    pods: HashMap<String, Pod>,
    /// Names listed since a watcher's (re)list began; what is missing from a finished relist is gone.
    relisting_jobs: Option<HashSet<String>>,
    relisting_pods: Option<HashSet<String>>,
    /// The first listing of pods is in: an ended Job's pods are known, so its logs can be read.
    pods_listed: bool,
    /// Executions whose Jobs are missing were handled once, after the first listing of Jobs.
    orphans_checked: bool,
    done_tx: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
    /// Finishing executions (waiting for their last log lines), so that a stop can wait for them.
    finishers: TaskTracker,
    shutdown: CancellationToken,
}

mod commands;
mod endings;

impl Supervisor {
    pub fn new(ctx: Arc<Context>, shutdown: CancellationToken) -> Self {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Self {
            ctx,
            tracked: HashMap::new(),
            settled: HashSet::new(),
            foreign: HashMap::new(),
            renewed: Instant::now(),
            scanned: Instant::now(),
            jobs: HashMap::new(),
            pods: HashMap::new(),
            relisting_jobs: None,
            relisting_pods: None,
            pods_listed: false,
            orphans_checked: false,
            done_tx,
            done_rx,
            finishers: TaskTracker::new(),
            shutdown,
        }
    }

    /// Runs until shutdown; then stops following (the Jobs go on in the cluster and are adopted on the next
    /// start) and lets executions that were ending store their last lines.
    pub async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let selector = format!("{}={}", MANAGED_BY.0, MANAGED_BY.1);
        let config = watcher::Config::default().labels(&selector);
        // managedFields are of no use here and are the larger part of a cached object.
        let mut jobs = Box::pin(
            watcher(self.ctx.jobs.clone(), config.clone())
                .default_backoff()
                .modify(|job: &mut Job| job.managed_fields_mut().clear()),
        );
        let mut pods = Box::pin(
            watcher(self.ctx.pods.clone(), config)
                .default_backoff()
                .modify(|pod: &mut Pod| pod.managed_fields_mut().clear()),
        );
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => break,
                Some(event) = next(&mut jobs) => self.on_job(event).await,
                Some(event) = next(&mut pods) => self.on_pod(event).await,
                Some(command) = commands.recv() => self.on_command(command).await,
                Some(done) = self.done_rx.recv() => self.on_done(done).await,
                _ = tick.tick() => self.on_tick().await,
            }
        }
        for (_, tracked) in self.tracked.drain() {
            tracked.stop.cancel();
            for (_, follower) in tracked.followers {
                let _ = follower.await;
            }
            tracked.recorder.close().await;
        }
        self.finishers.close();
        self.finishers.wait().await;
        // A clean stop: other processes (or the next start) may take over at once.
        if let Err(err) = self.ctx.store.release_leases(&self.ctx.owner).await {
            tracing::warn!(%err, "could not release the executions this process followed");
        }
    }

    async fn on_job(&mut self, event: Result<watcher::Event<Job>, watcher::Error>) {
        let event = match event {
            Ok(event) => event,
            Err(err) => {
                tracing::warn!(%err, "watching Jobs failed; the watcher retries");
                return;
            }
        };
        match event {
            watcher::Event::Init => self.relisting_jobs = Some(HashSet::new()),
            watcher::Event::InitApply(job) | watcher::Event::Apply(job) => {
                let name = job.name_any();
                if let Some(listed) = self.relisting_jobs.as_mut() {
                    listed.insert(name.clone());
                }
                let id = execution_of(&job);
                self.jobs.insert(name, job);
                if let Some(id) = id {
                    self.refresh(&id).await;
                }
            }
            watcher::Event::Delete(job) => {
                self.jobs.remove(&job.name_any());
                if let Some(id) = execution_of(&job) {
                    self.job_gone(&id, Some(&job)).await;
                }
            }
            watcher::Event::InitDone => {
                let listed = self.relisting_jobs.take().unwrap_or_default();
                let gone: Vec<Job> = self.jobs.values().filter(|j| !listed.contains(&j.name_any())).cloned().collect();
                for job in gone {
                    self.jobs.remove(&job.name_any());
                    if let Some(id) = execution_of(&job) {
                        self.job_gone(&id, Some(&job)).await;
                    }
                }
                if !self.orphans_checked {
                    self.orphans_checked = true;
                    self.check_orphans().await;
                }
            }
        }
    }

    async fn on_pod(&mut self, event: Result<watcher::Event<Pod>, watcher::Error>) {
        let event = match event {
            Ok(event) => event,
            Err(err) => {
                tracing::warn!(%err, "watching pods failed; the watcher retries");
                return;
            }
        };
        let touched = match event {
            watcher::Event::Init => {
                self.relisting_pods = Some(HashSet::new());
                None
            }
            watcher::Event::InitApply(pod) | watcher::Event::Apply(pod) => {
                let name = pod.name_any();
                if let Some(listed) = self.relisting_pods.as_mut() {
                    listed.insert(name.clone());
                }
                let id = execution_of(&pod);
                self.pods.insert(name, pod);
                id
            }
            watcher::Event::Delete(pod) => {
                self.pods.remove(&pod.name_any());
                execution_of(&pod)
            }
            watcher::Event::InitDone => {
                let listed = self.relisting_pods.take().unwrap_or_default();
                self.pods.retain(|name, _| listed.contains(name));
                self.pods_listed = true;
                let ids: Vec<String> = self.tracked.keys().cloned().collect();
                for id in ids {
                    self.refresh(&id).await;
                }
                None
            }
        };
        if let Some(id) = touched {
            self.refresh(&id).await;
        }
    }

    /// Looks at an execution's Job and pods again and records what changed.
    async fn refresh(&mut self, id: &str) {
        if !self.tracked.contains_key(id) && !self.adopt(id).await {
            return;
        }
        let Some(tracked) = self.tracked.get_mut(id) else { return };
        let Some(job) = self.jobs.get(&tracked.job_name) else { return };
        if !tracked.created {
            // Seen in the cluster: recorded before anything else about it, so an execution recorded as
            // running always has its Job recorded as created.
            tracked.created = true;
            if let Err(err) = self.ctx.store.set_job_uid(id, &job.uid().unwrap_or_default()).await {
                tracing::error!(%err, execution = %id, "could not record that a Job exists");
            }
        }
        if !tracked.owned {
            tracked.owned = true;
            let launch = tracked.recorder.launch().clone();
            let job = job.clone();
            self.own(&launch, &job);
        }
        let Some(tracked) = self.tracked.get_mut(id) else { return };
        let Some(job) = self.jobs.get(&tracked.job_name) else { return };
        let pods = pods_of(&self.pods, id, &tracked.job_name);
        for pod in &pods {
            let name = pod.name_any();
            if !tracked.pods.contains(&name) {
                tracked.pods.push(name.clone());
                if tracked.pods.len() > 1 {
                    let attempt = tracked.pods.len();
                    tracked.recorder.sink().line("k8x", format!("attempt {attempt}: pod `{name}`")).await;
                }
            }
            follow_started_containers(&self.ctx, id, tracked, pod);
        }
        if tracked.stopping.is_some() {
            return;
        }
        let seen = observe(job, &pods);
        if (seen.phase == Phase::Running || matches!(seen.phase, Phase::Ended(_))) && !tracked.running {
            tracked.running = true;
            if let Err(err) = self.ctx.store.mark_running(id).await {
                tracing::error!(%err, execution = %id, "could not record that an execution runs");
            }
        }
        if seen.reason != tracked.reason {
            tracked.reason = seen.reason.clone();
            if let Some(reason) = &seen.reason {
                tracked.recorder.sink().line("k8x", reason.clone()).await;
            }
            if let Err(err) = self.ctx.store.set_reason(id, seen.reason.as_deref()).await {
                tracing::error!(%err, execution = %id, "could not record why an execution waits");
            }
        }
        tracked.pull_failing_since = match (seen.image_pull_failing, tracked.pull_failing_since) {
            (true, None) => Some(Instant::now()),
            (true, since) => since,
            (false, _) => None,
        };
        if let Phase::Ended(ending) = seen.phase {
            // The pods of an ended Job must be known, and seen ended, before their logs are read to the end:
            // the pod watch may lag behind the Job watch.
            let ended_at = *tracked.ended_at.get_or_insert_with(Instant::now);
            let phases: Vec<&str> = pods_of(&self.pods, id, &tracked.job_name)
                .iter()
                .map(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending"))
                .collect();
            // The pod that made the ending must be seen too (its exit code and reason are in the ending);
            // a Job that ended without one (its pods deleted, a deadline before any started) ends after
            // POD_SETTLE.
            let deciding = if ending.status == ExecutionStatus::Succeeded { "Succeeded" } else { "Failed" };
            let settled = phases.iter().all(|p| matches!(*p, "Succeeded" | "Failed")) && phases.contains(&deciding);
            if self.pods_listed && (settled || ended_at.elapsed() >= POD_SETTLE) {
                self.finish(id, ending);
            }
        } else {
            self.check_pull_timeouts();
        }
    }
}

/// Starts a follower for every container of `pod` that has started and is not followed yet.
fn follow_started_containers(ctx: &Arc<Context>, id: &str, tracked: &mut Tracked, pod: &Pod) {
    let pod_name = pod.name_any();
    let init: Vec<String> = pod
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_ref())
        .into_iter()
        .flatten()
        .map(|c| c.name.clone())
        .collect();
    let statuses: Vec<_> = container_statuses(pod).collect();
    let several = statuses.len() > 1;
    for status in statuses {
        let started = status.state.as_ref().is_some_and(|s| s.running.is_some() || s.terminated.is_some());
        let key = format!("{pod_name}/{}", status.name);
        if !started || tracked.followers.contains_key(&key) {
            continue;
        }
        let done = CancellationToken::new();
        let is_init = init.contains(&status.name);
        let after = if is_init { Vec::new() } else { tracked.init_done.get(&pod_name).cloned().unwrap_or_default() };
        if is_init {
            tracked.init_done.entry(pod_name.clone()).or_default().push(done.clone());
        }
        let follower = Follower {
            pods: ctx.pods.clone(),
            store: ctx.store.clone(),
            execution_id: id.to_owned(),
            pod: pod_name.clone(),
            container: status.name.clone(),
            prefix: if several { format!("[{}] ", status.name) } else { String::new() },
            sink: tracked.recorder.sink(),
            stop: tracked.stop.clone(),
            after,
            done,
        };
        tracked.followers.insert(key, tokio::spawn(follower.run()));
    }
}

/// The pods of an execution, oldest first.
/// The pods of execution `id`'s Job `job_name` (a retried execution's earlier Jobs have pods of their own).
fn pods_of<'a>(pods: &'a HashMap<String, Pod>, id: &str, job_name: &str) -> Vec<&'a Pod> {
    let label = label_value(id);
    let of_job = |p: &Pod| {
        let labels = p.labels();
        let named = labels.get("batch.kubernetes.io/job-name").or_else(|| labels.get("job-name"));
        named.is_none_or(|name| name == job_name)
    };
    let mut pods: Vec<&Pod> =
        pods.values().filter(|p| p.labels().get(EXECUTION_LABEL) == Some(&label) && of_job(p)).collect();
    pods.sort_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0));
    pods
}

/// The execution a managed object belongs to.
fn execution_of(object: &impl ResourceExt) -> Option<String> {
    object.labels().get(EXECUTION_LABEL).cloned()
}

/// The next item of a watcher stream (never-ending in practice).
async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    stream.next().await
}

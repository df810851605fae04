//! The local executor: runs each container of the prepared Job as a host process, with the environment a
//! pod would get, for one machine without a cluster.
//!
//! Init containers run first, one after another, each to success; then the containers side by side.
//! Processes start from an empty environment plus `PATH` and `HOME` (a fresh working directory per
//! execution), so the host's own variables never leak into a service. Containers of one Job run side by side,
//! as in a pod; the execution succeeds when every one exits with 0. `activeDeadlineSeconds` is honoured.
//! Each container runs in a process group of its own, and the whole group is killed when its main process
//! ends, the deadline passes or the execution is cancelled — as a container's processes all end with it.
//! When k8x stops, running executions get a grace period to finish (`K8X_SHUTDOWN_GRACE`); after it they are
//! killed and recorded as interrupted (retried per the service's policy). Output a background process keeps
//! open after its container ended is read for [`DRAIN`] more, then let go, so it cannot hold anything up.
//!
//! An execution belongs to the process running it: a lease, renewed while it runs; executions whose process
//! died (the lease ran out) are ended as interrupted by any k8x ([`Store::interrupt_abandoned`]). At most
//! `max_running` executions run at once on this host; the others stay queued until a slot frees. `K8X_PARAMS_FILE` and `K8X_EVENT_FILE` are files in `.k8x/` of the working directory.
//! [`isolation`] keeps the processes out of k8x's data directory and config file (Landlock).

pub mod isolation;

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use futures::future::join_all;
use k8s_openapi::api::core::v1::Container;
use model::views::ExecutionStatus;
use secrecy::{ExposeSecret, SecretString};
use tokio::{
    io::{AsyncRead, BufReader},
    process::{Child, Command},
    time::Instant,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{
    environment::{job_name, prepare_job, Payload, Placement, EVENT_FILE, PARAMS_FILE},
    mask::MAX_READ_BYTES,
    recorder::LogSink,
    Executor, ExecutorError, Launch, Recorder,
};
use crate::store::{Cap, Ending, Store};

/// Runs executions as host processes.
#[derive(Clone)]
pub struct LocalExecutor {
    /// Where executions and their logs are recorded.
    store: Store,
    /// Parent of the per-execution working directories.
    work_dir: PathBuf,
    /// Cancelled when k8x's shutdown grace period has run out: running processes are killed and their
    /// executions recorded as interrupted.
    kill: CancellationToken,
    /// This process, as the owner of the executions it runs.
    owner: String,
    /// At most this many executions run at once here.
    max_running: usize,
    /// Starts the heartbeat with the first launch.
    heartbeat: Arc<std::sync::Once>,
    /// The supervising tasks, so that shutdown can wait for them to record their ending.
    tasks: TaskTracker,
    /// A token per running execution (cancelling it kills the execution's processes), and whether its claim
    /// went through (only then is it this process's, with a lease to renew).
    running: Arc<Mutex<HashMap<String, (CancellationToken, bool)>>>,
    /// What the processes may not touch.
    isolation: isolation::Isolation,
    /// The most log lines kept of one execution.
    max_log_lines: u64,
}

impl LocalExecutor {
    /// An executor whose running executions are killed when `kill` is cancelled.
    pub fn new(store: Store, work_dir: PathBuf, kill: CancellationToken) -> Self {
        Self {
            store,
            work_dir,
            kill,
            owner: uuid::Uuid::new_v4().to_string(),
            max_running: default_max_running(),
            heartbeat: Arc::new(std::sync::Once::new()),
            tasks: TaskTracker::new(),
            running: Default::default(),
            isolation: isolation::Isolation::default(),
            max_log_lines: crate::config::Config::default().log_max_lines,
        }
    }

    /// The same executor, keeping at most `max` log lines of an execution.
    pub fn keeping_log_lines(self, max: u64) -> Self {
        Self { max_log_lines: max, ..self }
    }

    /// The same executor, holding the executions it runs as `owner` (this k8x's name among the processes on
    /// its database).
    pub fn owned_by(self, owner: &str) -> Self {
        Self { owner: owner.to_owned(), ..self }
    }

    /// The same executor, running at most `max` executions at once (at least one).
    pub fn running_at_most(self, max: usize) -> Self {
        Self { max_running: max.max(1), ..self }
    }

    /// The same executor, keeping its processes out of `paths` (k8x's data directory and config file).
    pub fn hiding(self, paths: impl IntoIterator<Item = PathBuf>) -> Self {
        Self { isolation: isolation::Isolation::hiding(paths), ..self }
    }

    /// Waits until every execution this executor started has recorded its ending.
    pub async fn wait(&self) {
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// How many executions run here now.
    pub fn running(&self) -> usize {
        self.running.lock().expect("not poisoned").len()
    }

    /// Renews the leases of the executions running here every [`RENEW_EVERY`], until every one has ended after
    /// a stop.
    async fn heartbeat(self) {
        let lease = chrono::Duration::from_std(LEASE).expect("a short duration");
        loop {
            tokio::select! {
                _ = tokio::time::sleep(RENEW_EVERY) => {}
                _ = self.tasks.wait() => if self.tasks.is_closed() { return },
            }
            let ids: Vec<String> = {
                let running = self.running.lock().expect("not poisoned");
                running.iter().filter(|(_, (_, claimed))| *claimed).map(|(id, _)| id.clone()).collect()
            };
            let held = match self.store.renew_leases(&self.owner, &ids, lease).await {
                Ok(held) => held,
                Err(err) => {
                    tracing::warn!(%err, "could not renew the leases of the executions running here");
                    continue;
                }
            };
            // One whose lease another process took (this one was too slow to renew: it counts as gone) must not go
            // on beside its retry; one somebody cancelled through another process stops here.
            let cancelled = self.store.cancel_requested_among(&ids).await.unwrap_or_default();
            let running = self.running.lock().expect("not poisoned");
            for id in ids.iter().filter(|id| !held.contains(id) || cancelled.contains(id)) {
                if let Some((token, _)) = running.get(id) {
                    tracing::warn!(execution = %id, "stopping an execution cancelled or taken over elsewhere");
                    token.cancel();
                }
            }
        }
    }
}

/// How long an execution is held without a heartbeat.
const LEASE: Duration = Duration::from_secs(30);
/// How often the heartbeat renews.
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// How long output is still read once a container's processes have ended (a background process that escaped
/// its group may hold the pipe open forever).
const DRAIN: Duration = Duration::from_secs(2);

/// The default host-wide cap: four executions per core.
fn default_max_running() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get() * 4)
}

#[async_trait]
impl Executor for LocalExecutor {
    async fn launch(&self, launch: Launch) -> Result<(), ExecutorError> {
        // The token is there before the claim, so a cancel that sees the execution running always finds it; and
        // taking the slot with it keeps the host-wide cap under concurrent launches. Without a free slot the
        // execution stays queued: the queue launches it when one frees.
        let cancel = CancellationToken::new();
        {
            let mut running = self.running.lock().expect("not poisoned");
            if running.len() >= self.max_running || running.contains_key(&launch.execution_id) {
                return Ok(());
            }
            running.insert(launch.execution_id.clone(), (cancel.clone(), false));
        }
        // The heartbeat renews the leases of what runs here, from the first launch on.
        self.heartbeat.call_once(|| drop(tokio::spawn(self.clone().heartbeat())));
        let lease = chrono::Duration::from_std(LEASE).expect("a short duration");
        let cap = Cap::of(&launch.service.name, launch.service.max_concurrency);
        let claimed = self.store.claim_execution(&launch.execution_id, &self.owner, lease, cap).await;
        if !matches!(claimed, Ok(true)) {
            self.running.lock().expect("not poisoned").remove(&launch.execution_id);
            // Cancelled between its creation and this claim: it ends here, announced as usual.
            if cancel.is_cancelled() {
                super::stored::end_unstarted(&self.store, &launch.execution_id, Ending::cancelled()).await?;
            }
            claimed?;
            return Ok(());
        }
        if let Some(slot) = self.running.lock().expect("not poisoned").get_mut(&launch.execution_id) {
            slot.1 = true;
        }
        let recorder = Recorder::start(self.store.clone(), launch.clone(), self.max_log_lines);
        let work = self.work_dir.join(&launch.execution_id);
        let kill = self.kill.clone();
        let running = self.running.clone();
        let isolation = self.isolation.clone();
        let store = self.store.clone();
        self.tasks.spawn(async move {
            let sink = recorder.sink();
            let stop = Stop { kill: &kill, cancel: &cancel };
            let ending = run_pod(&launch, &work, &isolation, &sink, stop).await;
            drop(sink);
            let _ = std::fs::remove_dir_all(&work);
            if let Err(err) = recorder.finish(ending).await {
                tracing::error!(%err, "could not record the end of an execution");
            }
            // The slot frees only after the ending is recorded, so the cap holds in the database too.
            running.lock().expect("not poisoned").remove(&launch.execution_id);
            store.nudge_queue();
        });
        Ok(())
    }

    fn has_room(&self) -> bool {
        self.running() < self.max_running
    }

    async fn cancel(&self, execution_id: &str) -> Result<(), ExecutorError> {
        let token = self.running.lock().expect("not poisoned").get(execution_id).map(|(token, _)| token.clone());
        match token {
            Some(token) => token.cancel(),
            // Not started yet: it ends here (announced as usual), and a launch that comes later finds it
            // cancelled and does not claim it.
            None => super::stored::end_unstarted(&self.store, execution_id, Ending::cancelled()).await?,
        }
        Ok(())
    }
}

/// What stops a running execution early.
#[derive(Clone, Copy)]
struct Stop<'a> {
    /// k8x is stopping and the grace period has run out.
    kill: &'a CancellationToken,
    /// Somebody cancelled the execution.
    cancel: &'a CancellationToken,
}

/// Runs the pod of the prepared Job as Kubernetes would: each init container in turn, each to success, then
/// all containers side by side, within `activeDeadlineSeconds`. The working directory is shared by all, like
/// an `emptyDir` volume.
async fn run_pod(
    launch: &Launch,
    work: &Path,
    isolation: &isolation::Isolation,
    sink: &LogSink,
    stop: Stop<'_>,
) -> Ending {
    let payload = Payload::of(launch);
    let files = work.join(".k8x");
    let placement = Placement {
        secret: job_name(&launch.service.name, &launch.execution_id, launch.attempt),
        payload_dir: files.display().to_string(),
    };
    let job = prepare_job(launch, &payload, &placement);
    let deadline = job
        .spec
        .as_ref()
        .and_then(|s| s.active_deadline_seconds)
        .map(|s| Instant::now() + Duration::from_secs(s.max(0) as u64));
    let pod = job.spec.and_then(|s| s.template.spec).unwrap_or_default();
    if let Err(err) = write_payload(&files, &payload) {
        let why = format!("cannot prepare the working directory: {err}");
        sink.line("k8x", format!("could not start: {why}")).await;
        return Ending::failed(None, why);
    }
    for note in payload.notes() {
        sink.line("k8x", note).await;
    }
    let init = pod.init_containers.unwrap_or_default();
    let step = Step {
        launch,
        work,
        plan: isolation.plan(work),
        sink,
        deadline,
        stop,
        secret: placement.secret.clone(),
        prefix_lines: init.len() + pod.containers.len() > 1,
    };
    for container in &init {
        let mut ending = step.run(std::slice::from_ref(container)).await;
        if ending.status != ExecutionStatus::Succeeded {
            // "container `x` exited with 3" becomes "init container `x` exited with 3".
            ending.error =
                ending.error.map(|why| if why.starts_with("container ") { format!("init {why}") } else { why });
            return ending;
        }
    }
    step.run(&pod.containers).await
}

/// Writes `K8X_PARAMS_FILE` and `K8X_EVENT_FILE`, readable by the owner only (they may hold sensitive data),
/// and makes the `TMPDIR`.
fn write_payload(dir: &Path, payload: &Payload) -> std::io::Result<()> {
    for (file, text) in [(PARAMS_FILE, &payload.params), (EVENT_FILE, &payload.event)] {
        crate::private_file::write(&dir.join(file), text.as_bytes(), true)?;
    }
    if let Some(work) = dir.parent() {
        std::fs::create_dir_all(work.join(".tmp"))?;
    }
    Ok(())
}

/// The running processes of a group of containers.
struct Started {
    children: Vec<(String, Child)>,
    /// The process group of each container (its main process's pid), kept because a reaped child forgets it.
    groups: Vec<u32>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

/// What running a group of containers needs.
struct Step<'a> {
    launch: &'a Launch,
    work: &'a Path,
    /// What the processes may read and write.
    plan: isolation::Plan,
    sink: &'a LogSink,
    /// When the Job's `activeDeadlineSeconds` runs out.
    deadline: Option<Instant>,
    stop: Stop<'a>,
    /// The Secret whose `secretKeyRef`s the local executor resolves from the service's secrets.
    secret: String,
    /// Prefix each line with its container's name (the pod has more than one container).
    prefix_lines: bool,
}

impl Step<'_> {
    /// Starts `containers` side by side and waits for them.
    async fn run(&self, containers: &[Container]) -> Ending {
        match self.start(containers).await {
            Ok(started) => supervise(started, self.deadline, self.stop).await,
            Err(why) => {
                self.sink.line("k8x", format!("could not start: {why}")).await;
                Ending::failed(None, why)
            }
        }
    }

    /// Spawns `containers`, each with its environment and its output wired to the sink.
    async fn start(&self, containers: &[Container]) -> Result<Started, String> {
        let secrets = &self.launch.service.secrets;
        let secret = &self.secret;
        let mut started = Started { children: Vec::new(), groups: Vec::new(), readers: Vec::new() };
        for container in containers {
            let env = environment(container, secret, secrets, self.sink).await;
            let confined = command(container, self.work, env).and_then(|cmd| self.confine(cmd));
            if let Ok((_, false)) = &confined {
                let note =
                    "this kernel has no Landlock: the process runs unconfined and could read k8x's data directory";
                self.sink.line("k8x", note.to_owned()).await;
            }
            let spawned = confined
                .and_then(|(mut cmd, _)| cmd.spawn().map_err(|e| format!("container `{}`: {e}", container.name)));
            let mut child = match spawned {
                Ok(child) => child,
                Err(why) => {
                    // The containers already started must not outlive the execution that failed to start.
                    kill_groups(&started.groups);
                    return Err(why);
                }
            };
            let prefix = if self.prefix_lines { format!("[{}] ", container.name) } else { String::new() };
            if let Some(out) = child.stdout.take() {
                started.readers.push(tokio::spawn(read_lines(out, "stdout", prefix.clone(), self.sink.clone())));
            }
            if let Some(err) = child.stderr.take() {
                started.readers.push(tokio::spawn(read_lines(err, "stderr", prefix, self.sink.clone())));
            }
            started.groups.extend(child.id());
            started.children.push((container.name.clone(), child));
        }
        Ok(started)
    }
}

impl Step<'_> {
    /// Confines the process to the plan (Linux with Landlock); false when it will run unconfined.
    #[cfg(target_os = "linux")]
    fn confine(&self, mut cmd: Command) -> Result<(Command, bool), String> {
        let Some(sandbox) = isolation::Sandbox::new(&self.plan)? else { return Ok((cmd, false)) };
        // SAFETY: `enter` only takes the prepared ruleset out of its own (uncontended) slot and makes the
        // `prctl` and `landlock_restrict_self` calls: nothing that allocates or waits on another thread.
        unsafe { cmd.pre_exec(move || sandbox.enter()) };
        Ok((cmd, true))
    }

    #[cfg(not(target_os = "linux"))]
    fn confine(&self, cmd: Command) -> Result<(Command, bool), String> {
        Ok((cmd, false))
    }
}

/// The process for one container: `command` + `args`, in `work`, with exactly `env` plus PATH, HOME and TMPDIR.
fn command(container: &Container, work: &Path, env: BTreeMap<String, String>) -> Result<Command, String> {
    let argv: Vec<&String> = container.command.iter().flatten().chain(container.args.iter().flatten()).collect();
    let Some((program, args)) = container.command.as_ref().filter(|c| !c.is_empty()).and(argv.split_first()) else {
        return Err(format!(
            "container `{}` has no `command`; the local executor runs `command` + `args` on this machine and cannot use an image's entrypoint",
            container.name
        ));
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()))
        .env("HOME", work)
        .env("TMPDIR", work.join(".tmp"))
        .envs(env)
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    Ok(cmd)
}

/// The container's variables, with k8x's secret references resolved to their values.
async fn environment(
    container: &Container,
    secret: &str,
    secrets: &BTreeMap<String, SecretString>,
    sink: &LogSink,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for var in container.env.iter().flatten() {
        if let Some(value) = &var.value {
            env.insert(var.name.clone(), value.clone());
            continue;
        }
        let reference = var.value_from.as_ref().and_then(|v| v.secret_key_ref.as_ref());
        match reference.filter(|r| r.name == secret).and_then(|r| secrets.get(&r.key)) {
            Some(value) => {
                env.insert(var.name.clone(), value.expose_secret().to_owned());
            }
            None if var.value_from.is_some() => {
                let note =
                    format!("`{}` takes its value from the cluster; the local executor leaves it unset", var.name);
                sink.line("k8x", note).await;
            }
            None => {
                env.insert(var.name.clone(), String::new());
            }
        }
    }
    env
}

async fn read_lines(stream: impl AsyncRead + Unpin, name: &'static str, prefix: String, sink: LogSink) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        match super::lines::read_line(&mut reader, &mut buf, MAX_READ_BYTES).await {
            Ok(None) => return,
            Ok(Some(_)) => sink.line(name, format!("{prefix}{}", String::from_utf8_lossy(&buf))).await,
            Err(err) => {
                sink.line("k8x", format!("reading {name} failed: {err}")).await;
                return;
            }
        }
    }
}

/// Waits for every process (or the deadline, or shutdown) and says how they ended.
async fn supervise(mut started: Started, deadline: Option<Instant>, stop: Stop<'_>) -> Ending {
    let waits =
        join_all(started.children.iter_mut().map(|(name, child)| async move { (name.clone(), child.wait().await) }));
    let deadline = async {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        results = waits => Ok(results),
        _ = deadline => Err(Ending::failed(None, "the Job's activeDeadlineSeconds passed; its processes were killed").with_reason("DeadlineExceeded")),
        _ = stop.kill.cancelled() => Err(Ending::interrupted("k8x stopped and its shutdown grace period ran out; the processes were killed")),
        _ = stop.cancel.cancelled() => Err(Ending::cancelled()),
    };
    let results = match outcome {
        Ok(results) => results,
        Err(ending) => {
            kill_groups(&started.groups);
            for (_, child) in &mut started.children {
                let _ = child.kill().await;
            }
            drain(started.readers).await;
            return ending;
        }
    };
    // Whatever the main processes left running in the background ends with them; then the pipes close and
    // the last lines can be read before the ending is recorded.
    kill_groups(&started.groups);
    drain(started.readers).await;
    let mut first_failure = None;
    for (name, result) in results {
        let failure = match result {
            Ok(status) if status.success() => continue,
            Ok(status) => match status.code() {
                Some(code) => (Some(code), format!("container `{name}` exited with {code}")),
                None => (None, format!("container `{name}` was killed by a signal")),
            },
            Err(err) => (None, format!("container `{name}`: {err}")),
        };
        first_failure.get_or_insert(failure);
    }
    match first_failure {
        None => Ending::succeeded(),
        Some((code, why)) => Ending::failed(code, why),
    }
}

/// Waits for the output readers to reach the end of their pipes, at most [`DRAIN`]: a process that left its
/// group (`setsid`) and kept the pipe open is not waited for.
async fn drain(readers: Vec<tokio::task::JoinHandle<()>>) {
    let aborts: Vec<_> = readers.iter().map(tokio::task::JoinHandle::abort_handle).collect();
    if tokio::time::timeout(DRAIN, join_all(readers)).await.is_err() {
        tracing::warn!("a background process kept an execution's output open after it ended; stopped reading it");
        aborts.iter().for_each(tokio::task::AbortHandle::abort);
    }
}

/// Kills every process in each container's process group.
fn kill_groups(groups: &[u32]) {
    #[cfg(unix)]
    for &pid in groups {
        // SAFETY: killpg only sends a signal; the group id is the pid of a child we spawned as a group leader.
        // A group that has already gone makes it fail with ESRCH, which is fine.
        unsafe {
            libc::killpg(pid as libc::pid_t, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = groups;
}

#[cfg(test)]
mod tests;

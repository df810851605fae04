//! The lifecycle of one pod, the way a kubelet with `restartPolicy: Never` runs it:
//!
//! 1. schedule (or, with the `emulator.k8x.io/unschedulable` annotation, stay `Pending` as unschedulable);
//! 2. materialise volumes (retrying while a Secret or ConfigMap is missing);
//! 3. run init containers one after another, each to exit 0 (a failure fails the pod);
//! 4. pull every container's image (scripted failures stay `ImagePullBackOff` forever) and resolve its
//!    environment (retrying on `CreateContainerConfigError`), then start them all side by side (`Running`);
//! 5. as each exits, record it; when all have, `Succeeded` if every exit code was 0, else `Failed`.
//!
//! Scripted behaviour from pod annotations: `emulator.k8x.io/oom-kill: <container>` kills that container
//! ~200 ms after it starts (`OOMKilled`, 137); `emulator.k8x.io/evict: "true"` evicts the pod ~200 ms after
//! its containers start. Every status change is written to the store at once.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use serde_json::{json, Value};
use tokio::sync::watch;

use super::process::{self, Launch, Started};
use super::status::{PodStatus, State};
use super::volumes::{self, Mounted};
use super::{env, Stop};
use crate::error::ApiError;
use crate::kinds::Kind;
use crate::meta;
use crate::shared::Shared;

/// Annotation: `"true"` keeps the pod unschedulable.
pub const UNSCHEDULABLE: &str = "emulator.k8x.io/unschedulable";

/// How often a waiting container re-checks its Secrets and ConfigMaps.
const RETRY: Duration = Duration::from_secs(1);
/// The node every pod is "scheduled" to.
const NODE: &str = "kube-emulator";

/// Which pod this is.
pub struct PodKey {
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

/// How a lifecycle ended.
pub(super) enum Ending {
    /// It ran to a final phase (already written).
    Done,
    /// It was cut short.
    Stopped(Stop),
}

/// Which status entry a container fills.
#[derive(Clone, Copy)]
pub(super) enum Slot {
    Init(usize),
    Main(usize),
}

/// One pod being run.
pub(super) struct PodRun {
    pub(super) shared: Arc<Shared>,
    key: PodKey,
    /// The pod object as first seen (annotations, fieldRef values).
    pub(super) object: Value,
    spec: PodSpec,
    /// The status model; locked only briefly, never across an await.
    status: Mutex<PodStatus>,
    /// This pod's live process groups, killed if the lifecycle ends early.
    pub(super) groups: Mutex<Vec<i32>>,
    /// The pod's directory: `home/` (cwd and HOME of every container) and `volumes/`.
    dir: PathBuf,
}

/// Runs the pod until it finishes or `stop` says otherwise.
pub async fn run(shared: Arc<Shared>, key: PodKey, mut stop: watch::Receiver<Option<Stop>>) {
    let Some(object) = shared.store.get(Kind::Pod, &key.namespace, &key.name).filter(|o| meta::uid(o) == key.uid)
    else {
        return;
    };
    let spec: PodSpec = match serde_json::from_value(object["spec"].clone()) {
        Ok(spec) => spec,
        Err(e) => {
            tracing::warn!(pod = %key.name, error = %e, "kube-emulator: pod spec does not parse; not running it");
            return;
        }
    };
    let short_uid: String = key.uid.chars().take(8).collect();
    let dir = shared.options.work_dir.join(&key.namespace).join(format!("{}-{short_uid}", key.name));
    let names = |cs: &[Container]| -> Vec<(String, String)> {
        cs.iter().map(|c| (c.name.clone(), c.image.clone().unwrap_or_default())).collect()
    };
    let status = PodStatus::new(&names(spec.init_containers.as_deref().unwrap_or_default()), &names(&spec.containers));
    let pod = PodRun { shared, key, object, spec, status: Mutex::new(status), groups: Mutex::default(), dir };
    let ending = tokio::select! {
        ending = pod.lifecycle() => ending,
        stop = wait_for_stop(&mut stop) => Ending::Stopped(stop),
        _ = pod.shared.shutdown.cancelled() => Ending::Stopped(Stop::Deleted),
    };
    pod.kill_processes();
    match ending {
        Ending::Done => {}
        Ending::Stopped(Stop::Deleted) => {
            let _ = std::fs::remove_dir_all(&pod.dir);
        }
        Ending::Stopped(Stop::Fail { reason, message }) => pod.fail(reason, message),
    }
}

async fn wait_for_stop(rx: &mut watch::Receiver<Option<Stop>>) -> Stop {
    loop {
        if let Some(stop) = rx.borrow_and_update().clone() {
            return stop;
        }
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

impl PodRun {
    pub(super) fn with_status<R>(&self, f: impl FnOnce(&mut PodStatus) -> R) -> R {
        f(&mut self.status.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(super) fn set_state(&self, slot: Slot, state: State) {
        self.with_status(|s| {
            let c = match slot {
                Slot::Init(i) => &mut s.init[i],
                Slot::Main(i) => &mut s.containers[i],
            };
            if !matches!(state, State::Waiting { .. }) && c.id.is_none() {
                c.id = Some(format!("containerd://{}", uuid::Uuid::new_v4().simple()));
            }
            c.state = state;
        });
    }

    pub(super) fn container(&self, slot: Slot) -> &Container {
        match slot {
            Slot::Init(i) => &self.spec.init_containers.as_ref().expect("slot exists")[i],
            Slot::Main(i) => &self.spec.containers[i],
        }
    }

    /// Writes the status (and, once, the node name) to the store. A pod deleted meanwhile is left alone.
    pub(super) fn write(&self) {
        let status = self.with_status(PodStatus::to_json);
        let scheduled = status.get("hostIP").is_some();
        let _ = self.shared.store.update(Kind::Pod, &self.key.namespace, &self.key.name, |pod| {
            if meta::uid(pod) != self.key.uid {
                return Err(ApiError::NotFound { kind: Kind::Pod, name: self.key.name.clone() });
            }
            if scheduled {
                pod["spec"]["nodeName"] = json!(NODE);
            }
            pod["status"] = status;
            Ok(())
        });
    }

    fn kill_processes(&self) {
        for pgid in self.groups.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            process::kill_group(pgid);
        }
    }

    /// Marks the pod failed after its processes were killed: what was running ends with 137.
    fn fail(&self, reason: String, message: String) {
        let now = meta::now();
        self.with_status(|s| {
            for c in s.init.iter_mut().chain(s.containers.iter_mut()) {
                if let State::Running { started } = &c.state {
                    let started = started.clone();
                    c.state = State::Terminated {
                        exit_code: 137,
                        reason: "Error".into(),
                        message: None,
                        started,
                        finished: now.clone(),
                    };
                }
            }
            s.phase = "Failed";
            s.reason = Some(reason);
            s.message = Some(message);
        });
        self.write();
    }

    async fn lifecycle(&self) -> Ending {
        if meta::annotation(&self.object, UNSCHEDULABLE) == Some("true") {
            let message = "0/1 nodes are available: 1 Insufficient cpu.";
            self.with_status(|s| s.schedule(false, Some("Unschedulable"), Some(message)));
            self.write();
            return std::future::pending().await;
        }
        self.with_status(|s| s.schedule(true, None, None));
        self.write();
        if let Err(e) = std::fs::create_dir_all(self.dir.join("home")) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "kube-emulator: cannot create the pod directory");
        }
        let mounted = self.volumes().await;

        for i in 0..self.spec.init_containers.as_ref().map_or(0, Vec::len) {
            let launch = self.prepare(Slot::Init(i), &mounted).await;
            let started = self.launch(Slot::Init(i), launch);
            self.write();
            match self.wait(vec![(Slot::Init(i), started)]).await {
                Err(ending) => return ending,
                Ok(codes) if codes[0] != 0 => {
                    self.with_status(|s| s.phase = "Failed");
                    self.write();
                    return Ending::Done;
                }
                Ok(_) => {}
            }
        }

        // Every container is prepared before any starts, so a missing Secret holds back the whole pod.
        let mut launches = Vec::new();
        for i in 0..self.spec.containers.len() {
            launches.push(self.prepare(Slot::Main(i), &mounted).await);
        }
        let started: Vec<(Slot, Started)> =
            launches.into_iter().enumerate().map(|(i, l)| (Slot::Main(i), self.launch(Slot::Main(i), l))).collect();
        self.with_status(|s| s.phase = "Running");
        self.write();
        let codes = match self.wait(started).await {
            Ok(codes) => codes,
            Err(ending) => return ending,
        };
        self.with_status(|s| s.phase = if codes.iter().all(|c| *c == 0) { "Succeeded" } else { "Failed" });
        self.write();
        Ending::Done
    }

    /// Materialises the volumes, retrying until every referenced Secret and ConfigMap exists.
    async fn volumes(&self) -> Mounted {
        loop {
            match volumes::materialise(&self.shared.store, &self.key.namespace, &self.spec, &self.dir.join("volumes")) {
                Ok(mounted) => return mounted,
                Err(e) => tracing::debug!(pod = %self.key.name, error = %e, "kube-emulator: volume not ready"),
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    /// Pulls the image (scripted failures never return) and resolves the environment (retrying while a
    /// Secret or ConfigMap is missing), giving what to run.
    async fn prepare(&self, slot: Slot, mounted: &Mounted) -> Launch {
        let container = self.container(slot);
        let image = container.image.clone().unwrap_or_default();
        if self.shared.options.is_unpullable(&image) {
            let message = format!("failed to pull and unpack image \"{image}\": not found");
            self.set_state(slot, State::Waiting { reason: "ErrImagePull".into(), message: Some(message) });
            self.write();
            tokio::time::sleep(RETRY).await;
            let message = format!("Back-off pulling image \"{image}\"");
            self.set_state(slot, State::Waiting { reason: "ImagePullBackOff".into(), message: Some(message) });
            self.write();
            return std::future::pending().await;
        }
        let vars = loop {
            match env::resolve(&self.shared.store, &self.object, container) {
                Ok(vars) => break vars,
                Err(e) => {
                    let waiting =
                        State::Waiting { reason: "CreateContainerConfigError".into(), message: Some(e.to_string()) };
                    self.set_state(slot, waiting);
                    self.write();
                    tokio::time::sleep(RETRY).await;
                }
            }
        };
        let subs = volumes::substitutions(container, mounted);
        let argv = match &container.command {
            Some(command) => {
                command.iter().chain(container.args.iter().flatten()).map(|a| volumes::rewrite(a, &subs)).collect()
            }
            None => Vec::new(),
        };
        let env = vars.into_iter().map(|(k, v)| (k, volumes::rewrite(&v, &subs))).collect();
        Launch { argv, env, dir: self.dir.join("home") }
    }

    /// Starts a prepared container and records it as running (or as failed to start).
    fn launch(&self, slot: Slot, launch: Launch) -> Started {
        let name = &self.container(slot).name;
        let started = process::start(&self.shared, &self.key.uid, name, launch);
        let now = meta::now();
        match &started {
            Started::Process { pgid, .. } => {
                self.groups.lock().unwrap_or_else(|e| e.into_inner()).push(*pgid);
                self.set_state(slot, State::Running { started: now });
            }
            Started::NoCommand => self.set_state(slot, State::Running { started: now }),
            Started::Failed(message) => self.set_state(
                slot,
                State::Terminated {
                    exit_code: 128,
                    reason: "StartError".into(),
                    message: Some(message.clone()),
                    started: now.clone(),
                    finished: now,
                },
            ),
        }
        started
    }
}

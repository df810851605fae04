//! The kubelet: one task per pod that takes it from `Pending` through its init containers and containers
//! to `Succeeded` or `Failed`, with host processes standing in for containers.
//!
//! - [`pod`]: the lifecycle of one pod.
//! - [`wait`]: waiting for started containers; scripted OOM kills and evictions.
//! - [`status`]: the pod status model and its JSON shape.
//! - [`process`]: a container as a process group, its output into the log.
//! - [`env`](mod@env): env and envFrom resolution from Secrets and ConfigMaps.
//! - [`volumes`]: secret/configMap/emptyDir volumes as directories, mountPath rewriting.

pub mod env;
pub mod pod;
pub mod process;
pub mod status;
pub mod volumes;
pub mod wait;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::watch;

use crate::meta;
use crate::shared::Shared;

/// Why a pod's lifecycle must end early.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// The pod object is gone: kill its processes, write nothing.
    Deleted,
    /// Kill its processes and mark it `Failed` with this pod-level reason and message.
    Fail { reason: String, message: String },
}

/// The running pod lifecycles and every live process group.
#[derive(Default)]
pub struct Kubelet {
    /// Pod uid → the channel that tells its lifecycle to stop. Removed when the lifecycle ends.
    pods: Mutex<HashMap<String, watch::Sender<Option<Stop>>>>,
    /// Process groups alive now. Kept here, outside any task, so `Emulator`'s `Drop` can kill them
    /// synchronously even when the runtime is already shutting down.
    groups: Mutex<HashSet<i32>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Kubelet {
    /// Starts the lifecycle of a newly created pod (once per uid).
    pub fn start(&self, shared: &Arc<Shared>, pod: &Value) {
        let uid = meta::uid(pod).to_owned();
        let (tx, rx) = watch::channel(None);
        {
            let mut pods = lock(&self.pods);
            if pods.contains_key(&uid) {
                return;
            }
            pods.insert(uid.clone(), tx);
        }
        let key = pod::PodKey { namespace: meta::namespace(pod).into(), name: meta::name(pod).into(), uid };
        let shared = shared.clone();
        tokio::spawn(async move {
            let uid = key.uid.clone();
            pod::run(shared.clone(), key, rx).await;
            lock(&shared.kubelet.pods).remove(&uid);
        });
    }

    /// Tells a pod's lifecycle to stop; nothing happens if it already ended.
    pub fn stop(&self, uid: &str, stop: Stop) {
        if let Some(tx) = lock(&self.pods).get(uid) {
            tx.send_replace(Some(stop));
        }
    }

    /// Remembers a live process group.
    pub fn track(&self, pgid: i32) {
        lock(&self.groups).insert(pgid);
    }

    /// Forgets a process group that has ended.
    pub fn untrack(&self, pgid: i32) {
        lock(&self.groups).remove(&pgid);
    }

    /// Kills every live process group (shutdown).
    pub fn kill_all(&self) {
        for pgid in lock(&self.groups).drain() {
            process::kill_group(pgid);
        }
    }
}

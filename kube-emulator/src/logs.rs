//! Container logs: the timestamped lines each container wrote, kept per (pod uid, container name), and a
//! signal so `follow=true` readers wake when a line arrives or a container ends.
//!
//! A container has a log from the moment it starts; "no log yet" is how the log route knows a container
//! is still waiting to start.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// One line a container wrote (stdout and stderr interleaved, as the kubelet keeps them).
#[derive(Clone, Debug)]
pub struct LogLine {
    /// When the line was read.
    pub time: DateTime<Utc>,
    /// The text, without its newline.
    pub text: String,
}

#[derive(Default)]
struct ContainerLog {
    lines: Vec<LogLine>,
    /// Set once the container has terminated and every line it wrote is in `lines`.
    finished: bool,
}

/// Every container's log.
pub struct LogStore {
    logs: Mutex<HashMap<(String, String), ContainerLog>>,
    /// Bumped on every append or finish; followers wait on it.
    changed: watch::Sender<u64>,
}

impl Default for LogStore {
    fn default() -> Self {
        Self { logs: Mutex::default(), changed: watch::channel(0).0 }
    }
}

impl LogStore {
    fn lock(&self) -> MutexGuard<'_, HashMap<(String, String), ContainerLog>> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notify(&self) {
        self.changed.send_modify(|n| *n += 1);
    }

    /// Wakes on every change to any log.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Marks the container as started: from now on its log can be read.
    pub fn open(&self, pod_uid: &str, container: &str) {
        self.lock().entry((pod_uid.to_owned(), container.to_owned())).or_default();
        self.notify();
    }

    /// Appends a line stamped now.
    pub fn append(&self, pod_uid: &str, container: &str, text: String) {
        let line = LogLine { time: Utc::now(), text };
        self.lock().entry((pod_uid.to_owned(), container.to_owned())).or_default().lines.push(line);
        self.notify();
    }

    /// Marks the container's log complete.
    pub fn finish(&self, pod_uid: &str, container: &str) {
        self.lock().entry((pod_uid.to_owned(), container.to_owned())).or_default().finished = true;
        self.notify();
    }

    /// Lines from index `from` on and whether the log is complete; `None` if the container never started.
    pub fn read(&self, pod_uid: &str, container: &str, from: usize) -> Option<(Vec<LogLine>, bool)> {
        let logs = self.lock();
        let log = logs.get(&(pod_uid.to_owned(), container.to_owned()))?;
        Some((log.lines.get(from..).unwrap_or_default().to_vec(), log.finished))
    }

    /// Forgets a deleted pod's logs.
    pub fn remove_pod(&self, pod_uid: &str) {
        self.lock().retain(|(uid, _), _| uid != pod_uid);
    }
}

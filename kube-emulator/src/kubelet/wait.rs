//! Waiting for a pod's started containers: each exit is recorded as it comes (`Completed`, `Error`, or
//! `OOMKilled`), and the scripted annotations act here, ~200 ms after the containers start:
//! `emulator.k8x.io/oom-kill: <container>` kills that container's process group (exit 137, `OOMKilled`);
//! `emulator.k8x.io/evict: "true"` ends the lifecycle as an eviction.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::Utc;
use futures::stream::{FuturesUnordered, StreamExt};

use super::pod::{Ending, PodRun, Slot};
use super::process::{self, Exit, Started};
use super::status::State;
use super::Stop;
use crate::meta;

/// Annotation: the named container is OOM-killed shortly after it starts.
pub const OOM_KILL: &str = "emulator.k8x.io/oom-kill";
/// Annotation: `"true"` evicts the pod shortly after its containers start.
pub const EVICT: &str = "emulator.k8x.io/evict";

/// How long a scripted OOM kill or eviction waits after the containers start.
const SCRIPTED_DELAY: Duration = Duration::from_millis(200);

/// A container's exit, or `None` if its waiter was lost (treated as killed).
type Waiting = Pin<Box<dyn Future<Output = (usize, Slot, Option<Exit>)> + Send>>;

impl PodRun {
    /// Waits for started containers, recording each exit as it comes; returns their exit codes in order,
    /// or the ending a scripted eviction imposes.
    pub(super) async fn wait(&self, started: Vec<(Slot, Started)>) -> Result<Vec<i32>, Ending> {
        let oom_target = meta::annotation(&self.object, OOM_KILL);
        let evict = meta::annotation(&self.object, EVICT) == Some("true");
        let mut codes = vec![0; started.len()];
        let mut oom: Option<(usize, i32)> = None;
        let mut pgids = vec![None; started.len()];
        let mut pending: FuturesUnordered<Waiting> = FuturesUnordered::new();
        for (idx, (slot, started)) in started.into_iter().enumerate() {
            match started {
                Started::Process { pgid, done } => {
                    pgids[idx] = Some(pgid);
                    if oom_target == Some(self.container(slot).name.as_str()) {
                        oom = Some((idx, pgid));
                    }
                    pending.push(Box::pin(async move { (idx, slot, done.await.ok()) }));
                }
                Started::NoCommand => {
                    let exit = Exit { code: 0, finished: Utc::now() };
                    pending.push(Box::pin(async move { (idx, slot, Some(exit)) }));
                }
                Started::Failed(_) => codes[idx] = 128,
            }
        }
        let mut scripted_armed = (oom.is_some() || evict) && !pending.is_empty();
        let scripted = tokio::time::sleep(SCRIPTED_DELAY);
        tokio::pin!(scripted);
        let mut oom_killed = None;
        while !pending.is_empty() {
            tokio::select! {
                Some((idx, slot, exit)) = pending.next() => {
                    let exit = exit.unwrap_or(Exit { code: 137, finished: Utc::now() });
                    let (code, reason) = match (oom_killed == Some(idx), exit.code) {
                        (true, _) => (137, "OOMKilled"),
                        (false, 0) => (0, "Completed"),
                        (false, code) => (code, "Error"),
                    };
                    codes[idx] = code;
                    if let Some(pgid) = pgids[idx] {
                        self.groups.lock().unwrap_or_else(|e| e.into_inner()).retain(|g| *g != pgid);
                    }
                    self.terminate(slot, code, reason, exit);
                    self.write();
                }
                _ = &mut scripted, if scripted_armed => {
                    scripted_armed = false;
                    if evict {
                        let message = "The node was low on resource: memory. ".to_owned();
                        return Err(Ending::Stopped(Stop::Fail { reason: "Evicted".into(), message }));
                    }
                    if let Some((idx, pgid)) = oom {
                        oom_killed = Some(idx);
                        process::kill_group(pgid);
                    }
                }
            }
        }
        Ok(codes)
    }

    fn terminate(&self, slot: Slot, exit_code: i32, reason: &str, exit: Exit) {
        let started = self.with_status(|s| {
            let c = match slot {
                Slot::Init(i) => &s.init[i],
                Slot::Main(i) => &s.containers[i],
            };
            match &c.state {
                State::Running { started } => started.clone(),
                _ => meta::now(),
            }
        });
        let finished = meta::seconds(exit.finished);
        self.set_state(slot, State::Terminated { exit_code, reason: reason.into(), message: None, started, finished });
    }
}

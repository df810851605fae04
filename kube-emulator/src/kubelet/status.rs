//! A pod's status as the kubelet reports it, kept as a small model and written out in the API's exact
//! shape (`phase`, `conditions`, `initContainerStatuses`, `containerStatuses` with
//! `state.waiting|running|terminated`).

use serde_json::{json, Value};

use crate::meta;

/// One container's state.
#[derive(Clone, Debug, PartialEq)]
pub enum State {
    Waiting { reason: String, message: Option<String> },
    Running { started: String },
    Terminated { exit_code: i32, reason: String, message: Option<String>, started: String, finished: String },
}

/// One container's status.
#[derive(Clone, Debug)]
pub struct ContainerStatus {
    pub name: String,
    pub image: String,
    pub state: State,
    /// A container id, once it was started.
    pub id: Option<String>,
}

impl ContainerStatus {
    fn new(name: &str, image: &str, reason: &str) -> Self {
        Self {
            name: name.to_owned(),
            image: image.to_owned(),
            state: State::Waiting { reason: reason.to_owned(), message: None },
            id: None,
        }
    }

    /// True while it runs (no probes are emulated, so running means ready).
    pub fn ready(&self) -> bool {
        matches!(self.state, State::Running { .. })
    }

    fn terminated_ok(&self) -> bool {
        matches!(self.state, State::Terminated { exit_code: 0, .. })
    }

    fn to_json(&self) -> Value {
        let state = match &self.state {
            State::Waiting { reason, message } => {
                let mut w = json!({ "reason": reason });
                if let Some(m) = message {
                    w["message"] = json!(m);
                }
                json!({ "waiting": w })
            }
            State::Running { started } => json!({ "running": { "startedAt": started } }),
            State::Terminated { exit_code, reason, message, started, finished } => {
                let mut t =
                    json!({ "exitCode": exit_code, "reason": reason, "startedAt": started, "finishedAt": finished });
                if let Some(m) = message {
                    t["message"] = json!(m);
                }
                if let Some(id) = &self.id {
                    t["containerID"] = json!(id);
                }
                json!({ "terminated": t })
            }
        };
        let mut status = json!({
            "name": self.name,
            "image": self.image,
            "imageID": if self.id.is_some() { format!("kube-emulator://{}", self.image) } else { String::new() },
            "state": state,
            "lastState": {},
            "ready": self.ready(),
            "restartCount": 0,
            "started": matches!(self.state, State::Running { .. }),
        });
        if let Some(id) = &self.id {
            status["containerID"] = json!(id);
        }
        status
    }
}

/// One pod condition.
#[derive(Clone, Debug)]
struct Condition {
    type_: &'static str,
    status: bool,
    reason: Option<String>,
    message: Option<String>,
    last_transition: String,
}

/// The pod's status.
#[derive(Clone, Debug)]
pub struct PodStatus {
    /// `Pending`, `Running`, `Succeeded` or `Failed`.
    pub phase: &'static str,
    /// Pod-level reason (`Evicted`, `DeadlineExceeded`).
    pub reason: Option<String>,
    /// Pod-level message.
    pub message: Option<String>,
    /// When the kubelet took the pod.
    pub start_time: Option<String>,
    pub init: Vec<ContainerStatus>,
    pub containers: Vec<ContainerStatus>,
    /// `PodScheduled`: None until decided, then (status, reason, message).
    scheduled: Option<(bool, Option<String>, Option<String>)>,
    conditions: Vec<Condition>,
}

impl PodStatus {
    /// A fresh status: every container waiting (`PodInitializing` behind init containers, else
    /// `ContainerCreating`).
    pub fn new(init: &[(String, String)], containers: &[(String, String)]) -> Self {
        let main_reason = if init.is_empty() { "ContainerCreating" } else { "PodInitializing" };
        Self {
            phase: "Pending",
            reason: None,
            message: None,
            start_time: None,
            init: init.iter().map(|(n, i)| ContainerStatus::new(n, i, "PodInitializing")).collect(),
            containers: containers.iter().map(|(n, i)| ContainerStatus::new(n, i, main_reason)).collect(),
            scheduled: None,
            conditions: Vec::new(),
        }
    }

    /// Records the scheduling decision.
    pub fn schedule(&mut self, ok: bool, reason: Option<&str>, message: Option<&str>) {
        self.scheduled = Some((ok, reason.map(str::to_owned), message.map(str::to_owned)));
        if ok {
            self.start_time.get_or_insert_with(meta::now);
        }
    }

    /// Whether the pod has finished.
    pub fn finished(&self) -> bool {
        matches!(self.phase, "Succeeded" | "Failed")
    }

    /// Sets a condition, keeping its lastTransitionTime unless its status flips.
    fn set(&mut self, type_: &'static str, status: bool, reason: Option<String>, message: Option<String>) {
        let now = meta::now();
        match self.conditions.iter_mut().find(|c| c.type_ == type_) {
            Some(c) => {
                if c.status != status {
                    c.last_transition = now;
                }
                (c.status, c.reason, c.message) = (status, reason, message);
            }
            None => self.conditions.push(Condition { type_, status, reason, message, last_transition: now }),
        }
    }

    /// Derives the conditions from the container states, as the kubelet does on every sync.
    fn refresh(&mut self) {
        let Some((ok, reason, message)) = self.scheduled.clone() else { return };
        if ok {
            self.set("PodReadyToStartContainers", true, None, None);
            let pending: Vec<&str> = self.init.iter().filter(|c| !c.terminated_ok()).map(|c| c.name.as_str()).collect();
            match pending.is_empty() {
                true => self.set("Initialized", true, None, None),
                false => self.set(
                    "Initialized",
                    false,
                    Some("ContainersNotInitialized".into()),
                    Some(format!("containers with incomplete status: [{}]", pending.join(" "))),
                ),
            }
            let unready: Vec<&str> = self.containers.iter().filter(|c| !c.ready()).map(|c| c.name.as_str()).collect();
            let (ready, reason, message) = match (unready.is_empty(), self.finished()) {
                (_, true) => (false, Some("PodCompleted".to_owned()), None),
                (true, false) => (true, None, None),
                (false, false) => (
                    false,
                    Some("ContainersNotReady".to_owned()),
                    Some(format!("containers with unready status: [{}]", unready.join(" "))),
                ),
            };
            self.set("Ready", ready, reason.clone(), message.clone());
            self.set("ContainersReady", ready, reason, message);
        }
        self.set("PodScheduled", ok, reason, message);
    }

    /// The `status` object.
    pub fn to_json(&mut self) -> Value {
        self.refresh();
        let order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];
        let conditions: Vec<Value> = order
            .iter()
            .filter_map(|t| self.conditions.iter().find(|c| c.type_ == *t))
            .map(|c| {
                let mut v = json!({
                    "type": c.type_,
                    "status": if c.status { "True" } else { "False" },
                    "lastProbeTime": null,
                    "lastTransitionTime": c.last_transition,
                });
                if let Some(r) = &c.reason {
                    v["reason"] = json!(r);
                }
                if let Some(m) = &c.message {
                    v["message"] = json!(m);
                }
                v
            })
            .collect();
        let mut status = json!({ "phase": self.phase, "conditions": conditions, "qosClass": "BestEffort" });
        if matches!(self.scheduled, Some((true, _, _))) {
            status["hostIP"] = json!("127.0.0.1");
            status["hostIPs"] = json!([{ "ip": "127.0.0.1" }]);
            status["podIP"] = json!("127.0.0.1");
            status["podIPs"] = json!([{ "ip": "127.0.0.1" }]);
            status["containerStatuses"] = self.containers.iter().map(ContainerStatus::to_json).collect();
            if !self.init.is_empty() {
                status["initContainerStatuses"] = self.init.iter().map(ContainerStatus::to_json).collect();
            }
        }
        for (field, value) in [("startTime", &self.start_time), ("reason", &self.reason), ("message", &self.message)] {
            if let Some(v) = value {
                status[field] = json!(v);
            }
        }
        status
    }
}

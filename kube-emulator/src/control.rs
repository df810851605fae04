//! The test-facing switches: scripted faults, "the API is down", the request record, and the signals that
//! cut open watch and log streams. Both the `/emulator/*` routes and `Emulator`'s methods use this.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;

use crate::options::Fault;

/// One API request as it arrived.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The URL path, e.g. `/apis/batch/v1/namespaces/ns/jobs`.
    pub path: String,
    /// The raw query string ("" when there is none).
    pub query: String,
    /// The request body, if it was JSON.
    pub body: Option<Value>,
}

/// Test-facing state.
pub struct Control {
    /// Faults not yet used up, matched in the order they were injected.
    faults: Mutex<Vec<Fault>>,
    /// While set, every API request answers 503.
    down: AtomicBool,
    /// Every API request, in arrival order.
    requests: Mutex<Vec<RecordedRequest>>,
    /// Bumped to end every open watch stream.
    watch_breaks: watch::Sender<u64>,
    /// Bumped to end every open `follow=true` log stream.
    log_breaks: watch::Sender<u64>,
}

impl Default for Control {
    fn default() -> Self {
        Self {
            faults: Mutex::default(),
            down: AtomicBool::new(false),
            requests: Mutex::default(),
            watch_breaks: watch::channel(0).0,
            log_breaks: watch::channel(0).0,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Control {
    /// Adds a fault.
    pub fn inject_fault(&self, fault: Fault) {
        lock(&self.faults).push(fault);
    }

    /// Uses up one matching fault, returning the status to answer with.
    pub fn take_fault(&self, method: &str, path: &str) -> Option<u16> {
        let mut faults = lock(&self.faults);
        let fault = faults
            .iter_mut()
            .find(|f| f.times > 0 && f.method.eq_ignore_ascii_case(method) && path.contains(&f.path_contains))?;
        fault.times -= 1;
        let status = fault.status;
        faults.retain(|f| f.times > 0);
        Some(status)
    }

    /// Turns the "API down" switch on or off.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Whether the API is "down".
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    /// Records a request.
    pub fn record(&self, request: RecordedRequest) {
        lock(&self.requests).push(request);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    /// Forgets the requests recorded so far.
    pub fn clear_requests(&self) {
        lock(&self.requests).clear();
    }

    /// Ends every open watch stream.
    pub fn break_watches(&self) {
        self.watch_breaks.send_modify(|n| *n += 1);
    }

    /// Ends every open follow log stream.
    pub fn break_log_streams(&self) {
        self.log_breaks.send_modify(|n| *n += 1);
    }

    /// Wakes when watches must end.
    pub fn watch_breaks(&self) -> watch::Receiver<u64> {
        self.watch_breaks.subscribe()
    }

    /// Wakes when log streams must end.
    pub fn log_breaks(&self) -> watch::Receiver<u64> {
        self.log_breaks.subscribe()
    }
}

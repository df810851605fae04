//! Whether the dispatcher keeps up: it says so when a delivery keeps failing or the bus cannot be read, and
//! again when one goes through. `GET /ready` answers 503 with the reason once it has been stuck a while, so
//! that an orchestrator (or a person) sees a stuck line even while ingest still answers 202. A k8x still loading
//! its start-up project (serving already, not yet dispatching) is not ready either.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

/// Shared between the dispatcher and the readiness route. Cheap to clone. By default the dispatcher runs.
#[derive(Clone, Debug, Default)]
pub struct Readiness {
    stuck: Arc<Mutex<Option<Stuck>>>,
    /// Not dispatching yet: k8x is starting.
    starting: Arc<AtomicBool>,
}

#[derive(Debug)]
struct Stuck {
    since: Instant,
    why: String,
}

impl Readiness {
    /// Not ready until [`Readiness::started`].
    pub fn starting() -> Self {
        Self { starting: Arc::new(AtomicBool::new(true)), ..Self::default() }
    }

    /// The dispatcher runs.
    pub fn started(&self) {
        self.starting.store(false, Ordering::Release);
    }

    /// The dispatcher could not get past something (the first failure starts the clock).
    pub fn failing(&self, why: impl Into<String>) {
        let mut stuck = self.lock();
        let since = stuck.as_ref().map_or_else(Instant::now, |s| s.since);
        *stuck = Some(Stuck { since, why: why.into() });
    }

    /// The dispatcher moved on.
    pub fn moving(&self) {
        *self.lock() = None;
    }

    /// Why the dispatcher has been stuck for longer than `grace` (or has not started), if it has.
    pub fn stuck(&self, grace: Duration) -> Option<String> {
        if self.starting.load(Ordering::Acquire) {
            return Some("k8x is starting: it loads its start-up project before it dispatches".into());
        }
        let stuck = self.lock();
        let stuck = stuck.as_ref().filter(|s| s.since.elapsed() > grace)?;
        Some(format!("the dispatcher has been stuck for {} s: {}", stuck.since.elapsed().as_secs(), stuck.why))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Stuck>> {
        self.stuck.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuck_only_after_the_grace_and_until_it_moves() {
        let readiness = Readiness::default();
        readiness.failing("database down");
        assert_eq!(readiness.stuck(Duration::from_secs(60)), None);
        let why = readiness.stuck(Duration::ZERO).unwrap();
        assert!(why.contains("database down"), "{why}");
        readiness.moving();
        assert_eq!(readiness.stuck(Duration::ZERO), None);
    }

    #[test]
    fn a_starting_k8x_is_not_ready_until_it_has_started() {
        let readiness = Readiness::starting();
        assert!(readiness.stuck(Duration::from_secs(60)).unwrap().contains("starting"));
        readiness.clone().started();
        assert_eq!(readiness.stuck(Duration::ZERO), None);
    }
}

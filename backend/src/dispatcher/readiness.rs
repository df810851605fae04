//! Whether the dispatcher keeps up: it says so when a delivery keeps failing or the bus cannot be read, and
//! again when one goes through. `GET /ready` answers 503 with the reason once it has been stuck a while, so
//! that an orchestrator (or a person) sees a stuck line even while ingest still answers 202.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Shared between the dispatcher and the readiness route. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<Mutex<Option<Stuck>>>);

#[derive(Debug)]
struct Stuck {
    since: Instant,
    why: String,
}

impl Readiness {
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

    /// Why the dispatcher has been stuck for longer than `grace`, if it has.
    pub fn stuck(&self, grace: Duration) -> Option<String> {
        let stuck = self.lock();
        let stuck = stuck.as_ref().filter(|s| s.since.elapsed() > grace)?;
        Some(format!("the dispatcher has been stuck for {} s: {}", stuck.since.elapsed().as_secs(), stuck.why))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Stuck>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
}

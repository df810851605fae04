//! Failed sign-ins slow down further tries, per account and per address: after a few free failures each
//! further one doubles the wait (1 s, 2 s, 4 s, … up to 15 minutes) before that account or address may try
//! again. An attempt counts as a failure from the moment it starts (so that a burst of parallel guesses is
//! counted before any password check ends); a success takes it back and clears the account's count. Kept in
//! memory: each k8x process counts its own.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Failures an account may have before it waits.
const ACCOUNT_FREE: u32 = 5;
/// Failures an address may have before it waits (one address may serve several people).
const ADDRESS_FREE: u32 = 20;
/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Counts older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The failed sign-ins of the last hour.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Failures>>,
    /// Makes the check and the count of one attempt one step.
    attempts: Mutex<()>,
}

impl LoginThrottle {
    /// Starts an attempt of `account` from `address`: refused with how long to wait, or counted (as a failure
    /// until [`Self::succeeded`] says otherwise).
    pub fn attempt(&self, account: &str, address: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let _one_at_a_time = self.lock_attempts();
        if let Some(wait) = self.wait_at(account, address, now) {
            return Err(wait);
        }
        self.failed_at(account, address, now);
        Ok(())
    }

    /// The attempt succeeded: the account's failures are cleared and the address's attempt taken back.
    pub fn succeeded(&self, account: &str, address: &str) {
        let mut failures = self.lock();
        failures.remove(&key("account", account));
        if let Some(entry) = failures.get_mut(&key("address", address)) {
            entry.count = entry.count.saturating_sub(1);
        }
    }

    fn lock_attempts(&self) -> std::sync::MutexGuard<'_, ()> {
        self.attempts.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    #[cfg(test)]
    fn wait(&self, account: &str, address: &str) -> Option<Duration> {
        self.wait_at(account, address, Instant::now())
    }

    fn wait_at(&self, account: &str, address: &str, now: Instant) -> Option<Duration> {
        let failures = self.lock();
        [(key("account", account), ACCOUNT_FREE), (key("address", address), ADDRESS_FREE)]
            .into_iter()
            .filter_map(|(key, free)| {
                let failures = failures.get(&key)?;
                let until = failures.last + penalty(failures.count, free)?;
                until.checked_duration_since(now).filter(|left| !left.is_zero())
            })
            .max()
    }

    fn failed_at(&self, account: &str, address: &str, now: Instant) {
        let mut failures = self.lock();
        failures.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
        for key in [key("account", account), key("address", address)] {
            let entry = failures.entry(key).or_insert(Failures { count: 0, last: now });
            entry.count += 1;
            entry.last = now;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The wait after `count` failures when `free` are allowed.
fn penalty(count: u32, free: u32) -> Option<Duration> {
    let over = count.checked_sub(free)?;
    Some(Duration::from_secs(1u64 << over.min(20)).min(MAX_WAIT))
}

fn key(kind: &str, name: &str) -> String {
    format!("{kind}:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_waits_longer_with_each_failure_and_is_cleared_by_success() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for _ in 0..ACCOUNT_FREE - 1 {
            throttle.failed_at("alice", "10.0.0.1", start);
        }
        assert_eq!(throttle.wait_at("alice", "10.0.0.1", start), None, "a few mistakes are free");
        throttle.failed_at("alice", "10.0.0.1", start);
        assert_eq!(throttle.wait_at("alice", "10.0.0.9", start), Some(Duration::from_secs(1)));
        throttle.failed_at("alice", "10.0.0.1", start);
        assert_eq!(throttle.wait_at("alice", "10.0.0.9", start), Some(Duration::from_secs(2)));
        assert_eq!(throttle.wait_at("alice", "10.0.0.9", start + Duration::from_secs(2)), None);
        assert_eq!(throttle.wait_at("bob", "10.0.0.1", start), None, "other accounts from the address go on");
        throttle.succeeded("alice", "10.0.0.1");
        assert_eq!(throttle.wait_at("alice", "10.0.0.1", start), None);
    }

    #[test]
    fn attempts_count_before_they_end_and_successes_are_taken_back() {
        let throttle = LoginThrottle::default();
        for _ in 0..ACCOUNT_FREE {
            throttle.attempt("carol", "10.0.0.4").unwrap();
        }
        assert!(throttle.attempt("carol", "10.0.0.4").is_err(), "parallel guesses are counted as they start");
        let other = LoginThrottle::default();
        for _ in 0..ADDRESS_FREE * 2 {
            other.attempt("dave", "10.0.0.5").unwrap();
            other.succeeded("dave", "10.0.0.5");
        }
        assert_eq!(other.wait("dave", "10.0.0.5"), None, "people signing in from one office are not slowed");
    }

    #[test]
    fn an_address_guessing_many_accounts_waits_too() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for n in 0..ADDRESS_FREE + 3 {
            throttle.failed_at(&format!("user{n}"), "10.0.0.2", start);
        }
        assert_eq!(throttle.wait_at("someone", "10.0.0.2", start), Some(Duration::from_secs(8)));
        assert_eq!(throttle.wait_at("someone", "10.0.0.3", start), None);
        assert_eq!(penalty(100, 5), Some(MAX_WAIT));
    }
}

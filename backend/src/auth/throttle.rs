//! Failed sign-ins slow down further tries, per account and per address: after a few free failures each
//! further one doubles the wait (1 s, 2 s, 4 s, … up to 15 minutes) before that account or address may try
//! again. A success clears the account's count. Kept in memory: each k8x process counts its own.

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
}

impl LoginThrottle {
    /// How long `account` from `address` must still wait before trying, if at all.
    pub fn wait(&self, account: &str, address: &str) -> Option<Duration> {
        self.wait_at(account, address, Instant::now())
    }

    /// Counts a failed sign-in.
    pub fn failed(&self, account: &str, address: &str) {
        self.failed_at(account, address, Instant::now())
    }

    /// Clears the account's failures after a successful sign-in.
    pub fn succeeded(&self, account: &str) {
        self.lock().remove(&key("account", account));
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
        throttle.succeeded("alice");
        assert_eq!(throttle.wait_at("alice", "10.0.0.1", start), None);
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

//! The per-token rate limit: a token may make `token_requests_per_second` requests a second (with a burst of
//! as many), counted per k8x process by governor's keyed GCRA limiter. Over it, the caller is told how long
//! to wait (429 with `Retry-After`).

use std::{num::NonZeroU32, time::Duration};

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota};

/// Limits requests per token id.
#[derive(Debug)]
pub struct TokenRate {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl TokenRate {
    pub fn new(per_second: NonZeroU32) -> Self {
        Self { limiter: DefaultKeyedRateLimiter::keyed(Quota::per_second(per_second)) }
    }

    /// Counts one request of `token`; `Err` carries how long until the next is allowed.
    pub fn check(&self, token: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&token.to_owned())
            .map_err(|not_until| not_until.wait_time_from(governor::clock::DefaultClock::default().now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_over_its_rate_waits_and_others_do_not() {
        let rate = TokenRate::new(NonZeroU32::new(3).unwrap());
        for _ in 0..3 {
            rate.check("a").unwrap();
        }
        let wait = rate.check("a").unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(334), "{wait:?}");
        rate.check("b").expect("each token has its own budget");
    }
}

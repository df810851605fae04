//! Calls to the Kubernetes API that survive a bad minute: 429, 5xx, a conflict and a lost connection are
//! retried with exponential backoff and jitter (`backon`), each retry logged; anything else is final.

use std::{future::Future, time::Duration};

use backon::{ExponentialBuilder, Retryable};

/// Tries until the call has failed this often (with the delays below, about a quarter of an hour).
const ATTEMPTS: usize = 40;

/// The retry policy for API calls.
fn policy() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(30))
        .with_max_times(ATTEMPTS)
        .with_jitter()
}

/// Whether trying again may help.
pub fn transient(err: &kube::Error) -> bool {
    match err {
        kube::Error::Api(status) => {
            status.code == 429 || status.code >= 500 || (status.code == 409 && !status.is_already_exists())
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// Runs `call` until it succeeds, fails for good, or runs out of attempts; `what` names it in the log.
pub async fn call<T, F, Fut>(what: &str, call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    call.retry(policy())
        .when(transient)
        .notify(|err, after| tracing::warn!(%err, retry_in = ?after, "Kubernetes API: {what} failed; retrying"))
        .await
}

/// A final API failure in words for the execution page: a 403 names the permission that is missing.
pub fn explain(what: &str, err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) if status.is_forbidden() => {
            format!("Kubernetes refused to {what} (403 Forbidden): {}", status.message)
        }
        kube::Error::Api(status) => {
            format!("Kubernetes refused to {what} ({} {}): {}", status.code, status.reason, status.message)
        }
        other => format!("could not {what}: {other}"),
    }
}

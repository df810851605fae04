//! What a Job and its pods say about an execution: where it is (pending, running, ended) and the reason a
//! person needs — the image that cannot be pulled, the container that was OOMKilled, the deadline that passed.
//! Pure functions over Kubernetes objects, so that every case is tested with real Kubernetes JSON.

use k8s_openapi::api::{
    batch::v1::Job,
    core::v1::{ContainerStatus, Pod},
};

use crate::store::Ending;

/// Where an execution is, as the cluster shows it.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// No pod runs yet (scheduling, pulling images, or a retry on its way).
    Pending,
    /// A pod of the Job runs.
    Running,
    /// The Job ended.
    Ended(Ending),
}

/// One look at an execution's Job and pods.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub phase: Phase,
    /// What it waits on, for the execution page (`ImagePullBackOff: …`); `None` when nothing is wrong.
    pub reason: Option<String>,
    /// A pod waits on an image that cannot be pulled (k8x gives that up after a while).
    pub image_pull_failing: bool,
}

/// Container waiting reasons that mean the image will not come.
const PULL_FAILURES: [&str; 4] = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"];

/// Looks at `job` and its `pods` (any order).
pub fn observe(job: &Job, pods: &[&Pod]) -> Observation {
    let mut pods: Vec<&Pod> = pods.to_vec();
    pods.sort_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0));
    let newest = pods.last().copied();
    let status = job.status.as_ref();
    let condition = |kind: &str| {
        status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == kind && c.status == "True"))
    };
    if condition("Complete").is_some() || condition("SuccessCriteriaMet").is_some() {
        return Observation { phase: Phase::Ended(Ending::succeeded()), reason: None, image_pull_failing: false };
    }
    if let Some(failed) = condition("Failed").or_else(|| condition("FailureTarget")) {
        let job_reason = failed.reason.clone().unwrap_or_else(|| "Failed".into());
        let failed_pod = pods.iter().rev().find(|p| pod_phase(p) == "Failed").copied();
        let (exit_code, cause) = failed_pod.map(pod_failure).unwrap_or((None, None));
        let message = failed.message.clone().unwrap_or_default();
        let error = match (&cause, job_reason.as_str()) {
            (Some(cause), "BackoffLimitExceeded") => format!("{cause} (BackoffLimitExceeded: {message})"),
            (Some(cause), _) => format!("{job_reason}: {message}; {cause}"),
            (None, _) => format!("{job_reason}: {message}"),
        };
        let short = failed_pod.and_then(short_reason).unwrap_or(job_reason);
        let ending = Ending::failed(exit_code, error.trim_end_matches([' ', ':']).to_owned()).with_reason(short);
        return Observation { phase: Phase::Ended(ending), reason: None, image_pull_failing: false };
    }
    let Some(pod) = newest else {
        return Observation { phase: Phase::Pending, reason: None, image_pull_failing: false };
    };
    let attempt = pods.len();
    if pod_phase(pod) == "Failed" {
        let (_, cause) = pod_failure(pod);
        let cause = cause.unwrap_or_else(|| "the pod failed".into());
        return Observation {
            phase: Phase::Pending,
            reason: Some(format!("attempt {attempt} failed: {cause}; the Job retries")),
            image_pull_failing: false,
        };
    }
    let statuses: Vec<&ContainerStatus> = container_statuses(pod).collect();
    if let Some((name, reason, message)) = statuses.iter().find_map(|s| {
        let waiting = s.state.as_ref()?.waiting.as_ref()?;
        let reason = waiting.reason.as_deref()?;
        PULL_FAILURES.contains(&reason).then(|| (s.name.clone(), reason.to_owned(), waiting.message.clone()))
    }) {
        let image = statuses.iter().find(|s| s.name == name).map(|s| s.image.clone()).unwrap_or_default();
        let detail = message.map(|m| format!(": {m}")).unwrap_or_default();
        return Observation {
            phase: Phase::Pending,
            reason: Some(format!("{reason}: image `{image}` of container `{name}` cannot be pulled{detail}")),
            image_pull_failing: true,
        };
    }
    if let Some(unschedulable) = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled" && c.status == "False"))
    {
        let why = unschedulable.reason.clone().unwrap_or_else(|| "Unschedulable".into());
        let message = unschedulable.message.clone().unwrap_or_default();
        return Observation {
            phase: Phase::Pending,
            reason: Some(format!("{why}: {message}")),
            image_pull_failing: false,
        };
    }
    let waiting = statuses.iter().find_map(|s| {
        let waiting = s.state.as_ref()?.waiting.as_ref()?;
        let reason = waiting.reason.as_deref()?;
        // The ordinary steps of starting a container are not worth a word.
        (!matches!(reason, "ContainerCreating" | "PodInitializing")).then(|| {
            let message = waiting.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
            format!("{reason} (container `{}`){message}", s.name)
        })
    });
    let running =
        pod_phase(pod) == "Running" || statuses.iter().any(|s| s.state.as_ref().is_some_and(|st| st.running.is_some()));
    let phase = if running { Phase::Running } else { Phase::Pending };
    let reason = waiting.or_else(|| (attempt > 1).then(|| format!("attempt {attempt}")));
    Observation { phase, reason, image_pull_failing: false }
}

fn pod_phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending")
}

/// Init container statuses first, then the containers'.
pub fn container_statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let status = pod.status.as_ref();
    let init = status.and_then(|s| s.init_container_statuses.as_ref()).into_iter().flatten();
    init.chain(status.and_then(|s| s.container_statuses.as_ref()).into_iter().flatten())
}

/// Why a failed pod failed: its exit code and a sentence.
fn pod_failure(pod: &Pod) -> (Option<i32>, Option<String>) {
    let status = pod.status.as_ref();
    if status.and_then(|s| s.reason.as_deref()) == Some("Evicted") {
        let message = status.and_then(|s| s.message.as_deref()).unwrap_or("").trim().to_owned();
        return (None, Some(format!("the pod was evicted: {message}").trim_end_matches([' ', ':']).to_owned()));
    }
    let terminated = container_statuses(pod).find_map(|s| {
        let t = s.state.as_ref()?.terminated.as_ref()?;
        (t.exit_code != 0 || t.reason.as_deref() == Some("OOMKilled")).then(|| (s.name.clone(), t))
    });
    match terminated {
        Some((name, t)) if t.reason.as_deref() == Some("OOMKilled") => {
            (Some(t.exit_code), Some(format!("container `{name}` was OOMKilled (out of memory, exit {})", t.exit_code)))
        }
        Some((name, t)) => (Some(t.exit_code), Some(format!("container `{name}` exited with {}", t.exit_code))),
        None => (None, status.and_then(|s| s.message.clone())),
    }
}

/// The one-word reason of a failed pod, when it has a telling one.
fn short_reason(pod: &Pod) -> Option<String> {
    if let Some(reason) = pod.status.as_ref().and_then(|s| s.reason.clone()) {
        return Some(reason);
    }
    container_statuses(pod).find_map(|s| {
        let reason = s.state.as_ref()?.terminated.as_ref()?.reason.as_deref()?;
        (reason == "OOMKilled").then(|| reason.to_owned())
    })
}

#[cfg(test)]
mod tests;

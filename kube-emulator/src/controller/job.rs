//! The Job controller, for `completions: 1, parallelism: 1` Jobs: one pod at a time from the template,
//! a replacement after each failure until `backoffLimit` is exceeded, `activeDeadlineSeconds` and
//! `ttlSecondsAfterFinished` enforced, and the Job's `status` kept as the real controller writes it.
//!
//! It is level-triggered: every pass recomputes the wanted status from the Job's pods and writes it only
//! if it differs, so running it often is harmless.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{json, Map, Value};

use super::gc::{self, Propagation};
use crate::defaults::{self, CONTROLLER_UID, JOB_NAME};
use crate::error::Result;
use crate::kinds::Kind;
use crate::kubelet::Stop;
use crate::meta;
use crate::shared::Shared;

/// The pause before a failed pod is replaced (the real controller backs off exponentially from 10 s).
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// State the controller keeps between passes.
#[derive(Default)]
pub struct JobController {
    /// When each Job may get its next replacement pod, keyed by (Job uid, failures so far), so every
    /// failure earns its own pause.
    retry_at: HashMap<(String, i64), Instant>,
}

/// How the Job's pods stand.
struct Pods<'a> {
    active: Vec<&'a Value>,
    ready: i64,
    succeeded: i64,
    failed: i64,
}

fn phase(pod: &Value) -> &str {
    pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending")
}

fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions").and_then(Value::as_array).into_iter().flatten().any(|c| {
        c.get("type").and_then(Value::as_str) == Some("Ready")
            && c.get("status").and_then(Value::as_str) == Some("True")
    })
}

fn condition(type_: &str, reason: &str, message: &str, now: &str) -> Value {
    json!({
        "type": type_, "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
        "reason": reason, "message": message,
    })
}

/// When the Job finished (its `Complete` or `Failed` condition turned true), if it has.
fn finished_at(status: &Value) -> Option<chrono::DateTime<Utc>> {
    status.get("conditions")?.as_array()?.iter().find_map(|c| {
        let final_type = matches!(c.get("type")?.as_str()?, "Complete" | "Failed");
        (final_type && c.get("status")?.as_str()? == "True")
            .then(|| meta::parse_time(c.get("lastTransitionTime")?.as_str()?))
            .flatten()
    })
}

impl JobController {
    /// One pass over every Job.
    pub fn reconcile_all(&mut self, shared: &Shared) {
        let (jobs, _) = shared.store.list(Kind::Job, None);
        let (pods, _) = shared.store.list(Kind::Pod, None);
        for job in &jobs {
            if let Err(e) = self.reconcile(shared, job, &pods) {
                tracing::debug!(job = %meta::name(job), error = %e, "kube-emulator: job reconcile failed");
            }
        }
        let live: Vec<&str> = jobs.iter().map(meta::uid).collect();
        self.retry_at.retain(|(uid, _), _| live.contains(&uid.as_str()));
    }

    fn reconcile(&mut self, shared: &Shared, job: &Value, all_pods: &[Value]) -> Result<()> {
        let (namespace, name, uid) = (meta::namespace(job), meta::name(job), meta::uid(job));
        let status = job.get("status").cloned().filter(Value::is_object).unwrap_or_else(|| json!({}));
        if let Some(finished) = finished_at(&status) {
            if let Some(ttl) = job.pointer("/spec/ttlSecondsAfterFinished").and_then(Value::as_i64) {
                if Utc::now() >= finished + chrono::Duration::seconds(ttl) {
                    gc::delete(shared, Kind::Job, namespace, name, Propagation::Background)?;
                }
            }
            return Ok(());
        }
        let owned: Vec<&Value> = all_pods.iter().filter(|p| meta::owner_uids(p).contains(&uid)).collect();
        let mut pods = Pods {
            active: owned.iter().copied().filter(|p| !matches!(phase(p), "Succeeded" | "Failed")).collect(),
            ready: 0,
            succeeded: owned.iter().filter(|p| phase(p) == "Succeeded").count() as i64,
            // Never below what was already reported, in case failed pods were deleted since.
            failed: (owned.iter().filter(|p| phase(p) == "Failed").count() as i64)
                .max(status.get("failed").and_then(Value::as_i64).unwrap_or(0)),
        };
        pods.ready = pods.active.iter().filter(|p| is_ready(p)).count() as i64;

        let now = meta::now();
        let mut next = status.clone();
        if next.get("startTime").is_none() {
            next["startTime"] = json!(now);
        }
        let backoff_limit = job.pointer("/spec/backoffLimit").and_then(Value::as_i64).unwrap_or(6);
        let started = next["startTime"].as_str().and_then(meta::parse_time).unwrap_or_else(Utc::now);
        let deadline = job
            .pointer("/spec/activeDeadlineSeconds")
            .and_then(Value::as_i64)
            .map(|s| started + chrono::Duration::seconds(s));
        let suspended = job.pointer("/spec/suspend").and_then(Value::as_bool).unwrap_or(false);
        let mut conditions: Vec<Value> = Vec::new();
        let mut created = 0;

        if pods.succeeded > 0 {
            let message = "Reached expected number of succeeded pods";
            conditions.push(condition("SuccessCriteriaMet", "CompletionsReached", message, &now));
            conditions.push(condition("Complete", "CompletionsReached", message, &now));
            next["completionTime"] = json!(now);
        } else if pods.failed > backoff_limit {
            self.fail_active(shared, &mut pods, "BackoffLimitExceeded", "Pod was failed by the Job controller");
            let message = "Job has reached the specified backoff limit";
            conditions.push(condition("FailureTarget", "BackoffLimitExceeded", message, &now));
            conditions.push(condition("Failed", "BackoffLimitExceeded", message, &now));
        } else if deadline.is_some_and(|d| Utc::now() >= d) {
            let pod_message = "Pod was active on the node longer than the specified deadline";
            self.fail_active(shared, &mut pods, "DeadlineExceeded", pod_message);
            let message = "Job was active longer than specified deadline";
            conditions.push(condition("FailureTarget", "DeadlineExceeded", message, &now));
            conditions.push(condition("Failed", "DeadlineExceeded", message, &now));
        } else if pods.active.is_empty() && !suspended && self.may_create(uid, pods.failed) {
            create_pod(shared, job)?;
            created = 1;
        }

        if !conditions.is_empty() {
            let existing = next.get("conditions").and_then(Value::as_array).cloned().unwrap_or_default();
            next["conditions"] = Value::Array(existing.into_iter().chain(conditions).collect());
            pods.active.clear();
            pods.ready = 0;
        }
        let counts = next.as_object_mut().expect("status is an object");
        set_count(counts, "active", pods.active.len() as i64 + created);
        set_count(counts, "succeeded", pods.succeeded);
        set_count(counts, "failed", pods.failed);
        counts.insert("ready".into(), json!(pods.ready));
        counts.insert("terminating".into(), json!(0));
        counts.insert("uncountedTerminatedPods".into(), json!({}));
        if next != status {
            shared.store.update(Kind::Job, namespace, name, |j| {
                j["status"] = next;
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Whether a (replacement) pod may be created now: at once for the first, after a pause for later ones.
    fn may_create(&mut self, uid: &str, failed: i64) -> bool {
        if failed == 0 {
            return true;
        }
        let at = *self.retry_at.entry((uid.to_owned(), failed)).or_insert_with(|| Instant::now() + RETRY_PAUSE);
        Instant::now() >= at
    }

    /// Stops every active pod as failed; they count as failures.
    fn fail_active(&self, shared: &Shared, pods: &mut Pods<'_>, reason: &str, message: &str) {
        for pod in pods.active.drain(..) {
            let stop = Stop::Fail { reason: reason.to_owned(), message: message.to_owned() };
            shared.kubelet.stop(meta::uid(pod), stop);
            pods.failed += 1;
        }
    }
}

/// `active`, `succeeded` and `failed` are omitted when zero, as the API serialises them.
fn set_count(status: &mut Map<String, Value>, field: &str, value: i64) {
    if value > 0 {
        status.insert(field.into(), json!(value));
    } else {
        status.remove(field);
    }
}

/// Creates a pod `{job}-{5 random}` from the template, labelled and owned as the real controller does.
fn create_pod(shared: &Shared, job: &Value) -> Result<()> {
    let (namespace, name, uid) = (meta::namespace(job), meta::name(job), meta::uid(job));
    let template = job.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}));
    let mut labels =
        template.pointer("/metadata/labels").cloned().filter(Value::is_object).unwrap_or_else(|| json!({}));
    labels[CONTROLLER_UID] = json!(uid);
    labels["controller-uid"] = json!(uid);
    labels[JOB_NAME] = json!(name);
    labels["job-name"] = json!(name);
    let annotations = template.pointer("/metadata/annotations").cloned().unwrap_or_else(|| json!({}));
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": format!("{name}-"),
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [{
                "apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": uid,
                "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({})),
    });
    let pod = defaults::for_create(Kind::Pod, namespace, pod)?;
    shared.store.create(Kind::Pod, namespace, pod)?;
    Ok(())
}

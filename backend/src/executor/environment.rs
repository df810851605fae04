//! What a container sees: the `K8X_*` variables, each top-level scalar of `configs.json`, each secret (as a
//! `secretKeyRef` to the execution's own Secret, never as a value in the Job spec), and the parameters and the
//! event as files (`K8X_PARAMS_FILE`, `K8X_EVENT_FILE`). A variable the container already declares keeps its
//! own value.
//!
//! Linux refuses to start a process with one environment string over 128 KiB, so `K8X_PARAMS` and `K8X_EVENT`
//! are in the environment only up to [`MAX_ENV_VALUE_BYTES`]; above it the variable is left out and only the
//! file carries the value. The files always exist, so a service can read them whatever the size.

use cloudevents::AttributesReader;
use k8s_openapi::api::{
    batch::v1::Job,
    core::v1::{Container, EnvVar, EnvVarSource, SecretKeySelector},
};
use serde_json::Value;

use super::Launch;
use crate::service::is_env_name;

/// The largest `K8X_PARAMS` / `K8X_EVENT` kept in the environment, in bytes; larger values are in the files only.
pub const MAX_ENV_VALUE_BYTES: usize = 32 * 1024;
/// The file (in the payload directory) holding `K8X_PARAMS`.
pub const PARAMS_FILE: &str = "params.json";
/// The file (in the payload directory) holding `K8X_EVENT`.
pub const EVENT_FILE: &str = "event.json";

/// The execution's Job and Secret name: `k8x-<service>-<12 hex of the execution id>`, a DNS-1123 label short
/// enough that the pods' generated names stay valid. The same execution always gets the same name, so a second
/// create of it is refused by the API server (409) instead of starting a second Job.
pub fn job_name(service: &str, execution_id: &str, attempt: i32) -> String {
    let mut slug: String =
        service.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    slug.truncate(40);
    let slug = slug.trim_matches('-');
    let id: String = execution_id.chars().filter(char::is_ascii_alphanumeric).take(12).collect::<String>();
    let id = id.to_ascii_lowercase();
    // A retry is a Job of its own: the one before may still be there (its TTL not yet run out).
    let id = if attempt > 1 { format!("{id}-{attempt}") } else { id };
    if slug.is_empty() {
        format!("k8x-{id}")
    } else {
        format!("k8x-{slug}-{id}")
    }
}

pub use crate::chain::correlation_id;

/// `K8X_PARAMS` and `K8X_EVENT` as the JSON text the container receives.
#[derive(Clone, Debug)]
pub struct Payload {
    pub params: String,
    pub event: String,
}

impl Payload {
    pub fn of(launch: &Launch) -> Self {
        Self {
            params: launch.params.to_string(),
            event: serde_json::to_string(&launch.event).unwrap_or_else(|_| "{}".into()),
        }
    }

    /// Lines for the execution's log about values too large for the environment, naming the file instead.
    pub fn notes(&self) -> Vec<String> {
        [("K8X_PARAMS", &self.params, "K8X_PARAMS_FILE"), ("K8X_EVENT", &self.event, "K8X_EVENT_FILE")]
            .into_iter()
            .filter(|(_, value, _)| value.len() > MAX_ENV_VALUE_BYTES)
            .map(|(name, value, file)| {
                format!(
                    "{name} is {} bytes, over the {MAX_ENV_VALUE_BYTES}-byte limit for the environment: it is left out; read the file named by {file}",
                    value.len()
                )
            })
            .collect()
    }
}

/// Where an execution's files and secrets are, as its containers see them.
#[derive(Clone, Debug)]
pub struct Placement {
    /// The Secret the containers' `secretKeyRef`s name.
    pub secret: String,
    /// The directory holding [`PARAMS_FILE`] and [`EVENT_FILE`].
    pub payload_dir: String,
}

/// The plain (non-secret) variables k8x adds, in a fixed order.
pub fn variables(launch: &Launch, payload: &Payload, placement: &Placement) -> Vec<(String, String)> {
    let event = &launch.event;
    let configs = Value::Object(launch.service.configs.clone());
    let dir = placement.payload_dir.trim_end_matches('/');
    let mut vars = Vec::new();
    if payload.params.len() <= MAX_ENV_VALUE_BYTES {
        vars.push(("K8X_PARAMS".to_owned(), payload.params.clone()));
    }
    if payload.event.len() <= MAX_ENV_VALUE_BYTES {
        vars.push(("K8X_EVENT".to_owned(), payload.event.clone()));
    }
    vars.extend([
        ("K8X_PARAMS_FILE".to_owned(), format!("{dir}/{PARAMS_FILE}")),
        ("K8X_EVENT_FILE".to_owned(), format!("{dir}/{EVENT_FILE}")),
        ("K8X_CONFIGS".to_owned(), configs.to_string()),
        ("K8X_SERVICE".to_owned(), launch.service.name.clone()),
        ("K8X_PROJECT".to_owned(), launch.service.project.clone()),
        ("K8X_EXECUTION_ID".to_owned(), launch.execution_id.clone()),
        ("K8X_ATTEMPT".to_owned(), launch.attempt.to_string()),
        ("K8X_EVENT_TYPE".to_owned(), event.ty().to_owned()),
        ("K8X_EVENT_SOURCE".to_owned(), event.source().to_string()),
        ("K8X_CORRELATION_ID".to_owned(), correlation_id(event)),
    ]);
    for (key, value) in &launch.service.configs {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            _ => continue,
        };
        if is_env_name(key) && !key.starts_with("K8X_") {
            vars.push((key.clone(), text));
        }
    }
    vars
}

/// The service's Job with k8x's environment added to every container and init container.
pub fn prepare_job(launch: &Launch, payload: &Payload, placement: &Placement) -> Job {
    let mut job = launch.service.job.clone();
    let vars = variables(launch, payload, placement);
    let secret_keys: Vec<&String> = launch.service.secrets.keys().filter(|k| is_env_name(k)).collect();
    if let Some(pod) = job.spec.as_mut().and_then(|s| s.template.spec.as_mut()) {
        let init = pod.init_containers.iter_mut().flatten();
        for container in pod.containers.iter_mut().chain(init) {
            add_env(container, &vars, &placement.secret, &secret_keys);
        }
    }
    job
}

fn add_env(container: &mut Container, vars: &[(String, String)], secret: &str, secret_keys: &[&String]) {
    let env = container.env.get_or_insert_with(Vec::new);
    let declared: std::collections::HashSet<String> = env.iter().map(|e| e.name.clone()).collect();
    for (name, value) in vars.iter().filter(|(name, _)| !declared.contains(name)) {
        env.push(EnvVar { name: name.clone(), value: Some(value.clone()), value_from: None });
    }
    for key in secret_keys.iter().filter(|k| !declared.contains(k.as_str())) {
        env.push(EnvVar {
            name: (*key).clone(),
            value: None,
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: secret.to_owned(),
                    key: (*key).clone(),
                    optional: None,
                }),
                ..Default::default()
            }),
        });
    }
}

#[cfg(test)]
pub(crate) mod tests;

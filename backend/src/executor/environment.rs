//! What a container sees: the `K8X_*` variables, each top-level scalar of `configs.json`, and each secret
//! (as a `secretKeyRef`, never as a value in the Job spec). A variable the container already declares keeps
//! its own value.

use cloudevents::{AttributesReader, Event};
use k8s_openapi::api::{
    batch::v1::Job,
    core::v1::{Container, EnvVar, EnvVarSource, SecretKeySelector},
};
use serde_json::Value;

use super::Launch;

/// The name of the Kubernetes Secret that holds a service's secrets.
pub fn secret_name(service: &str) -> String {
    format!("k8x-secrets-{}", service.to_ascii_lowercase().replace(['_', '.'], "-"))
}

/// The correlation id of an event: its `correlationid` extension, else its id.
pub fn correlation_id(event: &Event) -> String {
    event.extension("correlationid").map(ToString::to_string).unwrap_or_else(|| event.id().to_owned())
}

/// The plain (non-secret) variables k8x adds, in a fixed order.
pub fn variables(launch: &Launch) -> Vec<(String, String)> {
    let event = &launch.event;
    let configs = Value::Object(launch.service.configs.clone());
    let mut vars = vec![
        ("K8X_PARAMS".to_owned(), launch.params.to_string()),
        ("K8X_EVENT".to_owned(), serde_json::to_string(event).unwrap_or_default()),
        ("K8X_CONFIGS".to_owned(), configs.to_string()),
        ("K8X_SERVICE".to_owned(), launch.service.name.clone()),
        ("K8X_PROJECT".to_owned(), launch.service.project.clone()),
        ("K8X_EXECUTION_ID".to_owned(), launch.execution_id.clone()),
        ("K8X_EVENT_TYPE".to_owned(), event.ty().to_owned()),
        ("K8X_EVENT_SOURCE".to_owned(), event.source().to_string()),
        ("K8X_CORRELATION_ID".to_owned(), correlation_id(event)),
    ];
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

/// Whether `name` can be an environment variable: a C identifier.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The service's Job with k8x's environment added to every container and init container.
pub fn prepare_job(launch: &Launch) -> Job {
    let mut job = launch.service.job.clone();
    let vars = variables(launch);
    let secret = secret_name(&launch.service.name);
    let secret_keys: Vec<&String> = launch.service.secrets.keys().filter(|k| is_env_name(k)).collect();
    if let Some(pod) = job.spec.as_mut().and_then(|s| s.template.spec.as_mut()) {
        let init = pod.init_containers.iter_mut().flatten();
        for container in pod.containers.iter_mut().chain(init) {
            add_env(container, &vars, &secret, &secret_keys);
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

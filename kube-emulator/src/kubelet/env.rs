//! A container's environment, resolved as the kubelet does it: `envFrom` first, then `env` in order (later
//! names win), with `secretKeyRef`, `configMapKeyRef` and a few `fieldRef`s looked up in the store.
//!
//! A missing Secret, ConfigMap or key that is not `optional` is a `CreateContainerConfigError`: the
//! container waits, and the kubelet retries until the object appears.

use std::collections::BTreeMap;

use base64::Engine;
use k8s_openapi::api::core::v1::{Container, EnvVarSource};
use serde_json::Value;

use crate::kinds::Kind;
use crate::store::Store;

/// Why a container cannot be configured yet; the message is the real kubelet's.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("secret \"{0}\" not found")]
    SecretNotFound(String),
    #[error("couldn't find key {key} in Secret {namespace}/{name}")]
    SecretKeyNotFound { namespace: String, name: String, key: String },
    #[error("configmap \"{0}\" not found")]
    ConfigMapNotFound(String),
    #[error("couldn't find key {key} in ConfigMap {namespace}/{name}")]
    ConfigMapKeyNotFound { namespace: String, name: String, key: String },
}

/// A Secret's or ConfigMap's entries as text (Secret `data` base64-decoded; ConfigMap `data` plus
/// `binaryData`). `None` when the object does not exist.
pub fn entries(store: &Store, kind: Kind, namespace: &str, name: &str) -> Option<BTreeMap<String, Vec<u8>>> {
    let obj = store.get(kind, namespace, name)?;
    let decode = |v: &Value| base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or("")).ok();
    let mut out = BTreeMap::new();
    let fields: &[(&str, bool)] = match kind {
        Kind::Secret => &[("data", true)],
        _ => &[("data", false), ("binaryData", true)],
    };
    for (field, base64) in fields {
        for (key, value) in obj.get(*field).and_then(Value::as_object).into_iter().flatten() {
            let bytes = if *base64 { decode(value) } else { value.as_str().map(|s| s.as_bytes().to_vec()) };
            if let Some(bytes) = bytes {
                out.insert(key.clone(), bytes);
            }
        }
    }
    Some(out)
}

/// The object and key a `*KeyRef` points at, read as text. `Ok(None)` for a missing optional value.
fn lookup(
    store: &Store,
    kind: Kind,
    namespace: &str,
    name: &str,
    key: &str,
    optional: bool,
) -> Result<Option<String>, ConfigError> {
    let Some(entries) = entries(store, kind, namespace, name) else {
        return match (optional, kind) {
            (true, _) => Ok(None),
            (false, Kind::Secret) => Err(ConfigError::SecretNotFound(name.into())),
            (false, _) => Err(ConfigError::ConfigMapNotFound(name.into())),
        };
    };
    match (entries.get(key), optional, kind) {
        (Some(bytes), _, _) => Ok(Some(String::from_utf8_lossy(bytes).into_owned())),
        (None, true, _) => Ok(None),
        (None, false, kind) => {
            let (namespace, name, key) = (namespace.to_owned(), name.to_owned(), key.to_owned());
            Err(match kind {
                Kind::Secret => ConfigError::SecretKeyNotFound { namespace, name, key },
                _ => ConfigError::ConfigMapKeyNotFound { namespace, name, key },
            })
        }
    }
}

/// `fieldRef` values the emulator knows.
fn field(pod: &Value, path: &str) -> String {
    let pointer = match path {
        "status.podIP" | "status.hostIP" => return "127.0.0.1".into(),
        other => format!("/{}", other.replace('.', "/")),
    };
    pod.pointer(&pointer).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn source(store: &Store, namespace: &str, pod: &Value, from: &EnvVarSource) -> Result<Option<String>, ConfigError> {
    if let Some(r) = &from.secret_key_ref {
        return lookup(store, Kind::Secret, namespace, &r.name, &r.key, r.optional.unwrap_or(false));
    }
    if let Some(r) = &from.config_map_key_ref {
        return lookup(store, Kind::ConfigMap, namespace, &r.name, &r.key, r.optional.unwrap_or(false));
    }
    if let Some(r) = &from.field_ref {
        return Ok(Some(field(pod, &r.field_path)));
    }
    Ok(None)
}

/// The container's variables in the order a process should see them (duplicates resolved, last wins).
pub fn resolve(store: &Store, pod: &Value, container: &Container) -> Result<Vec<(String, String)>, ConfigError> {
    let namespace = crate::meta::namespace(pod);
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut set = |name: String, value: String| {
        vars.retain(|(n, _)| *n != name);
        vars.push((name, value));
    };
    for from in container.env_from.iter().flatten() {
        let prefix = from.prefix.clone().unwrap_or_default();
        let (kind, name, optional) = match (&from.secret_ref, &from.config_map_ref) {
            (Some(s), _) => (Kind::Secret, &s.name, s.optional.unwrap_or(false)),
            (None, Some(c)) => (Kind::ConfigMap, &c.name, c.optional.unwrap_or(false)),
            (None, None) => continue,
        };
        match entries(store, kind, namespace, name) {
            Some(entries) => {
                for (key, bytes) in entries {
                    set(format!("{prefix}{key}"), String::from_utf8_lossy(&bytes).into_owned());
                }
            }
            None if optional => {}
            None if kind == Kind::Secret => return Err(ConfigError::SecretNotFound(name.clone())),
            None => return Err(ConfigError::ConfigMapNotFound(name.clone())),
        }
    }
    for var in container.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (Some(value), _) => Some(value.clone()),
            (None, Some(from)) => source(store, namespace, pod, from)?,
            (None, None) => Some(String::new()),
        };
        if let Some(value) = value {
            set(var.name.clone(), value);
        }
    }
    Ok(vars)
}

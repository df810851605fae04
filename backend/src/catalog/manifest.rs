//! `manifest.json` and the validated names it introduces.

use serde::Deserialize;

pub use crate::service::{is_env_name, Retries, Trigger, MAX_BACKOFF_SECONDS, MAX_RETRIES};

use super::CatalogError;

/// A service name: spaces become underscores; then letters, digits, `_`, `-` and `.` only, at most 63.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceName(String);

impl ServiceName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim().replace(' ', "_");
        if name.is_empty() {
            return Err("the name is empty".into());
        }
        if name.len() > 63 {
            return Err(format!("`{name}` is longer than 63 characters"));
        }
        if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
            return Err(format!("`{name}` contains `{bad}`; use letters, digits, `_`, `-` and `.`"));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A CloudEvent type a service can subscribe to: non-empty, printable, no whitespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventType(String);

impl EventType {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("an event type is empty".into());
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("event type `{raw}` contains whitespace"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A checked `manifest.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub name: ServiceName,
    pub description: String,
    pub allow_manual_triggering: bool,
    pub active: bool,
    pub trigger_events: Vec<Trigger>,
    pub tags: Vec<String>,
    pub retries: Retries,
    /// At most this many executions of the service run at once; the others wait, queued.
    pub max_concurrency: Option<u32>,
}

/// `manifest.json` as written.
#[derive(Deserialize)]
struct RawManifest {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    allow_manual_triggering: bool,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    trigger_events: Vec<Trigger>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    retries: Retries,
    #[serde(default)]
    max_concurrency: Option<u32>,
}

fn yes() -> bool {
    true
}

impl Manifest {
    /// The only service type k8x runs; the seed's `k8s_job` spelling is accepted as the same thing.
    pub const KIND: &'static str = "k8x_job";

    /// Parses `manifest.json`; `file` names it in errors.
    pub fn parse(file: &str, json: &str) -> Result<Self, CatalogError> {
        let raw: RawManifest = serde_json::from_str(json).map_err(|e| {
            let err = CatalogError::new(file, model::text::without_position(&e.to_string())).line(e.line());
            match missing_field(&e.to_string()) {
                Some(field) => err.field(field),
                None => err,
            }
        })?;
        let name = ServiceName::parse(&raw.name).map_err(|m| CatalogError::new(file, m).field("name"))?;
        if raw.kind != Self::KIND && raw.kind != "k8s_job" {
            return Err(CatalogError::new(
                file,
                format!("`{}` is not a service type k8x runs; use `k8x_job`", raw.kind),
            )
            .field("type"));
        }
        let trigger_events = raw
            .trigger_events
            .into_iter()
            .map(check_trigger)
            .collect::<Result<_, _>>()
            .map_err(|m| CatalogError::new(file, m).field("trigger_events"))?;
        if raw.retries.count > MAX_RETRIES || raw.retries.backoff_seconds > MAX_BACKOFF_SECONDS {
            return Err(CatalogError::new(
                file,
                format!("at most {MAX_RETRIES} retries with a backoff of at most {MAX_BACKOFF_SECONDS} seconds"),
            )
            .field("retries"));
        }
        if raw.max_concurrency == Some(0) {
            return Err(
                CatalogError::new(file, "must be at least 1 (leave it out for no limit)").field("max_concurrency")
            );
        }
        Ok(Self {
            name,
            description: raw.description,
            allow_manual_triggering: raw.allow_manual_triggering,
            active: raw.active,
            trigger_events,
            tags: raw.tags,
            retries: raw.retries,
            max_concurrency: raw.max_concurrency,
        })
    }
}

/// The trigger, if its type and subject are well formed.
fn check_trigger(trigger: Trigger) -> Result<Trigger, String> {
    EventType::parse(trigger.ty())?;
    if let Some(subject) = trigger.subject() {
        if subject.is_empty() || subject.chars().any(char::is_control) {
            return Err(format!("the subject of `{}` is empty or has control characters", trigger.ty()));
        }
    }
    Ok(trigger)
}

/// serde_json names a missing field as "missing field `x`".
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_manifest_loads() {
        let json = r#"{
          "name": "k8s test job", "type": "k8s_job", "description": "Deploying k8 job",
          "allow_manual_triggering": true, "active": true,
          "trigger_events": ["ferris.apps.minio.file_uploaded"], "tags": ["k8s"]
        }"#;
        let m = Manifest::parse("m.json", json).unwrap();
        assert_eq!(m.name.as_str(), "k8s_test_job");
        assert_eq!(m.trigger_events[0].ty(), "ferris.apps.minio.file_uploaded");
        assert_eq!((m.retries.count, m.max_concurrency), (0, None));
        assert!(m.allow_manual_triggering && m.active);
    }

    #[test]
    fn problems_name_file_field_and_line() {
        let err = Manifest::parse("svc/manifest.json", "{\n\"type\": \"k8x_job\"\n}").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("name"));
        assert!(err.to_string().starts_with("svc/manifest.json line 3, field `name`"), "{err}");

        let err = Manifest::parse("m.json", r#"{"name": "a", "type": "lambda"}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("type"));

        let err = Manifest::parse("m.json", r#"{"name": "a/b", "type": "k8x_job"}"#).unwrap_err();
        assert!(err.message.contains("`/`"), "{err}");

        let err = Manifest::parse("m.json", r#"{"name": "a", "type": "k8x_job", "trigger_events": ["a b"]}"#);
        assert_eq!(err.unwrap_err().field.as_deref(), Some("trigger_events"));

        for (json, field) in [
            (r#""retries": {"count": 21}"#, "retries"),
            (r#""retries": {"count": 1, "backoff_seconds": 3601}"#, "retries"),
            (r#""retries": {"count": 1, "every": 3}"#, "`every`"),
            (r#""max_concurrency": 0"#, "max_concurrency"),
            (r#""max_concurrency": -1"#, "`-1`"),
            (r#""trigger_events": [{"type": "t", "subject": ""}]"#, "trigger_events"),
        ] {
            let err = Manifest::parse("m.json", &format!(r#"{{"name": "a", "type": "k8x_job", {json}}}"#)).unwrap_err();
            assert!(err.to_string().contains(field), "{json}: {err}");
        }
    }

    #[test]
    fn retries_concurrency_and_subject_filters_are_read() {
        let json = r#"{"name": "a", "type": "k8x_job", "retries": {"count": 3, "backoff_seconds": 5},
            "max_concurrency": 2,
            "trigger_events": ["t.one", {"type": "k8x.execution.succeeded", "subject": "build"}]}"#;
        let m = Manifest::parse("m.json", json).unwrap();
        assert_eq!(m.retries, Retries { count: 3, backoff_seconds: 5 });
        assert_eq!(m.max_concurrency, Some(2));
        let filtered = &m.trigger_events[1];
        assert!(filtered.matches("k8x.execution.succeeded", Some("build")));
        assert!(!filtered.matches("k8x.execution.succeeded", Some("deploy")));
        assert!(!filtered.matches("k8x.execution.succeeded", None));
        assert!(m.trigger_events[0].matches("t.one", Some("anything")));
        assert_eq!(filtered.label(), "k8x.execution.succeeded (build)");
    }
}

//! `manifest.json`: read field by field, so that every problem in it is reported at once, each at its line.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub use crate::service::{is_env_name, Retries, Trigger, MAX_BACKOFF_SECONDS, MAX_RETRIES};

use super::{
    locate::Step,
    names::{EventType, ServiceName},
    problems::{self, Problems, Syntax},
    CatalogError,
};

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
    /// When it runs by itself, if it does.
    pub schedule: Option<crate::schedule::Schedule>,
}

/// The service types k8x runs: its own spelling and the seed's `k8s_job`.
const RUN_KINDS: [&str; 2] = [Manifest::KIND, "k8s_job"];

impl Manifest {
    /// The only service type k8x runs; the seed's `k8s_job` spelling is accepted as the same thing.
    pub const KIND: &'static str = "k8x_job";

    /// Parses `manifest.json`; `file` names it in errors. Stops at the first problem: see [`Manifest::check`].
    pub fn parse(file: &str, json: &str) -> Result<Self, CatalogError> {
        Self::check(file, json).map_err(|all| problems::first(file, all))
    }

    /// Parses `manifest.json` and reports every problem in it.
    pub fn check(file: &str, json: &str) -> Result<Self, Vec<CatalogError>> {
        let doc: Map<String, Value> = serde_json::from_str(json).map_err(|e| vec![problems::json_error(file, &e)])?;
        let mut problems = Problems::new(file, json, Syntax::Json);
        let mut fields = Fields { doc, problems: &mut problems };
        let name = fields.required::<String>("name").and_then(|raw| match ServiceName::parse(&raw) {
            Ok(name) => Some(name),
            Err(why) => fields.problem("name", why),
        });
        if let Some(kind) = fields.required::<String>("type") {
            if !RUN_KINDS.contains(&kind.as_str()) {
                fields.problem::<()>("type", format!("`{kind}` is not a service type k8x runs; use `k8x_job`"));
            }
        }
        let description = fields.optional::<String>("description").unwrap_or_default();
        let allow_manual_triggering = fields.optional::<bool>("allow_manual_triggering").unwrap_or(false);
        let active = fields.optional::<bool>("active").unwrap_or(true);
        let tags = fields.optional::<Vec<String>>("tags").unwrap_or_default();
        let trigger_events = fields.triggers();
        let retries = fields.optional::<Retries>("retries").unwrap_or_default();
        if retries.count > MAX_RETRIES || retries.backoff_seconds > MAX_BACKOFF_SECONDS {
            fields.problem::<()>(
                "retries",
                format!("at most {MAX_RETRIES} retries with a backoff of at most {MAX_BACKOFF_SECONDS} seconds"),
            );
        }
        let schedule = fields.doc.remove("schedule").filter(|v| !v.is_null()).and_then(|schedule| {
            crate::schedule::Schedule::parse(&schedule).or_else(|why| fields.problem("schedule", why).ok_or(())).ok()
        });
        let max_concurrency = fields.optional::<Option<u32>>("max_concurrency").flatten();
        if max_concurrency == Some(0) {
            fields.problem::<()>("max_concurrency", "must be at least 1 (leave it out for no limit)");
        }
        match name {
            Some(name) if problems.is_empty() => Ok(Self {
                name,
                description,
                allow_manual_triggering,
                active,
                trigger_events,
                tags,
                retries,
                max_concurrency,
                schedule,
            }),
            _ => Err(problems.into_vec()),
        }
    }

    /// The type and written name of a manifest whose type k8x does not run (FX's `python` services…).
    /// `None` for a manifest k8x runs, and for one too broken to tell: [`Manifest::check`] reports those.
    pub fn not_run(json: &str) -> Option<(String, Option<String>)> {
        let doc: Map<String, Value> = serde_json::from_str(json).ok()?;
        let kind = doc.get("type")?.as_str()?;
        if kind.trim().is_empty() || RUN_KINDS.contains(&kind) {
            return None;
        }
        Some((kind.to_owned(), doc.get("name").and_then(Value::as_str).map(str::to_owned)))
    }

    /// The service name a manifest gives, if it gives a valid one, however broken the rest is.
    pub fn name_in(json: &str) -> Option<ServiceName> {
        let doc: Map<String, Value> = serde_json::from_str(json).ok()?;
        ServiceName::parse(doc.get("name")?.as_str()?).ok()
    }
}

/// The fields of a manifest, taken one at a time; each problem goes to `problems`.
struct Fields<'p, 'a> {
    doc: Map<String, Value>,
    problems: &'p mut Problems<'a>,
}

impl Fields<'_, '_> {
    /// A problem with the top-level field `field`; always `None`, for use in place of a value.
    fn problem<T>(&mut self, field: &str, message: impl Into<String>) -> Option<T> {
        self.problems.at(&[Step::Key(field)], field, message);
        None
    }

    /// The field `key` as a `T`; `None` when it is absent or not a `T` (a problem).
    fn optional<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        match problems::typed(self.doc.remove(key)?) {
            Ok(value) => Some(value),
            Err(why) => self.problem(key, why),
        }
    }

    /// Like [`Fields::optional`], and a problem when the field is absent.
    fn required<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        if !self.doc.contains_key(key) {
            self.problems.at(&[Step::End], key, "the field is missing");
            return None;
        }
        self.optional(key)
    }

    /// `trigger_events`, each entry checked on its own.
    fn triggers(&mut self) -> Vec<Trigger> {
        let entries = self.optional::<Vec<Value>>("trigger_events").unwrap_or_default();
        let mut triggers = Vec::with_capacity(entries.len());
        for (index, entry) in entries.into_iter().enumerate() {
            let trigger = problems::typed::<Trigger>(entry)
                .map_err(|_| "must be an event type, or {\"type\": \"…\", \"subject\": \"…\"}".to_owned())
                .and_then(check_trigger);
            match trigger {
                Ok(trigger) => triggers.push(trigger),
                Err(why) => self.problems.at(
                    &[Step::Key("trigger_events"), Step::Index(index)],
                    format!("trigger_events[{index}]"),
                    why,
                ),
            }
        }
        triggers
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
    fn problems_name_file_field_line_and_column() {
        let err = Manifest::parse("svc/manifest.json", "{\n\"type\": \"k8x_job\"\n}").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("name"));
        assert!(err.to_string().starts_with("svc/manifest.json line 3 column 1, field `name`"), "{err}");

        let err = Manifest::parse("m.json", "{\"name\": \"a\",\n \"type\": \"lambda\"}").unwrap_err();
        assert_eq!((err.field.as_deref(), err.line, err.column), (Some("type"), Some(2), Some(7)));

        let err = Manifest::parse("m.json", r#"{"name": "a/b", "type": "k8x_job"}"#).unwrap_err();
        assert!(err.message.contains("`/`"), "{err}");

        let err = Manifest::parse("m.json", "{\n\"name\": \"a\",\n\"type\": }").unwrap_err();
        assert_eq!((err.line, err.column), (Some(3), Some(9)), "{err}");
        assert!(err.to_string().starts_with("m.json line 3 column 9: expected value"), "{err}");

        for (json, field) in [
            (r#""retries": {"count": 21}"#, "retries"),
            (r#""retries": {"count": 1, "backoff_seconds": 3601}"#, "retries"),
            (r#""retries": {"count": 1, "every": 3}"#, "`every`"),
            (r#""max_concurrency": 0"#, "max_concurrency"),
            (r#""max_concurrency": -1"#, "`-1`"),
            (r#""trigger_events": [{"type": "t", "subject": ""}]"#, "trigger_events[0]"),
            (r#""trigger_events": "t.one""#, "trigger_events"),
            (r#""tags": "k8s""#, "tags"),
            (r#""active": "yes""#, "active"),
        ] {
            let err = Manifest::parse("m.json", &format!(r#"{{"name": "a", "type": "k8x_job", {json}}}"#)).unwrap_err();
            assert!(err.to_string().contains(field), "{json}: {err}");
            assert!(err.line.is_some(), "{json}: {err}");
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let json = "{\n  \"name\": \"bad/name\",\n  \"type\": \"k8x_job\",\n  \"trigger_events\": [\n    \"ok.one\",\n    \"has space\",\n    7,\n    {\"type\": \"t\", \"subject\": \"\"}\n  ],\n  \"max_concurrency\": 0\n}\n";
        let all = Manifest::check("m.json", json).unwrap_err();
        let found: Vec<_> = all.iter().map(|p| (p.field.as_deref().unwrap_or(""), p.line.unwrap_or(0))).collect();
        assert_eq!(
            found,
            [
                ("name", 2),
                ("trigger_events[1]", 6),
                ("trigger_events[2]", 7),
                ("trigger_events[3]", 8),
                ("max_concurrency", 10)
            ],
            "{all:?}"
        );
    }

    #[test]
    fn types_k8x_does_not_run_are_told_apart() {
        assert_eq!(
            Manifest::not_run(r#"{"name": "fx svc", "type": "python"}"#),
            Some(("python".to_owned(), Some("fx svc".to_owned())))
        );
        assert_eq!(Manifest::not_run(r#"{"type": "k8s_job"}"#), None);
        assert_eq!(Manifest::not_run(r#"{"type": "k8x_job""#), None, "broken JSON is a problem, not a type");
        assert_eq!(Manifest::not_run(r#"{"type": 3}"#), None);
        assert_eq!(Manifest::name_in(r#"{"name": "a b", "type": 3}"#).unwrap().as_str(), "a_b");
        assert_eq!(Manifest::name_in(r#"{"name": "a/b"}"#), None);
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

use cloudevents::{EventBuilder, EventBuilderV10};
use serde_json::json;

use super::*;
use crate::catalog::ServiceSpec;

/// The test service as stored.
pub(crate) fn service_row() -> crate::store::entities::service::Model {
    crate::store::entities::service::Model {
        name: "hello".into(),
        project: "demo".into(),
        kind: "k8x_job".into(),
        description: String::new(),
        active: true,
        allow_manual_triggering: true,
        trigger_events: "[\"a.b\"]".into(),
        tags: "[]".into(),
        manifest: r#"{"name": "hello", "type": "k8x_job", "trigger_events": ["a.b"], "allow_manual_triggering": true}"#
            .into(),
        deployment: "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          image: bash\n          command: [\"bash\", \"-c\"]\n          args: [\"env\"]\n          env:\n            - name: SERVICE_PORT\n              value: \"80\"\n            - name: K8X_SERVICE\n              value: mine\n".into(),
        parameters: None,
        configs: Some(r#"{"DB_HOST": "db", "RETRIES": 3, "nested": {"a": 1}, "bad-name": "x"}"#.into()),
        secrets: Some(r#"{"API_TOKEN": "t0ps3cret"}"#.into()),
        updated_at: chrono::Utc::now(),
        revision: None,
        source_dir: None,
    }
}

pub(crate) fn launch() -> Launch {
    let service: ServiceSpec = crate::catalog::read_service(&service_row()).unwrap();
    let event = EventBuilderV10::new()
        .id("e1")
        .source("/tests")
        .ty("a.b")
        .extension("correlationid", "corr-9")
        .data("application/json", json!({"n": 1}))
        .build()
        .unwrap();
    Launch { execution_id: "x1".into(), attempt: 1, service, event, params: json!({"n": 1}) }
}

/// The test execution as the dispatcher creates it, for the event recorded under `event_key`.
pub(crate) fn new_execution(launch: &Launch, event_key: &str) -> crate::store::NewExecution {
    crate::store::NewExecution {
        id: launch.execution_id.clone(),
        event_key: event_key.into(),
        event_id: "e1".into(),
        event_type: "a.b".into(),
        service: "hello".into(),
        project: "demo".into(),
        params: launch.params.clone(),
        chain: "corr-9".into(),
        max_attempts: 1,
        retry_backoff_seconds: 0,
        revision: None,
    }
}

fn placement() -> Placement {
    Placement { secret: "k8x-hello-x1".into(), payload_dir: "/var/run/k8x".into() }
}

fn prepared(launch: &Launch) -> Job {
    prepare_job(launch, &Payload::of(launch), &placement())
}

#[test]
fn every_container_gets_the_k8x_variables_and_keeps_its_own() {
    let job = prepared(&launch());
    let env = job.spec.unwrap().template.spec.unwrap().containers[0].env.clone().unwrap();
    let get = |name: &str| env.iter().find(|e| e.name == name).cloned();
    assert_eq!(get("SERVICE_PORT").unwrap().value.as_deref(), Some("80"));
    assert_eq!(get("K8X_SERVICE").unwrap().value.as_deref(), Some("mine"), "declared variables win");
    assert_eq!(get("K8X_PARAMS").unwrap().value.as_deref(), Some(r#"{"n":1}"#));
    assert_eq!(get("K8X_PROJECT").unwrap().value.as_deref(), Some("demo"));
    assert_eq!(get("K8X_CORRELATION_ID").unwrap().value.as_deref(), Some("corr-9"));
    assert_eq!(get("DB_HOST").unwrap().value.as_deref(), Some("db"));
    assert_eq!(get("RETRIES").unwrap().value.as_deref(), Some("3"));
    assert!(get("nested").is_none() && get("bad-name").is_none());
    let event: serde_json::Value = serde_json::from_str(get("K8X_EVENT").unwrap().value.as_deref().unwrap()).unwrap();
    assert_eq!(event["id"], "e1");
    assert_eq!(event["data"], json!({"n": 1}));
    assert_eq!(get("K8X_PARAMS_FILE").unwrap().value.as_deref(), Some("/var/run/k8x/params.json"));
    assert_eq!(get("K8X_EVENT_FILE").unwrap().value.as_deref(), Some("/var/run/k8x/event.json"));
}

#[test]
fn large_payloads_are_in_files_only() {
    let mut launch = launch();
    launch.params = json!({"blob": "x".repeat(300 * 1024)});
    let payload = Payload::of(&launch);
    let job = prepare_job(&launch, &payload, &placement());
    let env = job.spec.unwrap().template.spec.unwrap().containers[0].env.clone().unwrap();
    assert!(env.iter().all(|e| e.name != "K8X_PARAMS"), "a 300 KB K8X_PARAMS would not start on Linux");
    assert!(env.iter().any(|e| e.name == "K8X_PARAMS_FILE"));
    assert!(env.iter().any(|e| e.name == "K8X_EVENT"), "the small event stays in the environment");
    let notes = payload.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("K8X_PARAMS is 307211 bytes") && notes[0].contains("K8X_PARAMS_FILE"), "{notes:?}");
}

#[test]
fn job_names_are_dns_labels_and_stable() {
    let name = job_name("k8s_test_job", "6f1c2a9e-0b7d-5c44-9a1e-3d2f4b5a6c7d", 1);
    assert_eq!(name, "k8x-k8s-test-job-6f1c2a9e0b7d");
    assert_eq!(name, job_name("k8s_test_job", "6f1c2a9e-0b7d-5c44-9a1e-3d2f4b5a6c7d", 1));
    let long = job_name(&"A.b_".repeat(20), "6f1c2a9e-0b7d-5c44-9a1e-3d2f4b5a6c7d", 1);
    assert!(long.len() <= 57, "{long}");
    assert!(long.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{long}");
    assert!(long.starts_with("k8x-") && !long.ends_with('-'), "{long}");
}

#[test]
fn debug_output_never_shows_a_secret_value() {
    let launch = launch();
    let text = format!("{launch:?}");
    assert!(text.contains("API_TOKEN") && !text.contains("t0ps3cret"), "{text}");
    let settings = crate::executor::kubernetes::Settings {
        namespace: "ns".into(),
        job_ttl_seconds: 1,
        backoff_limit: 0,
        deadline_seconds: 1,
        image_pull_timeout: std::time::Duration::from_secs(1),
        log_max_lines: 1_000,
    };
    let objects = crate::executor::kubernetes::objects::objects(&launch, &settings);
    assert!(!format!("{objects:?}").contains("t0ps3cret"));
}

#[test]
fn secrets_are_references_never_values() {
    let job = prepared(&launch());
    let spec = serde_json::to_string(&job).unwrap();
    assert!(!spec.contains("t0ps3cret"), "a secret value leaked into the Job spec");
    let env = job.spec.unwrap().template.spec.unwrap().containers[0].env.clone().unwrap();
    let token = env.iter().find(|e| e.name == "API_TOKEN").unwrap();
    let selector = token.value_from.as_ref().unwrap().secret_key_ref.as_ref().unwrap();
    assert_eq!((selector.name.as_str(), selector.key.as_str()), ("k8x-hello-x1", "API_TOKEN"));
}

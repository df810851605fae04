use cloudevents::{EventBuilder, EventBuilderV10};
use serde_json::json;

use super::*;
use crate::catalog::ServiceSpec;

pub(crate) fn launch() -> Launch {
    let job = crate::catalog::ServiceSpec::from_row(&crate::store::entities::service::Model {
        name: "hello".into(),
        project: "demo".into(),
        kind: "k8x_job".into(),
        description: String::new(),
        active: true,
        allow_manual_triggering: true,
        trigger_events: "[\"a.b\"]".into(),
        tags: "[]".into(),
        manifest: "{}".into(),
        deployment: "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          image: bash\n          command: [\"bash\", \"-c\"]\n          args: [\"env\"]\n          env:\n            - name: SERVICE_PORT\n              value: \"80\"\n            - name: K8X_SERVICE\n              value: mine\n".into(),
        parameters: None,
        configs: Some(r#"{"DB_HOST": "db", "RETRIES": 3, "nested": {"a": 1}, "bad-name": "x"}"#.into()),
        secrets: Some(r#"{"API_TOKEN": "t0ps3cret"}"#.into()),
        updated_at: chrono::Utc::now(),
    })
    .unwrap();
    let service: ServiceSpec = job;
    let event = EventBuilderV10::new()
        .id("e1")
        .source("/tests")
        .ty("a.b")
        .extension("correlationid", "corr-9")
        .data("application/json", json!({"n": 1}))
        .build()
        .unwrap();
    Launch { execution_id: "x1".into(), service, event, params: json!({"n": 1}) }
}

#[test]
fn every_container_gets_the_k8x_variables_and_keeps_its_own() {
    let job = prepare_job(&launch());
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
}

#[test]
fn secrets_are_references_never_values() {
    let job = prepare_job(&launch());
    let spec = serde_json::to_string(&job).unwrap();
    assert!(!spec.contains("t0ps3cret"), "a secret value leaked into the Job spec");
    let env = job.spec.unwrap().template.spec.unwrap().containers[0].env.clone().unwrap();
    let token = env.iter().find(|e| e.name == "API_TOKEN").unwrap();
    let selector = token.value_from.as_ref().unwrap().secret_key_ref.as_ref().unwrap();
    assert_eq!((selector.name.as_str(), selector.key.as_str()), ("k8x-secrets-hello", "API_TOKEN"));
}

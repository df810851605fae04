//! The API around the objects: access reviews, faults, the down switch, the request record, kubeconfig.

use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use kube_emulator::{Fault, Options};
use serde_json::{json, Value};

use crate::common::*;

async fn review(env: &TestEnv, verb: &str, resource: &str, subresource: Option<&str>) -> bool {
    let api: Api<SelfSubjectAccessReview> = Api::all(env.client.clone());
    let review: SelfSubjectAccessReview = typed(json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": { "resourceAttributes": { "namespace": NS, "verb": verb, "resource": resource, "subresource": subresource } },
    }));
    api.create(&PostParams::default(), &review).await.unwrap().status.unwrap().allowed
}

#[tokio::test]
async fn access_reviews_answer_per_the_denied_list() {
    let denied = vec![("get".to_owned(), "pods/log".to_owned()), ("create".to_owned(), "secrets".to_owned())];
    let env = start_with(Options { denied, ..Options::default() }).await;
    assert!(!review(&env, "get", "pods", Some("log")).await);
    assert!(review(&env, "get", "pods", None).await);
    assert!(!review(&env, "create", "secrets", None).await);
    assert!(review(&env, "create", "jobs", None).await);
}

#[tokio::test]
async fn faults_down_and_the_request_record() {
    let env = start().await;
    let http = reqwest::Client::new();
    let base = env.emulator.url();
    let jobs_url = format!("{base}/apis/batch/v1/namespaces/{NS}/jobs");
    let fault = Fault { method: "POST".into(), path_contains: "/jobs".into(), status: 429, times: 1 };
    // Through the control API, as a harness in another process would.
    let injected = http.post(format!("{base}/emulator/faults")).json(&fault).send().await.unwrap();
    assert!(injected.status().is_success());

    let body = serde_json::to_value(job("f", "true", json!({}))).unwrap();
    let refused = http.post(&jobs_url).json(&body).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    let status: Value = refused.json().await.unwrap();
    assert_eq!((status["kind"].as_str(), status["reason"].as_str()), (Some("Status"), Some("TooManyRequests")));
    assert_eq!(http.post(&jobs_url).json(&body).send().await.unwrap().status(), 201);

    env.emulator.set_down(true);
    let version = format!("{base}/version");
    assert_eq!(http.get(&version).send().await.unwrap().status(), 503);
    env.emulator.set_down(false);
    let v: Value = http.get(&version).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["gitVersion"], "v1.35.0-emulator");

    let requests = env.emulator.requests();
    let posts: Vec<_> = requests.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].path, format!("/apis/batch/v1/namespaces/{NS}/jobs"));
    assert_eq!(posts[0].body.as_ref().unwrap()["kind"], "Job");
    let over_http: Vec<Value> =
        http.get(format!("{base}/emulator/requests")).send().await.unwrap().json().await.unwrap();
    assert_eq!(over_http.len(), requests.len(), "control requests are not recorded");
}

#[tokio::test]
async fn the_written_kubeconfig_reaches_the_emulator() {
    let env = start().await;
    let path = env._dir.path().join("kubeconfig");
    env.emulator.write_kubeconfig(&path, "elsewhere").unwrap();
    let kubeconfig = Kubeconfig::read_from(&path).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.unwrap();
    assert_eq!(config.default_namespace, "elsewhere");
    let client = Client::try_from(config).unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client);
    assert!(pods.list(&ListParams::default()).await.unwrap().items.is_empty());
    let recorded = env.emulator.requests();
    assert_eq!(recorded.last().unwrap().path, "/api/v1/namespaces/elsewhere/pods");
}

#[tokio::test]
async fn patch_generate_name_and_paging() {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{Patch, PatchParams};

    let env = start().await;
    let maps: Api<ConfigMap> = Api::namespaced(env.client.clone(), NS);
    let created = maps
        .create(&PostParams::default(), &typed(json!({ "metadata": { "name": "m" }, "data": { "a": "1" } })))
        .await
        .unwrap();
    let patch = json!({ "metadata": { "labels": { "l": "v" } }, "data": { "a": null, "b": "2" } });
    let patched = maps.patch("m", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    assert_eq!(patched.data.unwrap().into_iter().collect::<Vec<_>>(), [("b".to_owned(), "2".to_owned())]);
    assert_eq!(patched.metadata.labels.unwrap()["l"], "v");
    assert_ne!(patched.metadata.resource_version, created.metadata.resource_version);
    assert_eq!(patched.metadata.uid, created.metadata.uid);

    let generated = job("", "true", json!({ "metadata": { "generateName": "gen-" } }));
    let generated = env.jobs().create(&PostParams::default(), &generated).await.unwrap();
    let name = generated.metadata.name.unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    let template_labels = generated.spec.unwrap().template.metadata.unwrap().labels.unwrap();
    assert_eq!(template_labels["batch.kubernetes.io/job-name"], name);

    maps.create(&PostParams::default(), &typed(json!({ "metadata": { "name": "n" } }))).await.unwrap();
    let page = maps.list(&ListParams::default().limit(1)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let token = page.metadata.continue_.expect("a continue token");
    let rest = maps.list(&ListParams::default().limit(1).continue_token(&token)).await.unwrap();
    assert_eq!(rest.items[0].metadata.name.as_deref(), Some("n"));
    let selected = maps.list(&ListParams::default().labels("l in (v,w)")).await.unwrap();
    assert_eq!(selected.items.len(), 1);
}

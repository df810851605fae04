use serde_json::json;

use super::*;
use crate::executor::environment::tests::service_row;

/// A stored service `name` subscribed to `triggers` (each a type, or `{"type", "subject"}`).
fn row(name: &str, triggers: serde_json::Value, active: bool) -> service::Model {
    let manifest = json!({"name": name, "type": "k8x_job", "trigger_events": triggers});
    service::Model { name: name.into(), active, manifest: manifest.to_string(), ..service_row() }
}

fn names<'a>(found: impl Iterator<Item = &'a Arc<ServiceSpec>>) -> Vec<String> {
    let mut names: Vec<_> = found.map(|s| s.name.clone()).collect();
    names.sort();
    names
}

#[test]
fn events_find_their_active_subscribers_by_type_and_subject() {
    let index = ServiceIndex::build([
        row("any", json!(["a.b", "c.d"]), true),
        row("narrow", json!([{"type": "k8x.execution.succeeded", "subject": "any"}]), true),
        row("both", json!(["a.b", {"type": "a.b", "subject": "x"}]), true),
        row("off", json!(["a.b"]), false),
        row("broken", json!("not a list"), true),
    ]);
    assert_eq!(names(index.matching("a.b", None)), ["any", "both"]);
    assert_eq!(names(index.matching("a.b", Some("x"))), ["any", "both"], "a service matching twice runs once");
    assert_eq!(names(index.matching("c.d", Some("y"))), ["any"]);
    assert_eq!(names(index.matching("k8x.execution.succeeded", Some("any"))), ["narrow"]);
    assert!(index.matching("k8x.execution.succeeded", Some("other")).next().is_none());
    assert!(index.matching("k8x.execution.succeeded", None).next().is_none());
    assert!(index.matching("nobody", None).next().is_none());
    assert!(index.named("off").is_some_and(|s| !s.active), "inactive services are known by name");
    assert!(index.named("broken").is_none(), "a broken service is left out");
    assert_eq!(index.len(), 4);
}

#[tokio::test]
async fn the_index_follows_changes_of_this_process_at_once_and_of_others_on_the_next_check() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("k8x.db").display());
    let (here, elsewhere) = (Store::connect(&url).await.unwrap(), Store::connect(&url).await.unwrap());
    let catalog = Catalog::new(here.clone());
    assert!(catalog.index().await.unwrap().is_empty());

    here.upsert_service(row("one", json!(["a.b"]), true)).await.unwrap();
    assert_eq!(names(catalog.index().await.unwrap().matching("a.b", None)), ["one"], "seen on the next event");

    // Another process's change: not seen before the recheck is due, seen after.
    let two = service::Model { project: "other".into(), ..row("two", json!(["a.b"]), true) };
    elsewhere.upsert_service(two).await.unwrap();
    assert_eq!(names(catalog.index().await.unwrap().matching("a.b", None)), ["one"]);
    catalog.current.lock().unwrap().checked -= RECHECK;
    assert_eq!(names(catalog.index().await.unwrap().matching("a.b", None)), ["one", "two"]);

    elsewhere.remove_project("demo").await.unwrap();
    catalog.current.lock().unwrap().checked -= RECHECK;
    assert_eq!(names(catalog.index().await.unwrap().matching("a.b", None)), ["two"], "a removal is a change");
}

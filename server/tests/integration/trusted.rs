//! Executions you can trust: an ending and its announcement are written together (a crash between them loses
//! nothing), a service can follow one named service's outcome, a chain stays bounded in breadth, failures are
//! retried with backoff as attempts of the same execution, and concurrency caps hold under a burst — across a
//! restart, with nothing run twice.

use std::{path::Path, time::Duration};

use backend::store::{Ending, NewExecution, Settled};
use cloudevents::{EventBuilder, EventBuilderV10};
use serde_json::json;

use crate::helpers::{self, spawn_config, wait_until, Setup, TestApp};

/// A k8x on its own project (written by `write`) with its data in `dir`, tuned by `tune`.
async fn k8x_with(dir: tempfile::TempDir, tune: impl FnOnce(&mut backend::config::Config)) -> TestApp {
    let project = dir.path().join("own-project");
    let mut config = helpers::config(Setup { project_dir: Some(project), ..Setup::default() }, dir.path());
    tune(&mut config);
    spawn_config(config, dir).await
}

fn project(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("own-project")
}

fn manifest(name: &str, triggers: serde_json::Value, extra: serde_json::Value) -> String {
    let mut m = json!({"name": name, "type": "k8x_job", "trigger_events": triggers});
    m.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
    m.to_string()
}

/// Executions of `service`, all of them.
async fn runs_of(app: &TestApp, service: &str) -> Vec<backend::store::entities::execution::Model> {
    app.state.store.executions(Some(service), 100_000).await.unwrap()
}

/// A file under `/dev/shm` (local executions may write there) for one test's jobs to leave marks in.
fn marks(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = std::path::PathBuf::from(format!(
        "/dev/shm/k8x-{}-{name}",
        dir.file_name().unwrap().to_string_lossy().trim_start_matches('.')
    ));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    path
}

#[tokio::test]
async fn an_ending_recorded_just_before_a_crash_is_announced_once_after_the_restart() {
    let dir = tempfile::TempDir::new().unwrap();
    helpers::service(&project(&dir), "build", &manifest("build", json!(["t.build"]), json!({})), "exit 3", &[]);
    let follower = manifest("after_build", json!([{"type": "k8x.execution.failed", "subject": "build"}]), json!({}));
    helpers::service(&project(&dir), "after_build", &follower, "echo saw the failure", &[]);
    let app = k8x_with(dir, |_| {}).await;
    let url = app.state.config.database_url();
    let dir = app.stop().await;

    // What a k8x that crashed right after recording an ending leaves: the ending and its announcement, written
    // in one transaction, and nothing relayed yet.
    let store = backend::store::Store::connect(&url).await.unwrap();
    let trigger = EventBuilderV10::new().id("crash-1").source("/tests").ty("t.build").build().unwrap();
    let key = backend::ids::event_key("/tests", "crash-1");
    store.record_event(&key, &trigger).await.unwrap();
    let id = backend::ids::execution_id(&key, "build");
    let new = NewExecution {
        id: id.clone(),
        event_key: key.clone(),
        event_id: "crash-1".into(),
        event_type: "t.build".into(),
        service: "build".into(),
        project: "own-project".into(),
        params: json!({}),
        chain: "crash-1".into(),
        max_attempts: 1,
        retry_backoff_seconds: 0,
        revision: None,
    };
    store.create_execution(new).await.unwrap();
    let settled = store.finish_execution(&id, &Ending::failed(Some(3), "container `main` exited with 3")).await;
    assert_eq!(settled.unwrap(), Settled::Ended);
    assert_eq!(store.outbox_len().await.unwrap(), 1, "the announcement waits in the outbox");
    drop(store);

    let app = k8x_with(dir, |_| {}).await;
    let followed =
        wait_until(|| async { runs_of(&app, "after_build").await.into_iter().find(|r| r.status == "succeeded") });
    let followed = followed.await;
    assert_eq!(followed.event_type, "k8x.execution.failed");
    wait_until(|| async { (app.state.store.outbox_len().await.unwrap() == 0).then_some(()) }).await;
    let dir = app.stop().await;
    // A second restart announces nothing again.
    let app = k8x_with(dir, |_| {}).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.dispatched_all().await;
    assert_eq!(runs_of(&app, "after_build").await.len(), 1, "followed exactly once");
    // And on the bus itself the announcement is there once: relayed once, not again after the second start.
    use backend::store::entities::bus_record;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let announced = bus_record::Entity::find()
        .filter(bus_record::Column::Event.contains("k8x.execution.failed"))
        .filter(bus_record::Column::Event.contains(&id))
        .count(app.state.store.db())
        .await
        .unwrap();
    assert_eq!(announced, 1, "announced exactly once");
}

#[tokio::test]
async fn a_service_follows_one_named_services_outcome_and_a_chain_stays_bounded_in_breadth() {
    let dir = tempfile::TempDir::new().unwrap();
    let p = project(&dir);
    helpers::service(&p, "build", &manifest("build", json!(["t.build"]), json!({})), "true", &[]);
    helpers::service(&p, "lint", &manifest("lint", json!(["t.lint"]), json!({})), "true", &[]);
    let deploy = manifest("deploy", json!([{"type": "k8x.execution.succeeded", "subject": "build"}]), json!({}));
    helpers::service(&p, "deploy", &deploy, "true", &[]);
    // Two services each following every success: without a bound on breadth, each step doubles.
    for name in ["echo_a", "echo_b"] {
        let m = manifest(name, json!(["t.storm", "k8x.execution.succeeded"]), json!({}));
        helpers::service(&p, name, &m, "true", &[]);
    }
    let limit = 40;
    let app = k8x_with(dir, |c| c.max_chain_executions = limit).await;

    assert_eq!(app.post_event("b-1", "t.build", json!({})).await.status(), 202);
    assert_eq!(app.post_event("l-1", "t.lint", json!({})).await.status(), 202);
    let deployed = wait_until(|| async { runs_of(&app, "deploy").await.into_iter().find(|r| r.status == "succeeded") });
    assert_eq!(deployed.await.event_type, "k8x.execution.succeeded");

    assert_eq!(app.post_event("storm-1", "t.storm", json!({})).await.status(), 202);
    // The storm grows to the chain's budget and stops there.
    let chain_size = || async {
        use backend::store::entities::execution;
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        execution::Entity::find()
            .filter(execution::Column::Chain.eq("storm-1"))
            .count(app.state.store.db())
            .await
            .unwrap()
    };
    for _ in 0..1200 {
        if chain_size().await >= limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reached = chain_size().await;
    assert!(reached >= limit, "the chain grew to its budget ({reached})");
    // Let what is under way settle, then nothing more is created.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let settled = chain_size().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(chain_size().await, settled, "the chain stopped growing");
    // One event's fan-out past the budget at most (two services), never the 2^17 of an unbounded chain.
    assert!(settled <= limit + 2, "bounded: {settled}");
    // `deploy` followed `build` only: the storm's successes (other subjects) never ran it again.
    assert_eq!(runs_of(&app, "deploy").await.len(), 1);
}

#[tokio::test]
async fn a_failing_execution_is_retried_with_backoff_as_attempts_of_the_same_execution() {
    let dir = tempfile::TempDir::new().unwrap();
    let flaky = manifest("flaky", json!(["t.flaky"]), json!({"retries": {"count": 3, "backoff_seconds": 1}}));
    // Fails its first two attempts, succeeds on the third.
    let script = "echo attempt=$K8X_ATTEMPT; [ $K8X_ATTEMPT -ge 3 ] || exit 7";
    helpers::service(&project(&dir), "flaky", &flaky, script, &[]);
    let on_failure = manifest("on_failure", json!([{"type": "k8x.execution.failed", "subject": "flaky"}]), json!({}));
    helpers::service(&project(&dir), "on_failure", &on_failure, "true", &[]);
    let on_success =
        manifest("on_success", json!([{"type": "k8x.execution.succeeded", "subject": "flaky"}]), json!({}));
    helpers::service(&project(&dir), "on_success", &on_success, "true", &[]);
    let app = k8x_with(dir, |_| {}).await;

    app.post_event("flaky-1", "t.flaky", json!({})).await;
    let run = app.executions_of("flaky-1", 1).await.remove(0);
    assert_eq!((run.status.as_str(), run.attempt, run.max_attempts), ("succeeded", 3, 4));
    let attempts = app.state.store.attempts(&run.id).await.unwrap();
    assert_eq!(
        attempts.iter().map(|a| (a.attempt, a.status.as_str(), a.exit_code)).collect::<Vec<_>>(),
        [(1, "failed", Some(7)), (2, "failed", Some(7))]
    );
    // Backoff: the second attempt waited at least 1 s after the first ended, the third at least 2 s.
    let gap = |a: &backend::store::entities::execution_attempt::Model, next_start: chrono::DateTime<chrono::Utc>| {
        next_start - a.finished_at
    };
    assert!(gap(&attempts[0], attempts[1].started_at.unwrap()) >= chrono::Duration::milliseconds(1000));
    assert!(gap(&attempts[1], run.started_at.unwrap()) >= chrono::Duration::milliseconds(2000));
    let log = app.log(&run.id).await;
    for n in 1..=3 {
        assert!(log.contains(&format!("attempt={n}")), "{log:?}");
    }
    // Announced once, as it finally ended: the failed attempts were not endings.
    wait_until(|| async { runs_of(&app, "on_success").await.into_iter().find(|r| r.status == "succeeded") }).await;
    app.dispatched_all().await;
    assert!(runs_of(&app, "on_failure").await.is_empty(), "a retried attempt is not announced as a failure");

    // The page and the API show the attempts.
    let detail: serde_json::Value =
        app.client.get(app.url(&format!("/api/v1/executions/{}", run.id))).send().await.unwrap().json().await.unwrap();
    assert_eq!((detail["attempt"].as_i64(), detail["max_attempts"].as_i64()), (Some(3), Some(4)), "{detail}");
    assert_eq!(detail["attempts"].as_array().unwrap().len(), 2, "{detail}");
    let page = app.client.get(app.url(&format!("/executions/{}", run.id))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("3 of 4") && page.contains("id=\"attempts\""), "the page shows the attempts");
}

#[tokio::test]
async fn caps_hold_under_a_burst_of_a_thousand_events_and_queued_executions_survive_a_restart() {
    let dir = tempfile::TempDir::new().unwrap();
    let running = marks(dir.path(), "running");
    let over = marks(dir.path(), "over");
    // Each job marks itself running, counts the marks (bash builtins only: the job stays cheap), leaves a note
    // if it sees more than its cap, waits a moment (a read that times out on a FIFO) and unmarks itself.
    let fifo = running.join("wait");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let job = |name: &str, cap: usize| {
        let (running, over, fifo) = (running.display(), over.display(), fifo.display());
        format!(
            "shopt -s nullglob; : > {running}/{name}-$K8X_EXECUTION_ID; mine=({running}/{name}-*); \
             all=({running}/*-*); [ ${{#mine[@]}} -le {cap} ] || : > {over}/{name}-${{#mine[@]}}; \
             [ ${{#all[@]}} -le 3 ] || : > {over}/all-${{#all[@]}}; read -t 0.03 <> {fifo}; \
             rm {running}/{name}-$K8X_EXECUTION_ID"
        )
    };
    // `one_at_a_time` takes the first 200 events (subject `capped`), `free` all 1,000; the host runs 3 at most.
    let one =
        manifest("one_at_a_time", json!([{"type": "t.burst", "subject": "capped"}]), json!({"max_concurrency": 1}));
    helpers::service(&project(&dir), "one_at_a_time", &one, &job("one_at_a_time", 1), &[]);
    let free = manifest("free", json!(["t.burst"]), json!({}));
    helpers::service(&project(&dir), "free", &free, &job("free", 3), &[]);
    let app = k8x_with(dir, |c| c.local_max_running = Some(3)).await;

    let events = 1000;
    let batch: Vec<serde_json::Value> = (0..events)
        .map(|n| {
            let subject = if n < 200 { "capped" } else { "free" };
            json!({"specversion": "1.0", "id": format!("burst-{n}"), "source": "/tests", "type": "t.burst", "subject": subject})
        })
        .collect();
    for chunk in batch.chunks(250) {
        let response = app
            .post_raw(&[("content-type", "application/cloudevents-batch+json")], serde_json::to_string(chunk).unwrap())
            .await;
        assert_eq!(response.status(), 202);
    }
    // Stop part-way: what is queued waits in the database for the next start.
    wait_until(|| async {
        (runs_of(&app, "free").await.iter().filter(|r| r.status == "succeeded").count() >= 50).then_some(())
    })
    .await;
    let dir = app.stop().await;
    let app = k8x_with(dir, |c| c.local_max_running = Some(3)).await;
    let done = |service: &'static str| {
        let app = &app;
        async move { runs_of(app, service).await.iter().filter(|r| r.status == "succeeded").count() }
    };
    for _ in 0..2400 {
        if done("one_at_a_time").await == 200 && done("free").await == events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (service, expected) in [("one_at_a_time", 200), ("free", events)] {
        let runs = runs_of(&app, service).await;
        assert_eq!(runs.len(), expected, "{service}: one execution per matching event");
        assert!(runs.iter().all(|r| r.status == "succeeded"), "{service}: every one ran once, to the end");
    }
    let breaches: Vec<String> =
        std::fs::read_dir(&over).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(breaches.is_empty(), "caps exceeded: {breaches:?}");
    let _ = std::fs::remove_dir_all(&running);
    let _ = std::fs::remove_dir_all(&over);
}

#[tokio::test]
async fn a_process_starting_on_a_shared_database_leaves_a_live_process_executions_alone() {
    let db = crate::postgres::TestDatabase::create().await;
    // Processes sharing a database share the key that seals its secrets.
    let key = backend::store::SecretCipher::generate_key();
    let setup = || Setup { db: helpers::Db::Url(db.url.clone()), secret_key: Some(key.clone()), ..Setup::default() };
    let first = helpers::spawn(setup(), tempfile::TempDir::new().unwrap()).await;
    first.post_event("shared-1", "t.slow", json!({})).await;
    let id = first.running("shared-1").await;
    // A second k8x on the same database starts while the first one's execution runs.
    let second = helpers::spawn(setup(), tempfile::TempDir::new().unwrap()).await;
    let row = first.finished(&id).await;
    assert_eq!(row.status, "succeeded", "the live process's execution ran to its end: {row:?}");
    drop(second);
    drop(first);
    db.drop().await;
}

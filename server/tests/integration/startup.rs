//! Start-up: k8x serves while its start-up project syncs, and dispatches only once the project is loaded.

use backend::store::Store;
use server::Application;
use tokio_util::sync::CancellationToken;

use crate::helpers::{client_builder, config, event_to, service, spawn_app, wait_until, Setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k8x_serves_while_its_start_up_project_syncs_and_runs_what_came_meanwhile_once_it_is_loaded() {
    let (_dir, config, store) = stopped_with_a_new_service().await;
    // Another k8x on this database is syncing the project right now, so this one's start-up sync waits for it.
    assert!(store.claim_sync("project", "another-k8x", chrono::Duration::seconds(60)).await.unwrap());
    let shutdown = CancellationToken::new();
    let building = tokio::spawn(Application::build(config.clone(), shutdown.clone()));

    // Served before the start-up sync is done: health, and ingest (the event waits on the bus).
    let base = format!("http://{}", config.listen);
    let client = client_builder().build().unwrap();
    wait_until(|| async { client.get(format!("{base}/health")).send().await.ok().filter(|r| r.status() == 200) }).await;
    let posted = event_to(&client, &base, "early", "t.late").send().await.unwrap();
    assert_eq!(posted.status(), 202);
    let ready = client.get(format!("{base}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "not ready before it dispatches");
    assert!(!building.is_finished(), "k8x was still loading its start-up project");
    assert!(store.service("late").await.unwrap().is_none(), "the new service is not loaded yet");

    // The other sync ends: this one loads the project, then dispatches what came meanwhile.
    store.release_sync("project", "another-k8x").await.unwrap();
    let app = building.await.unwrap().expect("k8x starts");
    assert!(store.service("late").await.unwrap().is_some(), "the project is loaded when build returns");
    let ready = client.get(format!("{base}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "ready once it dispatches");
    let running = tokio::spawn(app.run_until_stopped());
    let key = backend::ids::event_key("/tests", "early");
    let ran = wait_until(|| async {
        let rows = store.executions_of_event(&key).await.unwrap();
        rows.into_iter().find(|r| r.status == "succeeded")
    })
    .await;
    assert_eq!(ran.service, "late");
    shutdown.cancel();
    running.await.unwrap().unwrap();
}

/// A k8x killed mid-sync leaves its claim on the project (a lease of two minutes, renewed while a sync runs).
/// Restarted on the same data directory it is the same instance: it lets go of that claim at once and loads the
/// project, instead of waiting and then dispatching with services missing; the killed sync is recorded as failed, not left
/// running. A claim of another instance still holds (above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_k8x_takes_back_the_sync_claim_its_killed_run_left() {
    let (_dir, config, store) = stopped_with_a_new_service().await;
    let instance = std::fs::read_to_string(config.data_dir.join("instance")).unwrap();
    let left = format!("{}#killed-mid-sync", instance.trim());
    assert!(store.claim_sync("project", &left, chrono::Duration::minutes(5)).await.unwrap());
    let killed = store.start_sync("project", "startup").await.unwrap();

    let shutdown = CancellationToken::new();
    let app =
        tokio::time::timeout(std::time::Duration::from_secs(20), Application::build(config.clone(), shutdown.clone()))
            .await
            .expect("k8x did not wait out its own old claim")
            .expect("k8x starts");
    assert!(store.service("late").await.unwrap().is_some(), "the project is loaded when build returns");
    let syncs = store.syncs("project", 10).await.unwrap();
    let row = syncs.iter().find(|s| s.id == killed).expect("the killed sync's record stays");
    assert_eq!(row.result, "failed");
    assert!(row.error.as_deref().unwrap_or_default().contains("interrupted"), "{:?}", row.error);
    assert!(row.finished_at.is_some());
    assert!(syncs.iter().all(|s| s.result != "running"), "{syncs:?}");
    shutdown.cancel();
    app.run_until_stopped().await.unwrap();
}

/// A sync whose process stopped mid-way, and whose claim ran out instead of being taken back (another k8x was
/// running it): the next sync of the project records it as failed before it starts.
#[tokio::test]
async fn the_next_sync_ends_a_sync_whose_process_stopped() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let project = backend::store::entities::project::Model::new("p", "webhook-secret".to_owned());
    assert!(store.add_project(project).await.unwrap());
    let gone = store.start_sync("p", "interval").await.unwrap();
    let next = store.start_sync("p", "manual").await.unwrap();
    let syncs = store.syncs("p", 10).await.unwrap();
    let result = |id| syncs.iter().find(|s| s.id == id).map(|s| s.result.as_str()).unwrap();
    assert_eq!((result(gone), result(next)), ("failed", "running"));

    // The first was alive after all, only slower than its claim: when it ends, its own error is the record.
    store.fail_sync(gone, "the sync took longer than its claim").await.unwrap();
    let syncs = store.syncs("p", 10).await.unwrap();
    let error = syncs.iter().find(|s| s.id == gone).and_then(|s| s.error.clone());
    assert_eq!(error.as_deref(), Some("the sync took longer than its claim"));
}

/// A restarted k8x whose old claim ran out and was taken by another k8x, now syncing: it leaves that sync and its
/// claim alone.
#[tokio::test]
async fn a_restart_leaves_alone_a_sync_another_k8x_claimed_after_its_own_claim_ran_out() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let project = backend::store::entities::project::Model::new("p", "webhook-secret".to_owned());
    assert!(store.add_project(project).await.unwrap());
    assert!(store.claim_sync("p", "restarted#old", chrono::Duration::seconds(-1)).await.unwrap());
    assert!(store.claim_sync("p", "other#live", chrono::Duration::minutes(5)).await.unwrap(), "the old claim ran out");
    let live = store.start_sync("p", "interval").await.unwrap();

    assert_eq!(store.release_abandoned_syncs("restarted").await.unwrap(), 0);
    let syncs = store.syncs("p", 10).await.unwrap();
    assert_eq!(syncs.iter().find(|s| s.id == live).map(|s| s.result.as_str()), Some("running"));
    assert!(!store.claim_sync("p", "third#x", chrono::Duration::minutes(5)).await.unwrap(), "the live claim holds");
}

/// A k8x that ran once (making the database and the project, named after its directory) and stopped, and whose
/// project has since gained service `late` (on `t.late`): its directory, a config to start it again, its store.
async fn stopped_with_a_new_service() -> (tempfile::TempDir, backend::config::Config, Store) {
    let dir = spawn_app().await.stop().await;
    service(
        &dir.path().join("project"),
        "late",
        r#"{"name": "late", "type": "k8x_job", "trigger_events": ["t.late"]}"#,
        "echo late",
        &[],
    );
    let mut config = config(Setup::default(), dir.path());
    config.listen = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let store = Store::connect(&config.database_url()).await.unwrap();
    (dir, config, store)
}

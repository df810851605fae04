//! Sync claims: a sync holds its project for as long as it runs, however long reading its files takes, and no
//! longer than its lease once its process is gone.

use std::time::Duration;

use backend::{
    projects::{manage::NewProject, Projects, Snapshot},
    store::Store,
};

use crate::helpers::service;

/// The lease here: short, so that a sync outlasts it (renewed every sixth of it).
const LEASE: Duration = Duration::from_millis(1500);

/// A project `p` (of archive kind, synced from whatever files a test gives) with its store and projects.
async fn project() -> (tempfile::TempDir, Store, std::sync::Arc<Projects>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display())).await.unwrap();
    let projects = Projects::claiming_for(store.clone(), dir.path().to_owned(), "here", LEASE);
    projects.create(NewProject { name: "p".into(), archive: true, ..Default::default() }).await.unwrap();
    service(
        &dir.path().join("files"),
        "slow",
        r#"{"name": "slow", "type": "k8x_job", "trigger_events": ["t.slow"]}"#,
        "true",
        &[],
    );
    (dir, store, projects)
}

#[tokio::test]
async fn a_sync_that_outlasts_its_lease_keeps_its_claim_and_is_applied() {
    let (dir, store, projects) = project().await;
    let files = dir.path().join("files");
    let syncing = tokio::spawn(async move {
        projects
            .sync_with("p", "manual", move || {
                std::thread::sleep(LEASE * 5 / 2);
                Ok(Snapshot::at(files, "r1".into(), None))
            })
            .await
    });
    // Well past the first lease: the sync still holds the project, so another k8x cannot claim it.
    tokio::time::sleep(LEASE * 2).await;
    assert!(!syncing.is_finished());
    assert!(!store.claim_sync("p", "elsewhere#1", chrono::Duration::seconds(60)).await.unwrap(), "renewed");

    let view = syncing.await.unwrap().expect("applied, not refused as having lost its claim");
    assert_eq!((view.result.as_str(), view.revision.as_deref()), ("ok", Some("r1")), "{view:?}");
    assert!(store.service("slow").await.unwrap().is_some());
    // Ended: the claim is let go of at once.
    assert!(store.claim_sync("p", "elsewhere#2", chrono::Duration::seconds(60)).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_whose_claim_was_taken_is_not_applied_and_says_so() {
    let (dir, store, projects) = project().await;
    let files = dir.path().join("files");
    let other = store.clone();
    let result = projects
        .sync_with("p", "manual", move || {
            // Meanwhile the claim is let go of (as a restart of this process does) and another k8x takes it.
            tokio::runtime::Handle::current().block_on(async {
                assert_eq!(other.release_abandoned_syncs("here").await.unwrap(), 1);
                assert!(other.claim_sync("p", "elsewhere#1", chrono::Duration::seconds(60)).await.unwrap());
            });
            Ok(Snapshot::at(files, "r1".into(), None))
        })
        .await;
    let err = result.expect_err("a sync that lost its claim is refused");
    assert!(err.to_string().contains("lost its claim"), "{err}");
    assert!(store.service("slow").await.unwrap().is_none(), "nothing applied");
    let syncs = store.syncs("p", 1).await.unwrap();
    assert_eq!(syncs[0].result, "failed");
    assert!(syncs[0].error.as_deref().is_some_and(|e| e.contains("lost its claim")), "{:?}", syncs[0].error);
    assert!(!store.claim_sync("p", "third#1", chrono::Duration::seconds(60)).await.unwrap(), "the other's claim holds");
}

#[tokio::test]
async fn a_sync_that_panics_lets_go_of_its_claim_at_once() {
    let (_dir, store, projects) = project().await;
    let result = projects.sync_if("p", "interval", |_| panic!("a check went wrong")).await;
    let err = result.expect_err("a panicking sync fails");
    assert!(err.to_string().contains("a check went wrong"), "{err}");
    assert!(store.claim_sync("p", "elsewhere#1", chrono::Duration::seconds(60)).await.unwrap(), "released, not held");
}

#[tokio::test]
async fn a_sync_whose_reading_panics_is_recorded_failed_and_lets_go_of_its_claim() {
    let (_dir, store, projects) = project().await;
    let view = projects.sync_with("p", "manual", || panic!("the files could not be walked")).await.unwrap();
    assert_eq!(view.result, "failed", "{view:?}");
    let syncs = store.syncs("p", 1).await.unwrap();
    assert_eq!(syncs[0].result, "failed", "{:?}", syncs[0]);
    assert!(syncs[0].error.as_deref().is_some_and(|e| e.contains("the files could not be walked")));
    assert!(store.claim_sync("p", "elsewhere#1", chrono::Duration::seconds(60)).await.unwrap(), "released");
}

//! The same path on PostgreSQL (127.0.0.1:5432 here; `K8X_TEST_POSTGRES_URL` points elsewhere), in a
//! database made for the test and dropped after it.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use crate::helpers::{spawn_app_with, Db};

/// A database of its own for one test.
pub struct TestDatabase {
    admin: DatabaseConnection,
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let admin_url = std::env::var("K8X_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let admin = Database::connect(&admin_url).await.expect("PostgreSQL must be running for the test suite");
        let name = format!("k8x_test_{}", uuid::Uuid::new_v4().simple());
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
        let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
        Self { admin, name, url }
    }

    pub async fn drop(self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        self.admin.execute_unprepared(&sql).await.unwrap();
    }
}

#[tokio::test]
async fn ingest_dispatch_and_logs_work_on_postgres() {
    let db = TestDatabase::create().await;
    let app = spawn_app_with(Db::Url(db.url.clone()), tempfile::tempdir().unwrap()).await;
    for _ in 0..2 {
        assert_eq!(app.post_event("pg-1", "t.quick", serde_json::json!({"db": "pg"})).await.status(), 202);
    }
    let runs = app.executions_of("pg-1", 1).await;
    assert_eq!(runs[0].status, "succeeded");
    let log = app.log(&runs[0].id).await;
    assert!(log.contains(&r#"params={"db":"pg"}"#.to_owned()), "{log:?}");
    app.stop().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishers_on_postgres_lose_nothing() {
    use backend::bus::{Bus, EmbeddedBus};
    use cloudevents::{AttributesReader, EventBuilder, EventBuilderV10};

    let db = TestDatabase::create().await;
    let store = backend::store::Store::connect(&db.url).await.unwrap();
    let bus = EmbeddedBus::new(&store);

    let mut consumer = bus.subscribe("g").await.unwrap();
    let reader = tokio::spawn(async move {
        let mut seen = std::collections::BTreeSet::new();
        while seen.len() < 200 {
            let delivery = consumer.next().await.unwrap();
            seen.insert(delivery.event.unwrap().id().to_owned());
        }
        seen
    });
    let publishers: Vec<_> = (0..8)
        .map(|p| {
            let bus = bus.clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    let event = EventBuilderV10::new().id(format!("{p}-{i}")).source("/t").ty("t").build().unwrap();
                    bus.publish(&event).await.unwrap();
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.await.unwrap();
    }
    let seen =
        tokio::time::timeout(std::time::Duration::from_secs(20), reader).await.expect("every event arrives").unwrap();
    assert_eq!(seen.len(), 200);
    drop(bus);
    drop(store);
    db.drop().await;
}

/// Thousands of requests abandoned by their clients mid-flight (a 1–3 ms client timeout) under load leave no
/// transaction behind: afterwards no connection sits idle in a transaction, health answers, an event is
/// dispatched, and a stop drains within seconds.
#[tokio::test]
async fn requests_abandoned_mid_flight_leave_nothing_behind() {
    use sea_orm::{ConnectionTrait, Statement};
    let db = TestDatabase::create().await;
    let app = spawn_app_with(Db::Url(db.url.clone()), tempfile::tempdir().unwrap()).await;
    let abandoned = crate::helpers::abandon_requests(&app.base, 2000).await;
    assert!(abandoned > 100, "the test must abandon many requests (abandoned {abandoned} of 2000)");

    let idle = format!(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{}' AND state = 'idle in transaction'",
        db.name
    );
    crate::helpers::wait_until(|| async {
        let row = db.admin.query_one_raw(Statement::from_string(db.admin.get_database_backend(), idle.clone()));
        let n: i64 = row.await.unwrap().unwrap().try_get("", "n").unwrap();
        (n == 0).then_some(())
    })
    .await;
    assert_eq!(app.client.get(app.url("/health")).send().await.unwrap().status(), 200);
    assert_eq!(app.post_event("after-abandoned", "t.quick", serde_json::json!({})).await.status(), 202);
    assert_eq!(app.executions_of("after-abandoned", 1).await[0].status, "succeeded");
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(20), app.stop()).await;
    assert!(stopped.is_ok(), "k8x stops cleanly after the abandoned requests");
    db.drop().await;
}

/// A dispatcher that cannot get past an event (here the database keeps refusing it with a serialization failure,
/// which a retry may fix, so it is retried, not dead-lettered) shows on `/ready` while ingest still answers 202;
/// once the database takes it again, the line moves and `/ready` says so.
#[tokio::test]
async fn a_stuck_dispatcher_shows_on_ready_and_recovers_by_itself() {
    let db = TestDatabase::create().await;
    let app = spawn_app_with(Db::Url(db.url.clone()), tempfile::tempdir().unwrap()).await;
    let k8x_db = Database::connect(db.url.clone()).await.unwrap();
    k8x_db
        .execute_unprepared(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'not now' USING ERRCODE = '40001'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse();",
        )
        .await
        .unwrap();
    assert_eq!(app.post_event("stuck-1", "t.quick", serde_json::json!({})).await.status(), 202);
    let reason = crate::helpers::wait_until(|| async {
        let ready = app.anonymous.get(app.url("/ready")).send().await.unwrap();
        (ready.status() == 503).then_some(())?;
        Some(ready.text().await.unwrap())
    })
    .await;
    assert!(reason.contains("stuck") && reason.contains("not now"), "{reason}");
    assert_eq!(app.client.get(app.url("/health")).send().await.unwrap().status(), 200, "health only asks the db");
    k8x_db.execute_unprepared("DROP TRIGGER refuse ON events").await.unwrap();
    assert_eq!(app.executions_of("stuck-1", 1).await[0].status, "succeeded", "the line moved by itself");
    let ready = app.anonymous.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    drop(k8x_db);
    drop(app);
    db.drop().await;
}

#[tokio::test]
async fn new_log_lines_are_announced_to_followers_in_other_processes() {
    use backend::store::{NewLogLine, Store};
    let db = TestDatabase::create().await;
    let (writer, follower) = (Store::connect(&db.url).await.unwrap(), Store::connect(&db.url).await.unwrap());
    let mut updates = follower.execution_updates();
    // The follower listens on a connection of its own; give it a moment to have issued LISTEN.
    let line = |seq| NewLogLine { seq, stream: "stdout", text: "hello".into(), at: chrono::Utc::now(), source: None };
    let mut seq = 0;
    let heard = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            seq += 1;
            writer.append_log("exec-elsewhere", &[line(seq)]).await.unwrap();
            match tokio::time::timeout(std::time::Duration::from_millis(500), updates.recv()).await {
                Ok(Ok(id)) => return id,
                _ => continue,
            }
        }
    })
    .await
    .expect("the other process's lines were announced");
    assert_eq!(&*heard, "exec-elsewhere");
    drop((writer, follower));
    db.drop().await;
}

//! The same path on PostgreSQL (127.0.0.1:5432 here; `K8X_TEST_POSTGRES_URL` points elsewhere), in a
//! database made for the test and dropped after it.

use sea_orm::{ConnectionTrait, Database};

use crate::helpers::{spawn_app_with, Db};

fn admin_url() -> String {
    std::env::var("K8X_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

#[tokio::test]
async fn ingest_dispatch_and_logs_work_on_postgres() {
    let admin = Database::connect(admin_url()).await.expect("PostgreSQL must be running for the test suite");
    let name = format!("k8x_test_{}", uuid::Uuid::new_v4().simple());
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let url = format!("{}/{name}", admin_url().rsplit_once('/').unwrap().0);

    let app = spawn_app_with(Db::Url(url), tempfile::tempdir().unwrap()).await;
    for _ in 0..2 {
        assert_eq!(app.post_event("pg-1", "t.quick", serde_json::json!({"db": "pg"})).await.status(), 202);
    }
    let runs = app.executions_of("pg-1", 1).await;
    assert_eq!(runs[0].status, "succeeded");
    let log = app.log(&runs[0].id).await;
    assert!(log.contains(&r#"params={"db":"pg"}"#.to_owned()), "{log:?}");
    app.stop().await;

    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
}

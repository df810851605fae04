use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use super::*;

/// Stores numbers; the table refuses negative ones. Counts commits.
struct Numbers(Arc<AtomicUsize>);

#[async_trait]
impl Batch for Numbers {
    type Job = i64;
    type Done = i64;
    const LIMIT: usize = 1_000;

    fn weight(_: &i64) -> usize {
        1
    }

    async fn write(&self, txn: &DatabaseTransaction, jobs: &[i64]) -> Result<Vec<i64>, DbErr> {
        for n in jobs {
            let insert =
                Statement::from_sql_and_values(DbBackend::Sqlite, "INSERT INTO numbers (n) VALUES (?)", [(*n).into()]);
            txn.execute_raw(insert).await?;
        }
        Ok(jobs.iter().map(|n| n * 2).collect())
    }

    fn committed(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

async fn database() -> (tempfile::TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(format!("sqlite://{}?mode=rwc", dir.path().join("n.db").display())).await.unwrap();
    db.execute_unprepared("CREATE TABLE numbers (n INTEGER PRIMARY KEY CHECK (n >= 0))").await.unwrap();
    (dir, db)
}

async fn stored(db: &DatabaseConnection) -> Vec<i64> {
    let rows =
        db.query_all_raw(Statement::from_string(DbBackend::Sqlite, "SELECT n FROM numbers ORDER BY n")).await.unwrap();
    rows.iter().map(|row| row.try_get::<i64>("", "n").unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits_and_each_gets_its_own_answer() {
    let (_dir, db) = database().await;
    let commits = Arc::new(AtomicUsize::new(0));
    let writer = GroupCommit::start(db.clone(), Numbers(commits.clone()));
    let calls: Vec<_> = (0..400)
        .map(|n| {
            tokio::spawn({
                let writer = writer.clone();
                async move { writer.write(n).await }
            })
        })
        .collect();
    for (n, call) in calls.into_iter().enumerate() {
        assert_eq!(call.await.unwrap().unwrap(), 2 * n as i64, "each caller hears its own job's answer");
    }
    assert_eq!(stored(&db).await, (0..400).collect::<Vec<_>>());
    let commits = commits.load(Ordering::SeqCst);
    assert!(commits < 200, "400 concurrent writes took {commits} commits; they were not grouped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_job_fails_alone_and_its_neighbours_are_stored() {
    let (_dir, db) = database().await;
    let writer = GroupCommit::start(db.clone(), Numbers(Arc::new(AtomicUsize::new(0))));
    // Jobs queued together end up in one batch; the negative one and the duplicate are refused by the table.
    let jobs = [1, 2, -3, 4, 2, 5];
    let calls: Vec<_> = jobs
        .iter()
        .map(|&n| {
            tokio::spawn({
                let writer = writer.clone();
                async move { writer.write(n).await }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.unwrap());
    }
    let refused: Vec<_> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
    assert_eq!(refused.len(), 2, "the negative number and one of the two 2s fail: {answers:?}");
    assert!(refused.iter().all(|err| err.to_string().contains("constraint")), "the database's own reason: {refused:?}");
    assert!(answers[2].is_err(), "the negative number is refused");
    assert_eq!(stored(&db).await, vec![1, 2, 4, 5], "everything else is stored, once");
}

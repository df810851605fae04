use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use super::*;

/// Stores numbers; the table refuses negative ones. Counts commits, and notes how many jobs each write took.
struct Numbers(Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<usize>>>);

impl Numbers {
    fn new(commits: &Arc<AtomicUsize>) -> Self {
        Self(commits.clone(), Arc::default())
    }
}

#[async_trait]
impl Batch for Numbers {
    type Job = i64;
    type Done = i64;
    const LIMIT: usize = 1_000;

    fn weight(_: &i64) -> usize {
        1
    }

    async fn write(&self, txn: &DatabaseTransaction, jobs: &[i64]) -> Result<Vec<i64>, DbErr> {
        self.1.lock().unwrap().push(jobs.len());
        if jobs.contains(&666) {
            panic!("the number of the beast");
        }
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
    let writer = GroupCommit::start(db.clone(), Numbers::new(&commits));
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

/// On a current-thread runtime the jobs spawned together are all queued before the writer runs: one batch.
#[tokio::test]
async fn a_refused_or_panicking_job_fails_alone_and_its_neighbours_are_stored() {
    let (_dir, db) = database().await;
    let commits = Arc::new(AtomicUsize::new(0));
    let numbers = Numbers::new(&commits);
    let writes = numbers.1.clone();
    let writer = GroupCommit::start(db.clone(), numbers);
    // The negative number and the second 2 are refused by the table; 666 makes the writer panic.
    let jobs = [1, 2, -3, 4, 2, 666, 5];
    let calls: Vec<_> = jobs
        .iter()
        .map(|&n| {
            let writer = writer.clone();
            tokio::spawn(async move { writer.write(n).await })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.unwrap());
    }
    assert_eq!(writes.lock().unwrap().first(), Some(&7), "the seven jobs were tried as one batch first");
    for (n, answer) in jobs.iter().zip(&answers) {
        match n {
            -3 => assert!(answer.as_ref().unwrap_err().to_string().contains("constraint"), "{answer:?}"),
            666 => assert!(answer.as_ref().unwrap_err().to_string().contains("panicked"), "{answer:?}"),
            _ => {}
        }
    }
    assert!(answers[1].is_ok() && answers[4].is_err(), "the first 2 is stored, the second refused: {answers:?}");
    for i in [0, 1, 3, 6] {
        assert_eq!(answers[i].as_ref().unwrap(), &(2 * jobs[i]), "each caller hears its own job's answer");
    }
    assert_eq!(stored(&db).await, vec![1, 2, 4, 5], "everything else is stored, once");
    assert_eq!(commits.load(Ordering::SeqCst), 4, "each good job committed alone after the batch failed");
    // The writer lives on after the panic.
    assert_eq!(writer.write(7).await.unwrap(), 14);
}

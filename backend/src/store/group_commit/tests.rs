use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use super::*;

/// Stores numbers; the table refuses negative ones. Counts commits, and notes how many jobs each write took;
/// with its third field set, its after-commit hook panics (once it has counted).
struct Numbers(Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<usize>>>, bool);

impl Numbers {
    fn new(commits: &Arc<AtomicUsize>) -> Self {
        Self(commits.clone(), Arc::default(), false)
    }
}

#[async_trait]
impl Batch for Numbers {
    type Job = i64;
    type Done = i64;
    const LIMIT: usize = 1_000;
    const RANK: u8 = 0;

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
        if self.2 {
            panic!("an after-commit hook's bug");
        }
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
    let writer = GroupCommit::on(Writer::start(db.clone()), Numbers::new(&commits));
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
    let writer = GroupCommit::on(Writer::start(db.clone()), numbers);
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

/// Stores words, after numbers in a shared transaction; the table refuses empty ones. Notes each write in its
/// log, with how many writes of numbers came before.
struct Words(Arc<std::sync::Mutex<Vec<String>>>, Arc<std::sync::Mutex<Vec<usize>>>);

#[async_trait]
impl Batch for Words {
    type Job = String;
    type Done = usize;
    const LIMIT: usize = 1_000;
    const RANK: u8 = 1;

    fn weight(_: &String) -> usize {
        1
    }

    async fn write(&self, txn: &DatabaseTransaction, jobs: &[String]) -> Result<Vec<usize>, DbErr> {
        let numbers = self.1.lock().unwrap().len();
        self.0.lock().unwrap().push(format!("{} words after {numbers} numbers", jobs.len()));
        for word in jobs {
            let insert = Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO words (w) VALUES (?)",
                [word.as_str().into()],
            );
            txn.execute_raw(insert).await?;
        }
        Ok(jobs.iter().map(String::len).collect())
    }
}

/// On a current-thread runtime the jobs spawned together are all queued before the writer runs: one cycle.
#[tokio::test]
async fn kinds_share_a_transaction_in_rank_order_and_a_refused_job_fails_alone_without_splitting_the_other_kinds() {
    let (_dir, db) = database().await;
    db.execute_unprepared("CREATE TABLE words (w TEXT PRIMARY KEY CHECK (w <> ''))").await.unwrap();
    let writer = Writer::start(db.clone());
    let commits = Arc::new(AtomicUsize::new(0));
    let numbers = Numbers::new(&commits);
    let number_writes = numbers.1.clone();
    let numbers = GroupCommit::on(writer.clone(), numbers);
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let words = GroupCommit::on(writer.clone(), Words(log.clone(), number_writes.clone()));
    // Words are queued first; numbers (rank 0) are still written first.
    let said: Vec<_> = ["one", "", "three"]
        .into_iter()
        .map(|w| {
            let words = words.clone();
            tokio::spawn(async move { words.write(w.to_owned()).await })
        })
        .collect();
    let counted: Vec<_> = [10, 20]
        .into_iter()
        .map(|n| {
            let numbers = numbers.clone();
            tokio::spawn(async move { numbers.write(n).await })
        })
        .collect();
    let mut answers = Vec::new();
    for call in said {
        answers.push(call.await.unwrap());
    }
    for (call, n) in counted.into_iter().zip([10, 20]) {
        assert_eq!(call.await.unwrap().unwrap(), 2 * n);
    }
    assert_eq!(answers[0].as_ref().unwrap(), &3);
    assert!(answers[1].as_ref().unwrap_err().to_string().contains("constraint"), "{answers:?}");
    assert_eq!(answers[2].as_ref().unwrap(), &5);
    assert_eq!(number_writes.lock().unwrap().first(), Some(&2), "both numbers in one batch");
    assert_eq!(
        log.lock().unwrap().first().map(String::as_str),
        Some("3 words after 1 numbers"),
        "the three words in one batch, after the numbers' batch"
    );
    assert_eq!(stored(&db).await, vec![10, 20]);
    let rows = db.query_all_raw(Statement::from_string(DbBackend::Sqlite, "SELECT w FROM words ORDER BY w")).await;
    let words: Vec<String> = rows.unwrap().iter().map(|row| row.try_get("", "w").unwrap()).collect();
    assert_eq!(words, ["one", "three"], "the good words are stored, the empty one is not");
    // Then each lot alone: the numbers in one transaction; the words fail again, so each word alone.
    assert_eq!(
        commits.load(Ordering::SeqCst),
        1,
        "the numbers' lot committed on its own after the shared batch failed"
    );
    assert_eq!(
        log.lock().unwrap().iter().map(|w| w.split(' ').next().unwrap()).collect::<Vec<_>>(),
        ["3", "3", "1", "1", "1"],
        "the words together (shared), together (alone), then each alone"
    );
}

/// Two kinds in one cycle make one commit: each kind hears of it once.
#[tokio::test]
async fn two_kinds_in_one_cycle_commit_once() {
    let (_dir, db) = database().await;
    db.execute_unprepared("CREATE TABLE words (w TEXT PRIMARY KEY CHECK (w <> ''))").await.unwrap();
    let writer = Writer::start(db.clone());
    let commits = Arc::new(AtomicUsize::new(0));
    let numbers = Numbers::new(&commits);
    let number_writes = numbers.1.clone();
    let numbers = GroupCommit::on(writer.clone(), numbers);
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let words = GroupCommit::on(writer.clone(), Words(log.clone(), number_writes));
    let a = tokio::spawn({
        let numbers = numbers.clone();
        async move { numbers.write(1).await }
    });
    let b = tokio::spawn(async move { words.write("a".into()).await });
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();
    assert_eq!(commits.load(Ordering::SeqCst), 1, "one commit for the number and the word");
    assert_eq!(*log.lock().unwrap(), ["1 words after 1 numbers"]);
    // A later write is a transaction of its own.
    numbers.write(2).await.unwrap();
    assert_eq!(commits.load(Ordering::SeqCst), 2);
}

/// Stores blobs of 8 KB (two pages each and more).
struct Blobs;

#[async_trait]
impl Batch for Blobs {
    type Job = i64;
    type Done = ();
    const LIMIT: usize = 1_000;
    const RANK: u8 = 0;

    fn weight(_: &i64) -> usize {
        1
    }

    async fn write(&self, txn: &DatabaseTransaction, jobs: &[i64]) -> Result<Vec<()>, DbErr> {
        for n in jobs {
            let insert = Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO blobs (n, b) VALUES (?, randomblob(8192))",
                [(*n).into()],
            );
            txn.execute_raw(insert).await?;
        }
        Ok(vec![(); jobs.len()])
    }
}

/// SQLite leaves committed pages in the write-ahead log until a checkpoint copies them into the database file;
/// its own would come at 1,000 pages. The writer's checkpointer copies them after each commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_reach_the_database_file_after_commits_without_waiting_for_the_log_to_fill() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.db");
    let db = Database::connect(format!("sqlite://{}?mode=rwc", file.display())).await.unwrap();
    db.execute_unprepared("PRAGMA journal_mode = WAL").await.unwrap();
    db.execute_unprepared("CREATE TABLE blobs (n INTEGER PRIMARY KEY, b BLOB)").await.unwrap();
    db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
    let before = std::fs::metadata(&file).unwrap().len();
    let blobs = GroupCommit::on(Writer::start(db.clone()), Blobs);
    for n in 0..20 {
        blobs.write(n).await.unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut size = before;
    while size < before + 20 * 8192 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        size = std::fs::metadata(&file).unwrap().len();
    }
    assert!(size >= before + 20 * 8192, "the database file grew from {before} to only {size} bytes");
}

/// Two handles of one kind (say two buses on one store) are two batches: each writes and hears of its own jobs.
#[tokio::test]
async fn two_handles_of_one_kind_write_their_own_jobs() {
    let (_dir, db) = database().await;
    db.execute_unprepared("CREATE TABLE words (w TEXT PRIMARY KEY CHECK (w <> ''))").await.unwrap();
    let writer = Writer::start(db.clone());
    let numbers = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (first_log, second_log) =
        (Arc::new(std::sync::Mutex::new(Vec::new())), Arc::new(std::sync::Mutex::new(Vec::new())));
    let first = GroupCommit::on(writer.clone(), Words(first_log.clone(), numbers.clone()));
    let second = GroupCommit::on(writer.clone(), Words(second_log.clone(), numbers));
    let a = tokio::spawn(async move { first.write("a".into()).await });
    let b = tokio::spawn(async move { second.write("bb".into()).await });
    assert_eq!(a.await.unwrap().unwrap(), 1);
    assert_eq!(b.await.unwrap().unwrap(), 2);
    assert_eq!(*first_log.lock().unwrap(), ["1 words after 0 numbers"]);
    assert_eq!(*second_log.lock().unwrap(), ["1 words after 0 numbers"]);
}

#[tokio::test]
async fn a_panicking_after_commit_hook_leaves_the_writer_running() {
    let (_dir, db) = database().await;
    let commits = Arc::new(AtomicUsize::new(0));
    let writer = GroupCommit::on(Writer::start(db.clone()), Numbers(commits.clone(), Arc::default(), true));
    assert_eq!(writer.write(1).await.unwrap(), 2);
    assert_eq!(writer.write(2).await.unwrap(), 4, "the writer still writes after the hook panicked");
    assert_eq!(stored(&db).await, vec![1, 2]);
    assert_eq!(commits.load(Ordering::SeqCst), 2);
}

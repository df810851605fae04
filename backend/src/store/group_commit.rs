//! Group commit: writes that many tasks make at once go through one writer task, which stores whatever has
//! queued up meanwhile in one transaction (one commit, one fsync, for many callers) and answers each caller once
//! that transaction has committed. Durability is unchanged — nobody hears "stored" before the commit — but a busy
//! k8x pays one commit per batch instead of one per write, and SQLite's single writer stops being the queue
//! everything waits in.
//!
//! The writer uses one connection at a time, so however many callers wait, the rest of k8x still finds
//! connections free.
//!
//! A batch the database refuses (a constraint, a value it cannot store; or a panic while writing it) is written
//! again one job per transaction, so the bad job fails alone and its neighbours are stored; each caller gets its
//! own job's error. A batch that failed for a reason a retry may fix (the database unreachable, busy, a commit
//! whose fate is unknown) is not written again here: every caller hears that error, as a transient one, and
//! retries as it would anyway. A caller that goes away drops only its wait: its job is written or fails as a
//! whole, never half-way.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, TransactionTrait};
use tokio::sync::{mpsc, oneshot, Mutex, MutexGuard};

/// What one kind of grouped write stores for a batch of jobs.
#[async_trait]
pub trait Batch: Send + Sync + 'static {
    /// One caller's write.
    type Job: Send + Sync + 'static;
    /// What the caller gets back once it is committed.
    type Done: Send + 'static;

    /// How much of a batch `job` takes (rows, say); a batch stops growing at [`Batch::LIMIT`].
    fn weight(job: &Self::Job) -> usize;

    /// The most weight one transaction takes (a single heavier job is written alone).
    const LIMIT: usize;

    /// Writes `jobs` inside `txn`; one answer per job, in order.
    async fn write(&self, txn: &DatabaseTransaction, jobs: &[Self::Job]) -> Result<Vec<Self::Done>, DbErr>;

    /// Runs after each commit (wakes whoever reads what was written).
    fn committed(&self) {}
}

/// How many jobs may wait for the writer before callers wait to queue.
const QUEUE: usize = 8_192;

/// One caller's job and where to answer.
struct Pending<B: Batch> {
    job: B::Job,
    done: oneshot::Sender<Result<B::Done, DbErr>>,
}

/// The handle callers use; the writer task runs until every handle is gone.
pub struct GroupCommit<B: Batch> {
    queue: mpsc::Sender<Pending<B>>,
}

impl<B: Batch> Clone for GroupCommit<B> {
    fn clone(&self) -> Self {
        Self { queue: self.queue.clone() }
    }
}

impl<B: Batch> std::fmt::Debug for GroupCommit<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").field("waiting", &(QUEUE - self.queue.capacity())).finish()
    }
}

impl<B: Batch> GroupCommit<B> {
    /// Starts the writer of `batch` on `db`. Needs a Tokio runtime.
    pub fn start(db: DatabaseConnection, batch: B) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(writer(db, Arc::new(batch), waiting));
        Self { queue }
    }

    /// Writes `job` in a transaction (with whatever else is waiting); returns once it has committed.
    pub async fn write(&self, job: B::Job) -> Result<B::Done, DbErr> {
        let stopped = || passing("the database writer has stopped");
        let (done, answer) = oneshot::channel();
        self.queue.send(Pending { job, done }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writer: takes the first waiting job, waits for its turn to write, then takes everything else queued by
/// then (up to [`Batch::LIMIT`]: what arrived during the wait rides along instead of waiting for a turn of its
/// own), stores them in one transaction and answers each.
async fn writer<B: Batch>(db: DatabaseConnection, batch: Arc<B>, mut waiting: mpsc::Receiver<Pending<B>>) {
    while let Some(first) = waiting.recv().await {
        let turn = lane(&db).await;
        let mut weight = B::weight(&first.job);
        let mut pending = vec![first];
        while weight < B::LIMIT {
            match waiting.try_recv() {
                Ok(next) => {
                    weight += B::weight(&next.job);
                    pending.push(next);
                }
                Err(_) => break,
            }
        }
        let (jobs, answers): (Vec<_>, Vec<_>) = pending.into_iter().map(|p| (p.job, p.done)).unzip();
        match in_one(&db, &*batch, &jobs).await {
            Ok(done) => {
                drop(turn);
                // Callers hear first (an HTTP caller gets its answer sooner), then whoever acts on the writes.
                for (answer, done) in answers.into_iter().zip(done) {
                    let _ = answer.send(Ok(done));
                }
                batch.committed();
            }
            Err(err) if jobs.len() == 1 => {
                let _ = answers.into_iter().next().map(|answer| answer.send(Err(err)));
            }
            Err(err) if super::is_transient(&err) => {
                tracing::warn!(%err, jobs = jobs.len(), "a grouped write failed for a passing reason");
                for answer in answers {
                    let _ = answer.send(Err(passing(&err.to_string())));
                }
            }
            Err(err) => {
                tracing::warn!(%err, jobs = jobs.len(), "a grouped write failed; writing its jobs one by one");
                drop(turn);
                for (job, answer) in jobs.iter().zip(answers) {
                    // A turn for each: the bus's lease renewals and offset commits go on between them.
                    let turn = lane(&db).await;
                    let alone = in_one(&db, &*batch, std::slice::from_ref(job)).await;
                    drop(turn);
                    if alone.is_ok() {
                        batch.committed();
                    }
                    let _ = answer.send(alone.and_then(|mut done| done.pop().ok_or_else(no_answer)));
                }
            }
        }
    }
}

/// The SQLite write lane (see [`lane`]).
static SQLITE_LANE: LazyLock<Mutex<()>> = LazyLock::new(Mutex::default);

/// Waits for this process's turn to write, on SQLite. SQLite lets one connection write at a time, and a
/// connection that finds another writing sleeps in SQLite's busy handler — 1, 2, 5, 10, … up to 100 ms at a time,
/// next to a commit's millisecond — so k8x's frequent writers (the group-commit writers, the bus's offset
/// commits) take turns here instead, woken the moment the previous one is done. PostgreSQL needs no lane.
pub async fn lane(db: &impl ConnectionTrait) -> Option<MutexGuard<'static, ()>> {
    match db.get_database_backend() {
        DbBackend::Sqlite => Some(SQLITE_LANE.lock().await),
        _ => None,
    }
}

/// `jobs` written in one transaction: an answer for each, or nothing stored. A panic while writing is an error
/// of the batch (the writer goes on).
async fn in_one<B: Batch>(db: &DatabaseConnection, batch: &B, jobs: &[B::Job]) -> Result<Vec<B::Done>, DbErr> {
    use futures::FutureExt;
    std::panic::AssertUnwindSafe(try_in_one(db, batch, jobs)).catch_unwind().await.unwrap_or_else(|panic| {
        let why =
            panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
        Err(DbErr::Custom(format!("writing a batch panicked: {}", why.unwrap_or_else(|| "unknown".into()))))
    })
}

/// (The caller holds the turn to write.)
async fn try_in_one<B: Batch>(db: &DatabaseConnection, batch: &B, jobs: &[B::Job]) -> Result<Vec<B::Done>, DbErr> {
    let txn = db.begin().await?;
    let done = batch.write(&txn, jobs).await?;
    if done.len() != jobs.len() {
        return Err(no_answer());
    }
    txn.commit().await?;
    Ok(done)
}

/// An error a retry may fix ([`super::is_transient`] says so).
fn passing(why: &str) -> DbErr {
    DbErr::Conn(sea_orm::RuntimeErr::Internal(why.to_owned()))
}

fn no_answer() -> DbErr {
    DbErr::Custom("a grouped write gave no answer for a job".into())
}

#[cfg(test)]
mod tests;

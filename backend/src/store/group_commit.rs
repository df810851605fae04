//! Group commit: writes that many tasks make at once go through one writer task per database, which stores
//! whatever has queued up meanwhile — of every kind: the bus's appends, the dispatcher's records — in one
//! transaction (one commit, one fsync, for many callers) and answers each caller once that transaction has
//! committed. Durability is unchanged — nobody hears "stored" before the commit — but a busy k8x pays one commit
//! per batch instead of one per write, and SQLite's single writer stops being the queue everything waits in.
//!
//! The writer uses one connection at a time (its checkpointer, on SQLite, borrows another now and then), so
//! however many callers wait, the rest of k8x still finds connections free.
//!
//! A batch the database refuses (a constraint, a value it cannot store; or a panic while writing it) is written
//! again one job per transaction, so the bad job fails alone and its neighbours are stored; each caller gets its
//! own job's error. A batch that failed for a reason a retry may fix (the database unreachable, busy, a commit
//! whose fate is unknown) is not written again here: every caller hears that error, as a transient one, and
//! retries as it would anyway. A caller that goes away drops only its wait: its job is written or fails as a
//! whole, never half-way.

mod checkpoint;
mod lot;

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, TransactionTrait};
use tokio::sync::{mpsc, oneshot, Mutex, MutexGuard};

use lot::{Lot, Typed};

/// What one kind of grouped write stores for a batch of jobs.
#[async_trait]
pub trait Batch: Send + Sync + 'static {
    /// One caller's write.
    type Job: Send + Sync + 'static;
    /// What the caller gets back once it is committed.
    type Done: Send + 'static;

    /// How much of a batch `job` takes (rows, say); a batch stops growing at [`Batch::LIMIT`].
    fn weight(job: &Self::Job) -> usize;

    /// The most weight one [`Batch::write`] call takes (a single heavier job is written alone).
    const LIMIT: usize;

    /// Where this kind's batch comes in a transaction shared with other kinds: lower first, so that every
    /// writer takes its locks in one order.
    const RANK: u8;

    /// Writes `jobs` inside `txn`; one answer per job, in order.
    async fn write(&self, txn: &DatabaseTransaction, jobs: &[Self::Job]) -> Result<Vec<Self::Done>, DbErr>;

    /// Runs after each commit that stored some of this kind's jobs (wakes whoever reads what was written).
    fn committed(&self) {}
}

/// How many jobs may wait for the writer before callers wait to queue.
const QUEUE: usize = 8_192;

/// A transaction stops gathering more jobs once their weight, of all kinds together, reaches this.
const CYCLE: usize = 4_000;

/// A database's writer: callers of every kind queue here; the writer task runs until every handle is gone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Box<dyn Lot>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("waiting", &(QUEUE - self.queue.capacity())).finish()
    }
}

impl Writer {
    /// Starts the writer on `db`. Needs a Tokio runtime.
    pub fn start(db: DatabaseConnection) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let wrote = checkpoint::Checkpointer::start(&db);
        tokio::spawn(writer(db, waiting, wrote));
        Self { queue }
    }
}

/// The handle callers of one kind use.
pub struct GroupCommit<B: Batch> {
    writer: Writer,
    batch: Arc<B>,
}

impl<B: Batch> Clone for GroupCommit<B> {
    fn clone(&self) -> Self {
        Self { writer: self.writer.clone(), batch: self.batch.clone() }
    }
}

impl<B: Batch> std::fmt::Debug for GroupCommit<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").field("writer", &self.writer).finish()
    }
}

impl<B: Batch> GroupCommit<B> {
    /// Writes of `batch`'s kind through `writer`.
    pub fn on(writer: Writer, batch: B) -> Self {
        Self { writer, batch: Arc::new(batch) }
    }

    /// Writes `job` in a transaction (with whatever else is waiting); returns once it has committed.
    pub async fn write(&self, job: B::Job) -> Result<B::Done, DbErr> {
        let stopped = || passing("the database writer has stopped");
        let (done, answer) = oneshot::channel();
        let lot = Typed::new(self.batch.clone(), job, done);
        self.writer.queue.send(Box::new(lot)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writer: takes the first waiting job, waits for its turn to write, then takes everything else queued by
/// then (up to [`CYCLE`]: what arrived during the wait rides along instead of waiting for a turn of its own),
/// stores it all in one transaction, one batch per kind (up to its [`Batch::LIMIT`]), and answers each caller.
async fn writer(db: DatabaseConnection, mut waiting: mpsc::Receiver<Box<dyn Lot>>, wrote: checkpoint::Checkpointer) {
    while let Some(first) = waiting.recv().await {
        let turn = lane(&db).await;
        let mut weight = first.weight();
        let mut lots = vec![first];
        while weight < CYCLE {
            let Ok(next) = waiting.try_recv() else { break };
            weight += next.weight();
            lot::gather(&mut lots, next);
        }
        lots.sort_by_key(|lot| lot.rank());
        let jobs: usize = lots.iter().map(|lot| lot.jobs()).sum();
        match in_one(&db, &mut lots).await {
            Ok(()) => {
                drop(turn);
                wrote.wrote();
                // Callers hear first (an HTTP caller gets its answer sooner), then whoever acts on the writes.
                lots.into_iter().for_each(|lot| lot.answer());
            }
            // One job, so one lot: its caller hears the error itself.
            Err(err) if jobs == 1 => {
                if let Some(lot) = lots.pop() {
                    fail_alone(lot, err);
                }
            }
            Err(err) if super::is_transient(&err) => {
                tracing::warn!(%err, jobs, "a grouped write failed for a passing reason");
                lots.into_iter().for_each(|lot| lot.fail(&mut || passing(&err.to_string())));
            }
            Err(err) => {
                tracing::warn!(%err, jobs, "a grouped write failed; writing its lots, then the failing lot's jobs, alone");
                drop(turn);
                // Each lot alone first (a bad job of one kind does not make the others go one by one), then each
                // job of a lot that still fails.
                for lot in lots {
                    if let Some(failed) = alone(&db, lot).await {
                        for job in failed.split() {
                            alone(&db, job).await;
                        }
                    }
                }
            }
        }
    }
}

/// Writes `lot` in a transaction of its own, with a turn of its own (the bus's lease renewals and offset commits
/// go on between such turns), and answers it; gives it back if it failed and has several jobs, to be split. A
/// single job's failure is its caller's answer.
async fn alone(db: &DatabaseConnection, lot: Box<dyn Lot>) -> Option<Box<dyn Lot>> {
    let turn = lane(db).await;
    let mut lots = vec![lot];
    let written = in_one(db, &mut lots).await;
    drop(turn);
    let lot = lots.pop()?;
    match written {
        Ok(()) => lot.answer(),
        Err(_) if lot.jobs() > 1 => return Some(lot),
        Err(err) => fail_alone(lot, err),
    }
    None
}

/// Gives the one caller of `lot` the error its job met.
fn fail_alone(lot: Box<dyn Lot>, err: DbErr) {
    let mut err = Some(err);
    lot.fail(&mut || err.take().unwrap_or_else(no_answer));
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

/// `lots` written in one transaction: an answer for each job, or nothing stored. A panic while writing is an
/// error of the batch (the writer goes on).
async fn in_one(db: &DatabaseConnection, lots: &mut [Box<dyn Lot>]) -> Result<(), DbErr> {
    use futures::FutureExt;
    std::panic::AssertUnwindSafe(try_in_one(db, lots)).catch_unwind().await.unwrap_or_else(|panic| {
        Err(DbErr::Custom(format!("writing a batch panicked: {}", crate::panics::message(&*panic))))
    })
}

/// (The caller holds the turn to write.)
async fn try_in_one(db: &DatabaseConnection, lots: &mut [Box<dyn Lot>]) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    for lot in lots.iter_mut() {
        lot.write(&txn).await?;
    }
    txn.commit().await
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

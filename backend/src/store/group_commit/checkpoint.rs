//! Checkpoints beside the writer, on SQLite: after the grouped writer commits, this task copies the new pages
//! of the write-ahead log into the database (a passive checkpoint: it takes no write lock and waits for no
//! reader) on a pooled connection, fsync included. The commit that passes the log's size limit
//! ([`super::super::WAL_CHECKPOINT_PAGES`]) then has little left to copy before the log starts over, instead of
//! copying it all while every write waits behind it. Commits that come while a checkpoint runs are folded into
//! the next one. PostgreSQL needs none of it.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use tokio::sync::mpsc;

/// Tells the checkpointer of a commit; its task ends with the last handle.
pub(super) struct Checkpointer(Option<mpsc::Sender<()>>);

impl Checkpointer {
    /// Starts the task on `db` (SQLite only: on another database the handle does nothing). Needs a Tokio
    /// runtime.
    pub(super) fn start(db: &DatabaseConnection) -> Self {
        if db.get_database_backend() != DbBackend::Sqlite {
            return Self(None);
        }
        let (wrote, commits) = mpsc::channel(1);
        tokio::spawn(run(db.clone(), commits));
        Self(Some(wrote))
    }

    /// The writer committed: a checkpoint is due (one is enough for any number of commits meanwhile).
    pub(super) fn wrote(&self) {
        if let Some(wrote) = &self.0 {
            let _ = wrote.try_send(());
        }
    }
}

async fn run(db: DatabaseConnection, mut commits: mpsc::Receiver<()>) {
    while commits.recv().await.is_some() {
        if let Err(err) = db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await {
            // The commit that passes the limit checkpoints anyway: nothing is lost but time.
            tracing::debug!(%err, "a checkpoint beside the writer failed");
        }
    }
}

//! Which executions have changed — new log lines, an ending — for whoever follows one live (the log stream of
//! the UI): a broadcast within this process, and on PostgreSQL a `NOTIFY` on [`CHANNEL`] that every k8x
//! process listening there passes on to its own followers. Followers still look now and then by themselves
//! (SQLite has no notifications between processes), but they no longer poll the database to see lines at once.

use std::{sync::Arc, time::Duration};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::sync::broadcast;

use super::Store;

/// The PostgreSQL notification channel; the payload is the execution id.
pub const CHANNEL: &str = "k8x_executions";
/// How many announcements a slow follower may fall behind by (it then just looks again).
pub(super) const BACKLOG: usize = 1024;

impl Store {
    /// Announcements of executions that changed (their ids), from now on. The first call on PostgreSQL starts
    /// listening to the other processes' notifications (a connection of its own, held from then on).
    pub fn execution_updates(&self) -> broadcast::Receiver<Arc<str>> {
        self.signals.listening.call_once(|| listen(&self.db, self.signals.updates.clone()));
        self.signals.updates.subscribe()
    }

    /// Tells followers, here and (on PostgreSQL) in every process, that `execution_id` changed. A failed
    /// notification only delays followers elsewhere until they look by themselves: it is logged, not returned.
    pub(super) async fn announce(&self, execution_id: &str) {
        let _ = self.signals.updates.send(Arc::from(execution_id));
        if self.db.get_database_backend() == DbBackend::Postgres {
            let notify = Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), execution_id.into()],
            );
            if let Err(err) = self.db.execute_raw(notify).await {
                tracing::warn!(%err, "could not announce an execution's update to other processes");
            }
        }
    }
}

/// On PostgreSQL, passes on the announcements of every process to this process's followers, for as long as
/// the runtime runs (reconnecting after a lost connection).
fn listen(db: &DatabaseConnection, updates: broadcast::Sender<Arc<str>>) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let pool = db.get_postgres_connection_pool().clone();
    tokio::spawn(async move {
        loop {
            let listened = async {
                let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await?;
                listener.listen(CHANNEL).await?;
                loop {
                    let notification = listener.recv().await?;
                    let _ = updates.send(Arc::from(notification.payload()));
                }
                #[allow(unreachable_code)]
                Ok::<(), sea_orm::sqlx::Error>(())
            };
            if let Err(err) = listened.await {
                tracing::warn!(%err, "listening for execution updates failed; trying again");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

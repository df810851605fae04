//! The store: every table k8x keeps, through sea-orm, on SQLite (embedded default) or PostgreSQL.
//!
//! One file per table family adds its queries to [`Store`]; callers never build SQL themselves.

mod audit;
pub mod cipher;
mod credentials;
mod dead_letters;
mod endings;
pub mod entities;
mod events;
mod executions;
pub mod group_commit;
mod logs;
mod outbox;
mod projects;
mod schedules;
mod scoped;
mod services;
mod sessions;
mod settings;
mod sources;
mod tokens;
mod transient;
pub mod updates;
mod users;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

pub use crate::outcome::Ending;
pub use audit::AuditRecord;
pub use cipher::{CipherError, SecretCipher};
pub use credentials::TokenOwner;
pub use dead_letters::NewDeadLetter;
pub use endings::Settled;
pub use executions::{Cap, ExecutionFilter, NewExecution};
pub use logs::{LogCursor, NewLogLine};
pub use projects::{Finished, ServiceChanges, SyncEnd};
pub use scoped::{Scope, ValueKind};
pub use services::{CatalogFingerprint, ServiceListing};
pub use sources::WebhookShape;
pub use tokens::NewToken;
pub use transient::is_transient;
pub use users::Guarded;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("could not prepare the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("stored {what} is corrupt: {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error("the secrets of {owner} cannot be read: {source}")]
    Sealed { owner: String, source: CipherError },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How many pages SQLite's write-ahead log grows to before the commit that passes it copies what is left of them
/// into the database (SQLite's default is 1,000) and the log starts over. That copy happens inside the commit, so
/// every write queued behind it waits: 1,000 pages (4 MB) stalled the bus and the dispatcher for 10–20 ms every
/// second or two at 1,000 events/s, and made most of the launch delay's p99. The grouped writer's checkpointer
/// (`group_commit::checkpoint`) copies pages beside the writer as they come, so the commit finds little left.
pub(crate) const WAL_CHECKPOINT_PAGES: u32 = 100;

/// A handle on the database; cheap to clone (the connection is a pool).
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// Seals service secrets before they are written and opens them when read. Without one (tests of other
    /// parts), secrets are stored as given.
    cipher: Option<SecretCipher>,
    /// Wake-ups between writers and the tasks that act on what they wrote, within this process.
    signals: std::sync::Arc<Signals>,
}

/// In-process wake-ups; other processes find the same rows by looking on their own now and then.
#[derive(Debug)]
struct Signals {
    /// An ending was recorded: its completion event waits in the outbox.
    outbox: tokio::sync::Notify,
    /// An execution was queued again, or a slot may have freed.
    queue: tokio::sync::Notify,
    /// Executions with new log lines or a new state ([`updates`]).
    updates: tokio::sync::broadcast::Sender<std::sync::Arc<str>>,
    /// Counts this process's changes to the stored services (the dispatcher's index rebuilds when it moves).
    catalog: std::sync::atomic::AtomicU64,
    /// Whether this process listens to other processes' announcements (PostgreSQL; from the first follower on).
    listening: std::sync::Once,
    /// API tokens and their owners, remembered for a moment.
    credentials: credentials::Credentials,
    /// The database's writer, which groups the writes of every kind into shared transactions (started when
    /// first asked for).
    writer: std::sync::OnceLock<group_commit::Writer>,
    /// On PostgreSQL, the embedded bus's own writer (see [`Store::bus_writer`]).
    bus_writer: std::sync::OnceLock<group_commit::Writer>,
    /// Its kind that records events with their executions.
    dispatches: std::sync::OnceLock<group_commit::GroupCommit<events::Dispatches>>,
}

impl Default for Signals {
    fn default() -> Self {
        let (updates, _) = tokio::sync::broadcast::channel(updates::BACKLOG);
        Self {
            outbox: Default::default(),
            queue: Default::default(),
            updates,
            catalog: Default::default(),
            listening: std::sync::Once::new(),
            credentials: Default::default(),
            writer: Default::default(),
            bus_writer: Default::default(),
            dispatches: Default::default(),
        }
    }
}

impl Store {
    /// Connects and brings the schema up to date. For SQLite, creates the file's directory first.
    pub async fn connect(url: &str) -> Result<Self> {
        if let Some(path) = sqlite_file(url) {
            if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|source| StoreError::DataDir { path: dir.display().to_string(), source })?;
            }
        }
        let mut options = ConnectOptions::new(url.to_owned());
        options.sqlx_logging(false).acquire_timeout(Duration::from_secs(10));
        if sqlite_file(url).is_some() {
            // SQLite allows one writer at a time (readers go on beside it, in WAL mode): a pool with a busy timeout
            // instead of "database is locked", large enough that readers (sign-ins, pages) need not queue behind
            // the writers (the bus's writer, the dispatcher, log writers).
            // A connection to a file cannot go stale the way a network one can: no ping (a round trip to its
            // worker thread) before each use.
            options.max_connections(8).test_before_acquire(false).map_sqlx_sqlite_opts(|o| {
                o.busy_timeout(Duration::from_secs(10))
                    .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .pragma("wal_autocheckpoint", WAL_CHECKPOINT_PAGES.to_string())
            });
        }
        if url.starts_with("postgres") {
            // A transaction left idle (its client gone) is ended by the server rather than holding its locks.
            options.map_sqlx_postgres_opts(|o| o.options([("idle_in_transaction_session_timeout", "60s")]));
        }
        let db = Database::connect(options).await?;
        migrate(&db).await?;
        Ok(Self { db, cipher: None, signals: Default::default() })
    }

    /// The same store, sealing secrets with `cipher` from now on.
    pub fn with_cipher(self, cipher: SecretCipher) -> Self {
        Self { cipher: Some(cipher), ..self }
    }

    /// `plain` sealed with the cipher (as it is without one).
    fn seal(&self, plain: &str) -> String {
        match &self.cipher {
            Some(cipher) => cipher.seal(plain),
            None => plain.to_owned(),
        }
    }

    /// `text` opened if it is sealed (text stored before sealing existed is read as it is); `owner` names what
    /// it belongs to in the error.
    fn open(&self, text: String, owner: impl FnOnce() -> String) -> Result<String> {
        if !SecretCipher::is_sealed(&text) {
            return Ok(text);
        }
        let opened = match &self.cipher {
            Some(cipher) => cipher.open(&text),
            None => Err(CipherError::WrongKey),
        };
        opened.map_err(|source| StoreError::Sealed { owner: owner(), source })
    }

    /// The connection, for the embedded bus which keeps its own tables.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The database's grouped writer. Needs a Tokio runtime.
    fn writer(&self) -> &group_commit::Writer {
        self.signals.writer.get_or_init(|| group_commit::Writer::start(self.db.clone()))
    }

    /// The writer of the embedded bus's appends. On SQLite, the database's writer: appends share its
    /// transactions with the dispatcher's records — one commit instead of two, one writer at a time anyway. On
    /// PostgreSQL, where writers run side by side, one of their own: a dispatch never waits for the lock that
    /// orders the publishers of every process. Needs a Tokio runtime.
    pub fn bus_writer(&self) -> &group_commit::Writer {
        match self.db.get_database_backend() {
            sea_orm::DbBackend::Sqlite => self.writer(),
            _ => self.signals.bus_writer.get_or_init(|| group_commit::Writer::start(self.db.clone())),
        }
    }
}

/// `column` contains `text`, ignoring case, `%` and `_` being plain characters. SQLite's `lower()` knows ASCII
/// letters only, so there the text is lowered the same way (then "Änderung" finds itself, though not
/// "änderung"); PostgreSQL lowers every letter.
fn contains_ignoring_case(
    backend: sea_orm::DbBackend,
    column: impl sea_orm::sea_query::IntoColumnRef,
    text: &str,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let lowered = match backend {
        sea_orm::DbBackend::Sqlite => text.to_ascii_lowercase(),
        _ => text.to_lowercase(),
    };
    let escaped = lowered.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// The PostgreSQL advisory lock key that lets one process at a time migrate ("k8xmig").
const MIGRATION_LOCK: i64 = 0x6b38_786d_6967;

/// Brings the schema up to date. Several processes starting on one PostgreSQL database take turns (an
/// advisory lock held in a transaction while the migrations run): the first migrates, the others find it done.
/// A schema already up to date (every start but the first) costs one read: the migrator's own path checks its
/// table's schema several times over, a third of k8x's start-up time.
async fn migrate(db: &DatabaseConnection) -> Result<()> {
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
    if Migrator::get_pending_migrations_read_only(db).await.is_ok_and(|pending| pending.is_empty()) {
        return Ok(());
    }
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(Migrator::up(db, None).await?);
    }
    let turn = db.begin().await?;
    // This transaction only holds the lock while the migrations run on other connections: exempt it from the
    // idle-in-transaction timeout, or a long migration would lose the lock half-way.
    turn.execute_unprepared("SET LOCAL idle_in_transaction_session_timeout = 0").await?;
    turn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")).await?;
    let migrated = Migrator::up(db, None).await;
    turn.commit().await?;
    Ok(migrated?)
}

/// The file path of a `sqlite://` URL, without its query string.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// `ON CONFLICT DO NOTHING` that did nothing is reported by some drivers as "record not inserted".
fn not_inserted_is_fine(err: DbErr) -> std::result::Result<u64, DbErr> {
    match err {
        DbErr::RecordNotInserted => Ok(0),
        other => Err(other),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_paths_are_found() {
        assert_eq!(super::sqlite_file("sqlite://data/k8x.db?mode=rwc"), Some("data/k8x.db"));
        assert_eq!(super::sqlite_file("sqlite::memory:"), None);
        assert_eq!(super::sqlite_file("postgres://localhost/k8x"), None);
    }

    /// `.cargo/config.toml` builds SQLite with `SQLITE_ENABLE_QPSG`: a statement with a bound LIMIT (every
    /// `.one()`) is compiled once, not again each time it is bound.
    #[tokio::test]
    async fn sqlite_is_built_with_a_stable_query_planner() {
        use sea_orm::{ConnectionTrait, Statement};
        let store = super::Store::connect("sqlite::memory:").await.unwrap();
        let sql = "SELECT count(*) FROM pragma_compile_options WHERE compile_options = 'ENABLE_QPSG'";
        let row = store.db.query_one_raw(Statement::from_string(store.db.get_database_backend(), sql)).await.unwrap();
        let found: i64 = row.unwrap().try_get_by_index(0).unwrap();
        assert_eq!(found, 1, "SQLite was built without ENABLE_QPSG (LIBSQLITE3_FLAGS in .cargo/config.toml)");
    }

    #[tokio::test]
    async fn every_sqlite_connection_checkpoints_its_log_early() {
        use sea_orm::{ConnectionTrait, Statement};
        let dir = tempfile::tempdir().unwrap();
        let store =
            super::Store::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("k8x.db").display())).await.unwrap();
        // More connections than one: the setting is each connection's own.
        let asks = (0..4).map(|_| {
            store.db.query_one_raw(Statement::from_string(store.db.get_database_backend(), "PRAGMA wal_autocheckpoint"))
        });
        for row in futures::future::try_join_all(asks).await.unwrap() {
            let pages: i64 = row.unwrap().try_get_by_index(0).unwrap();
            assert_eq!(pages, i64::from(super::WAL_CHECKPOINT_PAGES));
        }
    }
}

//! Whether a database error is one a retry may fix: the database could not be reached, or was busy, shutting
//! down, failing over or resolving a conflict. What the database refuses about the data itself (a NUL byte, a
//! constraint) fails the same way every time.

/// Connection trouble, timeouts and the SQLSTATE classes of a passing state: 08 (connection), 40 (rollback:
/// serialisation, deadlock), 53 (resources), 57 (operator intervention), 25006 (read-only after a failover);
/// SQLite's busy and locked. Data errors (22), constraint violations (23) and the rest are permanent.
pub fn is_transient(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{sqlx, DbErr, RuntimeErr};
    let sqlx = match err {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx.as_ref() {
        sqlx::Error::Io(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            ["08", "40", "53", "57"].iter().any(|class| code.starts_with(class))
                || code == "25006"
                // SQLite (numeric codes, never five characters like a SQLSTATE): SQLITE_BUSY (5) and
                // SQLITE_LOCKED (6), with their extended codes.
                || (code.len() < 5 && matches!(code.parse::<i32>().map(|c| c & 0xff), Ok(5 | 6)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_refused_value_is_permanent_and_trouble_reaching_the_database_is_not() {
        use sea_orm::DbErr;
        assert!(super::is_transient(&DbErr::Conn(sea_orm::RuntimeErr::Internal("down".into()))));
        assert!(!super::is_transient(&DbErr::Custom("bad row".into())));
        let io = sea_orm::sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let exec = DbErr::Exec(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(io)));
        assert!(super::is_transient(&exec), "a connection reset mid-query");
    }
}

//! Executions: created idempotently by the dispatcher, claimed and finished by an executor.

use chrono::{Duration, Utc};
use model::views::ExecutionStatus;
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    TransactionTrait,
};

use super::{entities::execution, Result, Store};

/// What the dispatcher knows when it creates an execution.
#[derive(Clone, Debug)]
pub struct NewExecution {
    pub id: String,
    pub event_key: String,
    pub event_id: String,
    pub event_type: String,
    pub service: String,
    pub project: String,
    pub params: serde_json::Value,
    /// The chain it belongs to (the correlation id of the outside event that started it).
    pub chain: String,
    /// Attempts allowed in all: 1 + the service's retries.
    pub max_attempts: i32,
    /// The first retry's delay.
    pub retry_backoff_seconds: i32,
    /// The revision of the service.
    pub revision: Option<String>,
}

impl NewExecution {
    /// The row of a new, queued execution.
    pub(super) fn row(self) -> execution::ActiveModel {
        execution::ActiveModel {
            id: Set(self.id.clone()),
            event_key: Set(self.event_key),
            event_id: Set(self.event_id),
            event_type: Set(self.event_type),
            service: Set(self.service),
            project: Set(self.project),
            status: Set(ExecutionStatus::Queued.as_str().to_owned()),
            exit_code: Set(None),
            error: Set(None),
            params: Set(self.params.to_string()),
            created_at: Set(Utc::now()),
            started_at: Set(None),
            finished_at: Set(None),
            executor: Set("local".to_owned()),
            job_name: Set(None),
            job_uid: Set(None),
            reason: Set(None),
            cancel_requested: Set(false),
            owner: Set(None),
            lease_until: Set(None),
            attempt: Set(1),
            not_before: Set(None),
            chain: Set(Some(self.chain)),
            max_attempts: Set(self.max_attempts.max(1)),
            retry_backoff_seconds: Set(self.retry_backoff_seconds.max(0)),
            revision: Set(self.revision),
        }
    }
}

/// The concurrency limit a claim must respect: `limit` is the service and its `max_concurrency`, if it has one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cap<'a> {
    pub limit: Option<(&'a str, u32)>,
}

impl<'a> Cap<'a> {
    pub fn of(service: &'a str, max_concurrency: Option<u32>) -> Self {
        Self { limit: max_concurrency.map(|max| (service, max)) }
    }
}

/// A queued execution whose retry delay (if any) has passed.
fn due() -> sea_orm::Condition {
    use execution::Column as C;
    sea_orm::Condition::any().add(C::NotBefore.is_null()).add(C::NotBefore.lte(Utc::now()))
}

/// Which executions a listing wants.
#[derive(Clone, Debug, Default)]
pub struct ExecutionFilter {
    pub service: Option<String>,
    pub status: Option<ExecutionStatus>,
    pub event_id: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

impl Store {
    /// Creates the execution unless it exists, and returns the stored row either way.
    pub async fn create_execution(&self, new: NewExecution) -> Result<execution::Model> {
        let id = new.id.clone();
        let row = new.row();
        execution::Entity::insert(row)
            .on_conflict(OnConflict::column(execution::Column::Id).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .or_else(super::not_inserted_is_fine)?;
        self.execution(&id).await?.ok_or_else(|| super::StoreError::Corrupt {
            what: "execution",
            detail: format!("{id} vanished right after it was created"),
        })
    }

    /// Moves a queued execution to running for the local executor of process `owner`, leased for `lease`,
    /// if its service has a free slot under `cap`. Exactly one caller wins: the one that gets `true` launches it.
    pub async fn claim_execution(&self, id: &str, owner: &str, lease: Duration, cap: Cap<'_>) -> Result<bool> {
        use execution::Column as C;
        let now = Utc::now();
        let update = execution::Entity::update_many()
            .col_expr(C::Status, Expr::value(ExecutionStatus::Running.as_str()))
            .col_expr(C::StartedAt, Expr::value(now))
            .col_expr(C::Executor, Expr::value("local"))
            .col_expr(C::Owner, Expr::value(owner))
            .col_expr(C::LeaseUntil, Expr::value(now + lease))
            .filter(C::Id.eq(id))
            .filter(C::Status.eq(ExecutionStatus::Queued.as_str()))
            .filter(C::CancelRequested.eq(false))
            .filter(due());
        self.claim_under(update, cap).await
    }

    /// Gives a queued execution to the Kubernetes executor of process `owner` as Job `job_name`, leased for
    /// `lease`, if its service has a free slot under `cap`. It stays queued until its pod runs. Exactly one
    /// caller wins; the winner creates the Job.
    pub async fn claim_for_job(
        &self,
        id: &str,
        job_name: &str,
        owner: &str,
        lease: Duration,
        cap: Cap<'_>,
    ) -> Result<bool> {
        use execution::Column as C;
        let update = execution::Entity::update_many()
            .col_expr(C::Executor, Expr::value("kubernetes"))
            .col_expr(C::JobName, Expr::value(job_name))
            .col_expr(C::Owner, Expr::value(owner))
            .col_expr(C::LeaseUntil, Expr::value(Utc::now() + lease))
            .filter(C::Id.eq(id))
            .filter(C::Status.eq(ExecutionStatus::Queued.as_str()))
            .filter(C::JobName.is_null())
            .filter(C::CancelRequested.eq(false))
            .filter(due());
        self.claim_under(update, cap).await
    }

    /// Runs a claim; under a cap, only while fewer than `max` executions of the service are active (running,
    /// or claimed for a Job), counted by the update itself. On PostgreSQL the claims of one service take
    /// turns (a transaction-scoped advisory lock), so two processes cannot both take the last slot; SQLite has
    /// one writer at a time anyway.
    async fn claim_under(&self, update: sea_orm::UpdateMany<execution::Entity>, cap: Cap<'_>) -> Result<bool> {
        let Some((service, max)) = cap.limit else {
            return Ok(update.exec(&self.db).await?.rows_affected == 1);
        };
        let active = format!(
            "(SELECT COUNT(*) FROM executions AS busy WHERE busy.service = executions.service AND \
             (busy.status = 'running' OR (busy.status = 'queued' AND busy.job_name IS NOT NULL))) < {max}"
        );
        let update = update.filter(Expr::cust(active));
        let txn = self.db.begin().await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            let lock = Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock(hashtext($1))",
                [format!("k8x-slots:{service}").into()],
            );
            txn.execute_raw(lock).await?;
        }
        let claimed = update.exec(&txn).await?.rows_affected == 1;
        txn.commit().await?;
        Ok(claimed)
    }

    /// How many executions of each service are active (running, or claimed for a Job): for the queue.
    pub async fn active_by_service(&self) -> Result<std::collections::HashMap<String, i64>> {
        use execution::Column as C;
        use sea_orm::Condition;
        let active = Condition::any()
            .add(C::Status.eq(ExecutionStatus::Running.as_str()))
            .add(Condition::all().add(C::Status.eq(ExecutionStatus::Queued.as_str())).add(C::JobName.is_not_null()));
        let rows: Vec<(String, i64)> = execution::Entity::find()
            .select_only()
            .column(C::Service)
            .column_as(C::Id.count(), "n")
            .filter(active)
            .group_by(C::Service)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Queued executions nobody has claimed whose time has come (no retry delay ahead), oldest first, leaving
    /// out the services in `full` (at their cap: what waits behind them is not held up).
    pub async fn launchable(&self, limit: u64, full: &[String]) -> Result<Vec<execution::Model>> {
        use execution::Column as C;
        let mut query = execution::Entity::find()
            .filter(C::Status.eq(ExecutionStatus::Queued.as_str()))
            .filter(C::JobName.is_null())
            .filter(C::CancelRequested.eq(false))
            .filter(due());
        if !full.is_empty() {
            query = query.filter(C::Service.is_not_in(full.iter().map(String::as_str)));
        }
        Ok(query.order_by_asc(C::CreatedAt).limit(limit).all(&self.db).await?)
    }

    /// Queued executions somebody cancelled that nobody claimed (their cancel could not be recorded at once).
    pub async fn cancelled_waiting(&self) -> Result<Vec<String>> {
        use execution::Column as C;
        Ok(execution::Entity::find()
            .select_only()
            .column(C::Id)
            .filter(C::Status.eq(ExecutionStatus::Queued.as_str()))
            .filter(C::JobName.is_null())
            .filter(C::CancelRequested.eq(true))
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Which of `ids` somebody asked to cancel.
    pub async fn cancel_requested_among(&self, ids: &[String]) -> Result<Vec<String>> {
        use execution::Column as C;
        let mut asked = Vec::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<String> = execution::Entity::find()
                .select_only()
                .column(C::Id)
                .filter(C::Id.is_in(chunk.iter().map(String::as_str)))
                .filter(C::CancelRequested.eq(true))
                .into_tuple()
                .all(&self.db)
                .await?;
            asked.extend(rows);
        }
        Ok(asked)
    }

    /// How many executions the chain `chain` has caused so far.
    pub async fn chain_size(&self, chain: &str) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(execution::Entity::find().filter(execution::Column::Chain.eq(chain)).count(&self.db).await?)
    }

    /// Takes over an unfinished Kubernetes execution for process `owner` if nobody holds it: no owner, its
    /// own, or a lease that ran out (its process died). Exactly one process wins.
    pub async fn take_over(&self, id: &str, owner: &str, lease: Duration) -> Result<bool> {
        use execution::Column as C;
        let now = Utc::now();
        let result = execution::Entity::update_many()
            .col_expr(C::Owner, Expr::value(owner))
            .col_expr(C::LeaseUntil, Expr::value(now + lease))
            .filter(C::Id.eq(id))
            .filter(C::Status.is_in([ExecutionStatus::Queued.as_str(), ExecutionStatus::Running.as_str()]))
            .filter(
                sea_orm::Condition::any()
                    .add(C::Owner.is_null())
                    .add(C::Owner.eq(owner))
                    .add(C::LeaseUntil.is_null())
                    .add(C::LeaseUntil.lt(now)),
            )
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Renews the leases `owner` holds on the executions `ids` (its heartbeat); returns those it still holds
    /// (one another process took over after a missed renewal is not among them).
    pub async fn renew_leases(&self, owner: &str, ids: &[String], lease: Duration) -> Result<Vec<String>> {
        use execution::Column as C;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut held = Vec::new();
        // In slices, so that a process following many executions stays within every database's limits.
        for chunk in ids.chunks(500) {
            execution::Entity::update_many()
                .col_expr(C::LeaseUntil, Expr::value(Utc::now() + lease))
                .filter(C::Owner.eq(owner))
                .filter(C::Id.is_in(chunk.iter().map(String::as_str)))
                .exec(&self.db)
                .await?;
            let rows = execution::Entity::find()
                .select_only()
                .column(C::Id)
                .filter(C::Owner.eq(owner))
                .filter(C::Id.is_in(chunk.iter().map(String::as_str)))
                .into_tuple::<String>()
                .all(&self.db)
                .await?;
            held.extend(rows);
        }
        Ok(held)
    }

    /// Lets go of every execution `owner` holds (a clean stop): another process may take them over at once.
    pub async fn release_leases(&self, owner: &str) -> Result<()> {
        use execution::Column as C;
        execution::Entity::update_many()
            .col_expr(C::LeaseUntil, Expr::value(Option::<chrono::DateTime<Utc>>::None))
            .col_expr(C::Owner, Expr::value(Option::<String>::None))
            .filter(C::Owner.eq(owner))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Records that an execution's Job exists (its uid): from now on it is adopted, never created again.
    pub async fn set_job_uid(&self, id: &str, uid: &str) -> Result<()> {
        use execution::Column as C;
        execution::Entity::update_many()
            .col_expr(C::JobUid, Expr::value(uid))
            .filter(C::Id.eq(id))
            .filter(C::JobUid.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// A queued execution's pod runs: it is running from now on.
    pub async fn mark_running(&self, id: &str) -> Result<bool> {
        use execution::Column as C;
        let result = execution::Entity::update_many()
            .col_expr(C::Status, Expr::value(ExecutionStatus::Running.as_str()))
            .col_expr(C::StartedAt, Expr::value(Utc::now()))
            .filter(C::Id.eq(id))
            .filter(C::Status.eq(ExecutionStatus::Queued.as_str()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Sets (or clears) what an unfinished execution waits on.
    pub async fn set_reason(&self, id: &str, reason: Option<&str>) -> Result<()> {
        use execution::Column as C;
        execution::Entity::update_many()
            .col_expr(C::Reason, Expr::value(reason.map(str::to_owned)))
            .filter(C::Id.eq(id))
            .filter(C::Status.is_in([ExecutionStatus::Queued.as_str(), ExecutionStatus::Running.as_str()]))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Records that somebody asked to cancel an unfinished execution; returns the row if it is unfinished.
    pub async fn request_cancel(&self, id: &str) -> Result<Option<execution::Model>> {
        use execution::Column as C;
        execution::Entity::update_many()
            .col_expr(C::CancelRequested, Expr::value(true))
            .filter(C::Id.eq(id))
            .filter(C::Status.is_in([ExecutionStatus::Queued.as_str(), ExecutionStatus::Running.as_str()]))
            .exec(&self.db)
            .await?;
        Ok(self.execution(id).await?.filter(|row| !ExecutionStatus::parse(&row.status).is_finished()))
    }

    /// Executions the Kubernetes executor has claimed that have not ended: after a restart, their Jobs are
    /// adopted (or launched, if k8x stopped before it created them).
    pub async fn unfinished_jobs(&self) -> Result<Vec<execution::Model>> {
        use execution::Column as C;
        Ok(execution::Entity::find()
            .filter(C::Executor.eq("kubernetes"))
            .filter(C::JobName.is_not_null())
            .filter(C::Status.is_in([ExecutionStatus::Queued.as_str(), ExecutionStatus::Running.as_str()]))
            .order_by_asc(C::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// One execution.
    pub async fn execution(&self, id: &str) -> Result<Option<execution::Model>> {
        Ok(execution::Entity::find_by_id(id.to_owned()).one(&self.db).await?)
    }

    /// The newest executions, optionally of one service only.
    pub async fn executions(&self, service: Option<&str>, limit: u64) -> Result<Vec<execution::Model>> {
        let filter = ExecutionFilter { service: service.map(str::to_owned), limit, ..ExecutionFilter::default() };
        self.find_executions(&filter).await
    }

    /// A page of executions, newest first, narrowed by `filter`.
    pub async fn find_executions(&self, filter: &ExecutionFilter) -> Result<Vec<execution::Model>> {
        use execution::Column as C;
        let mut query = execution::Entity::find();
        if let Some(service) = &filter.service {
            query = query.filter(C::Service.eq(service.as_str()));
        }
        if let Some(status) = filter.status {
            query = query.filter(C::Status.eq(status.as_str()));
        }
        if let Some(event_id) = &filter.event_id {
            query = query.filter(C::EventId.eq(event_id.as_str()));
        }
        Ok(query
            .order_by_desc(C::CreatedAt)
            .order_by_desc(C::Id)
            .offset(filter.offset)
            .limit(filter.limit)
            .all(&self.db)
            .await?)
    }

    /// Each revision `service`'s executions ran: the revision, how many ran it, and when the newest was
    /// created; newest first.
    pub async fn revision_uses(&self, service: &str) -> Result<Vec<(Option<String>, u64, chrono::DateTime<Utc>)>> {
        use execution::Column as C;
        let rows: Vec<(Option<String>, i64, chrono::DateTime<Utc>)> = execution::Entity::find()
            .select_only()
            .column(C::Revision)
            .column_as(C::Id.count(), "runs")
            .column_as(C::CreatedAt.max(), "last")
            .filter(C::Service.eq(service))
            .group_by(C::Revision)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut uses: Vec<_> =
            rows.into_iter().map(|(revision, runs, last)| (revision, u64::try_from(runs).unwrap_or(0), last)).collect();
        uses.sort_by(|a, b| b.2.cmp(&a.2));
        Ok(uses)
    }

    /// The newest execution of each of `services` (one query, each found through the (service, created)
    /// index), by service.
    pub async fn last_runs(&self, services: &[String]) -> Result<std::collections::HashMap<String, execution::Model>> {
        use sea_orm::sea_query::Expr;
        if services.is_empty() {
            return Ok(Default::default());
        }
        let rows = execution::Entity::find()
            .filter(execution::Column::Service.is_in(services.iter().cloned()))
            .filter(Expr::cust(
                "executions.created_at = (SELECT MAX(newest.created_at) FROM executions newest \
                 WHERE newest.service = executions.service)",
            ))
            .order_by_desc(execution::Column::Id)
            .all(&self.db)
            .await?;
        let mut last = std::collections::HashMap::new();
        for row in rows {
            last.entry(row.service.clone()).or_insert(row);
        }
        Ok(last)
    }

    /// The executions an event caused.
    pub async fn executions_of_event(&self, event_key: &str) -> Result<Vec<execution::Model>> {
        Ok(execution::Entity::find()
            .filter(execution::Column::EventKey.eq(event_key))
            .order_by_asc(execution::Column::Service)
            .all(&self.db)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::{outcome::Ending, store::Store};

    async fn store_with_execution() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display())).await.unwrap();
        let new = NewExecution {
            id: "x".into(),
            event_key: "k".into(),
            event_id: "e".into(),
            event_type: "t".into(),
            service: "s".into(),
            project: "p".into(),
            params: serde_json::json!({}),
            chain: "e".into(),
            max_attempts: 1,
            retry_backoff_seconds: 0,
            revision: None,
        };
        store.create_execution(new).await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn an_execution_is_held_by_one_process_until_its_lease_runs_out_or_is_released() {
        let (_dir, store) = store_with_execution().await;
        assert!(store.claim_for_job("x", "job-x", "a", Duration::seconds(30), Cap::default()).await.unwrap());
        assert!(
            !store.claim_for_job("x", "job-x", "b", Duration::seconds(30), Cap::default()).await.unwrap(),
            "claimed once"
        );
        assert!(!store.take_over("x", "b", Duration::seconds(30)).await.unwrap(), "a holds it");
        assert!(store.take_over("x", "a", Duration::seconds(30)).await.unwrap(), "its own");
        // a stops renewing (it died): its lease runs out and b takes over.
        let ids = ["x".to_owned()];
        assert_eq!(store.renew_leases("a", &ids, Duration::seconds(-1)).await.unwrap(), ids);
        assert!(store.take_over("x", "b", Duration::seconds(30)).await.unwrap());
        assert!(!store.take_over("x", "a", Duration::seconds(30)).await.unwrap(), "now b holds it");
        assert!(store.renew_leases("a", &ids, Duration::seconds(30)).await.unwrap().is_empty(), "a learns it lost it");
        // b stops cleanly: anyone may take it at once.
        store.release_leases("b").await.unwrap();
        assert!(store.take_over("x", "c", Duration::seconds(30)).await.unwrap());
        // An ended execution is nobody's to take.
        store.finish_execution("x", &Ending::succeeded()).await.unwrap();
        store.release_leases("c").await.unwrap();
        assert!(!store.take_over("x", "d", Duration::seconds(30)).await.unwrap());
    }

    #[tokio::test]
    async fn a_cancelled_execution_is_not_claimed() {
        let (_dir, store) = store_with_execution().await;
        assert!(store.request_cancel("x").await.unwrap().is_some());
        assert!(!store.claim_for_job("x", "job-x", "a", Duration::seconds(30), Cap::default()).await.unwrap());
        assert!(!store.claim_execution("x", "a", Duration::seconds(30), Cap::default()).await.unwrap());
    }
}

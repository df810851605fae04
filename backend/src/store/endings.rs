//! Endings: an attempt that ends is either retried (the service's policy allows another attempt: the
//! execution is queued again, its backoff delay ahead, the attempt kept in `execution_attempts`) or is the
//! execution's ending — recorded together with its completion event in the outbox, in one transaction, so a
//! crash between the two cannot lose the announcement.

use std::time::Duration as StdDuration;

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Duration, Utc};
use cloudevents::Event;
use model::views::ExecutionStatus;
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::Set,
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};

use super::{
    entities::{event, execution, execution_attempt, outbox},
    Result, Store,
};
use crate::outcome::{completion_event, Announced, Ending};

/// The longest delay before a retry, however many attempts came before.
const MAX_RETRY_DELAY: StdDuration = StdDuration::from_secs(3600);

/// What recording an attempt's ending did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// The execution ended; its completion event is in the outbox.
    Ended,
    /// Another attempt is queued, to start no sooner than `at`.
    Retrying { attempt: i32, at: DateTime<Utc> },
    /// It had ended (or been retried) already: nothing changed.
    Already,
}

/// Which ending a report may record: a late report about an attempt that is over (or an execution another
/// process took over) must change nothing.
#[derive(Clone, Copy, Debug)]
enum Guard<'a> {
    /// Whatever attempt is current (a cancel of a queued execution).
    Any,
    /// Only this attempt.
    Attempt(i32),
    /// Only a running execution whose process is gone (lease ran out, or `own`'s earlier life).
    Abandoned(Option<&'a str>),
}

impl Store {
    /// Records how the current attempt of an unfinished execution ended: retried when its policy allows
    /// another attempt (failed or interrupted, not cancelled), else ended and announced (the outbox).
    pub async fn finish_execution(&self, id: &str, ending: &Ending) -> Result<Settled> {
        self.finish(id, Guard::Any, ending).await
    }

    /// Records how attempt `attempt` ended — nothing if the execution has moved past it.
    pub async fn finish_attempt(&self, id: &str, attempt: i32, ending: &Ending) -> Result<Settled> {
        self.finish(id, Guard::Attempt(attempt), ending).await
    }

    async fn finish(&self, id: &str, guard: Guard<'_>, ending: &Ending) -> Result<Settled> {
        let txn = self.db.begin().await?;
        let settled = settle(&txn, id, guard, ending).await?;
        txn.commit().await?;
        match settled {
            Settled::Ended => self.signals.outbox.notify_one(),
            Settled::Retrying { .. } => self.signals.queue.notify_one(),
            Settled::Already => {}
        }
        if settled != Settled::Already {
            self.announce(id).await;
        }
        Ok(settled)
    }

    /// Ends, as interrupted, every local execution still marked running whose process is gone: its lease ran
    /// out (or it never had one), or it is `own`'s — the caller's earlier life (a k8x starting up again). A
    /// live process's executions are never touched. Returns how many.
    pub async fn interrupt_abandoned(&self, why: &str, own: Option<&str>) -> Result<usize> {
        use execution::Column as C;
        let ids: Vec<String> = execution::Entity::find()
            .select_only()
            .column(C::Id)
            .filter(C::Executor.eq("local"))
            .filter(C::Status.eq(ExecutionStatus::Running.as_str()))
            .filter(
                sea_orm::Condition::any()
                    .add(C::LeaseUntil.is_null())
                    .add(C::LeaseUntil.lt(Utc::now()))
                    .add_option(own.map(|own| C::Owner.eq(own))),
            )
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut interrupted = 0;
        for id in ids {
            // Checked again with the row held: a lease renewed since the look above keeps it alive.
            if self.finish(&id, Guard::Abandoned(own), &Ending::interrupted(why)).await? != Settled::Already {
                interrupted += 1;
            }
        }
        Ok(interrupted)
    }

    /// The attempts an execution went through before its current one, oldest first.
    pub async fn attempts(&self, id: &str) -> Result<Vec<execution_attempt::Model>> {
        use sea_orm::QueryOrder;
        Ok(execution_attempt::Entity::find()
            .filter(execution_attempt::Column::ExecutionId.eq(id))
            .order_by_asc(execution_attempt::Column::Attempt)
            .all(&self.db)
            .await?)
    }
}

async fn settle(txn: &DatabaseTransaction, id: &str, guard: Guard<'_>, ending: &Ending) -> Result<Settled> {
    use execution::Column as C;
    // Writing first takes the row (PostgreSQL) or the database (SQLite) for this transaction before anything is
    // read: two endings of one execution (a cancel and an exit) take turns, and SQLite never has to upgrade a
    // read to a write, which fails at once when another writer came in between.
    execution::Entity::update_many().col_expr(C::Id, Expr::col(C::Id).into()).filter(C::Id.eq(id)).exec(txn).await?;
    let Some(row) = execution::Entity::find_by_id(id.to_owned()).one(txn).await? else {
        return Ok(Settled::Already);
    };
    if ExecutionStatus::parse(&row.status).is_finished() {
        return Ok(Settled::Already);
    }
    let now = Utc::now();
    let applies = match guard {
        Guard::Any => true,
        Guard::Attempt(attempt) => row.attempt == attempt,
        Guard::Abandoned(own) => {
            row.status == ExecutionStatus::Running.as_str()
                && (row.lease_until.is_none_or(|until| until < now)
                    || own.is_some_and(|own| row.owner.as_deref() == Some(own)))
        }
    };
    if !applies {
        return Ok(Settled::Already);
    }
    let unfinished = [ExecutionStatus::Queued.as_str(), ExecutionStatus::Running.as_str()];
    if ending.may_retry() && row.attempt < row.max_attempts && !row.cancel_requested {
        let attempt = execution_attempt::ActiveModel {
            id: Default::default(),
            execution_id: Set(row.id.clone()),
            attempt: Set(row.attempt),
            status: Set(ending.status.as_str().to_owned()),
            exit_code: Set(ending.exit_code),
            error: Set(ending.error.clone()),
            reason: Set(ending.reason.clone()),
            started_at: Set(row.started_at),
            finished_at: Set(now),
        };
        execution_attempt::Entity::insert(attempt)
            .on_conflict(
                OnConflict::columns([execution_attempt::Column::ExecutionId, execution_attempt::Column::Attempt])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await
            .or_else(super::not_inserted_is_fine)?;
        let next = row.attempt + 1;
        let at = now + retry_delay(row.retry_backoff_seconds, row.attempt);
        let why = ending.error.as_deref().unwrap_or(ending.status.as_str());
        let result = execution::Entity::update_many()
            .col_expr(C::Status, Expr::value(ExecutionStatus::Queued.as_str()))
            .col_expr(C::Attempt, Expr::value(next))
            .col_expr(C::NotBefore, Expr::value(at))
            .col_expr(C::Reason, Expr::value(format!("attempt {} of {} after: {why}", next, row.max_attempts)))
            .col_expr(C::StartedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(C::JobName, Expr::value(Option::<String>::None))
            .col_expr(C::JobUid, Expr::value(Option::<String>::None))
            .col_expr(C::Owner, Expr::value(Option::<String>::None))
            .col_expr(C::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(C::Id.eq(id))
            .filter(C::Attempt.eq(row.attempt))
            .filter(C::Status.is_in(unfinished))
            .exec(txn)
            .await?;
        return Ok(if result.rows_affected == 1 { Settled::Retrying { attempt: next, at } } else { Settled::Already });
    }
    let result = execution::Entity::update_many()
        .col_expr(C::Status, Expr::value(ending.status.as_str()))
        .col_expr(C::ExitCode, Expr::value(ending.exit_code))
        .col_expr(C::Error, Expr::value(ending.error.clone()))
        .col_expr(C::Reason, Expr::value(ending.reason.clone()))
        .col_expr(C::FinishedAt, Expr::value(now))
        .col_expr(C::NotBefore, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(C::Id.eq(id))
        .filter(C::Attempt.eq(row.attempt))
        .filter(C::Status.is_in(unfinished))
        .exec(txn)
        .await?;
    if result.rows_affected != 1 {
        return Ok(Settled::Already);
    }
    let trigger = event::Entity::find_by_id(row.event_key.clone()).one(txn).await?;
    let trigger: Option<Event> = trigger.and_then(|t| serde_json::from_str(&t.event).ok());
    let of = Announced { execution_id: &row.id, service: &row.service, project: &row.project, attempt: row.attempt };
    let announcement = completion_event(of, trigger.as_ref(), ending);
    let json = serde_json::to_string(&announcement)
        .map_err(|e| super::StoreError::Corrupt { what: "completion event", detail: e.to_string() })?;
    let entry = outbox::ActiveModel {
        id: Default::default(),
        event: Set(json),
        created_at: Set(now),
        claim: Set(None),
        claimed_until: Set(None),
    };
    outbox::Entity::insert(entry).exec_without_returning(txn).await?;
    Ok(Settled::Ended)
}

/// The delay before attempt `attempt + 1`: `backoff_seconds` doubled for each attempt before, with jitter (so
/// that executions failing together do not retry together), at most [`MAX_RETRY_DELAY`].
fn retry_delay(backoff_seconds: i32, attempt: i32) -> Duration {
    let base = StdDuration::from_secs(backoff_seconds.max(0) as u64);
    if base.is_zero() {
        return Duration::zero();
    }
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(base)
        .with_max_delay(MAX_RETRY_DELAY)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build();
    let delay = delays.nth((attempt.max(1) - 1) as usize).unwrap_or(MAX_RETRY_DELAY);
    Duration::from_std(delay).unwrap_or(Duration::hours(1))
}

#[cfg(test)]
mod tests {
    #[test]
    fn retry_delays_double_with_jitter_and_are_bounded() {
        for attempt in 1..=4 {
            let delay = super::retry_delay(10, attempt).num_milliseconds();
            let base = 10_000 * 2i64.pow(attempt as u32 - 1);
            assert!((base..base * 2).contains(&delay), "attempt {attempt}: {delay} ms not in [{base}, {})", base * 2);
        }
        assert!(super::retry_delay(10, 40) <= chrono::Duration::seconds(7200));
        assert_eq!(super::retry_delay(0, 3), chrono::Duration::zero());
    }
}

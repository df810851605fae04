//! Executions: created idempotently by the dispatcher, claimed and finished by an executor.

use chrono::Utc;
use model::views::ExecutionStatus;
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
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
}

impl Store {
    /// Creates the execution unless it exists, and returns the stored row either way.
    pub async fn create_execution(&self, new: NewExecution) -> Result<execution::Model> {
        let row = execution::ActiveModel {
            id: Set(new.id.clone()),
            event_key: Set(new.event_key),
            event_id: Set(new.event_id),
            event_type: Set(new.event_type),
            service: Set(new.service),
            project: Set(new.project),
            status: Set(ExecutionStatus::Queued.as_str().to_owned()),
            exit_code: Set(None),
            error: Set(None),
            params: Set(new.params.to_string()),
            created_at: Set(Utc::now()),
            started_at: Set(None),
            finished_at: Set(None),
        };
        execution::Entity::insert(row)
            .on_conflict(OnConflict::column(execution::Column::Id).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .or_else(super::not_inserted_is_fine)?;
        self.execution(&new.id).await?.ok_or_else(|| super::StoreError::Corrupt {
            what: "execution",
            detail: format!("{} vanished right after it was created", new.id),
        })
    }

    /// Moves a queued execution to running. Exactly one caller wins: the one that gets `true` launches it.
    pub async fn claim_execution(&self, id: &str) -> Result<bool> {
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

    /// Records how a running execution ended. An execution that already ended keeps its first ending.
    pub async fn finish_execution(
        &self,
        id: &str,
        status: ExecutionStatus,
        exit_code: Option<i32>,
        error: Option<String>,
    ) -> Result<bool> {
        use execution::Column as C;
        let result = execution::Entity::update_many()
            .col_expr(C::Status, Expr::value(status.as_str()))
            .col_expr(C::ExitCode, Expr::value(exit_code))
            .col_expr(C::Error, Expr::value(error))
            .col_expr(C::FinishedAt, Expr::value(Utc::now()))
            .filter(C::Id.eq(id))
            .filter(C::Status.is_in([ExecutionStatus::Queued.as_str(), ExecutionStatus::Running.as_str()]))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Fails every execution still marked running: after a restart nothing is running them any more.
    pub async fn fail_interrupted_executions(&self, why: &str) -> Result<u64> {
        use execution::Column as C;
        let result = execution::Entity::update_many()
            .col_expr(C::Status, Expr::value(ExecutionStatus::Failed.as_str()))
            .col_expr(C::Error, Expr::value(why))
            .col_expr(C::FinishedAt, Expr::value(Utc::now()))
            .filter(C::Status.eq(ExecutionStatus::Running.as_str()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }

    /// One execution.
    pub async fn execution(&self, id: &str) -> Result<Option<execution::Model>> {
        Ok(execution::Entity::find_by_id(id.to_owned()).one(&self.db).await?)
    }

    /// The newest executions, optionally of one service only.
    pub async fn executions(&self, service: Option<&str>, limit: u64) -> Result<Vec<execution::Model>> {
        let mut query = execution::Entity::find();
        if let Some(service) = service {
            query = query.filter(execution::Column::Service.eq(service));
        }
        Ok(query
            .order_by_desc(execution::Column::CreatedAt)
            .order_by_desc(execution::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
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

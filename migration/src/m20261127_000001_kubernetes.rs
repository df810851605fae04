//! What the Kubernetes executor records: which executor runs an execution, the Job it became (its name once
//! claimed, its uid once created: a Job that vanished after that is never created again), why it waits or
//! failed as Kubernetes says it, whether a cancel was asked for, which k8x process follows it and until when
//! its lease runs (another process takes over an execution whose lease ran out); and, per log line, the pod container it came
//! from with the container runtime's timestamp, so that a log stream broken off (or a k8x restart) resumes
//! exactly after the last stored line.
//!
//! SQLite changes one column per `ALTER TABLE`, so each column is its own statement.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (Executions::Table.into_iden(), string(Executions::Executor).default("local").to_owned()),
            (Executions::Table.into_iden(), string_null(Executions::JobName).to_owned()),
            (Executions::Table.into_iden(), string_null(Executions::JobUid).to_owned()),
            (Executions::Table.into_iden(), text_null(Executions::Reason).to_owned()),
            (Executions::Table.into_iden(), boolean(Executions::CancelRequested).default(false).to_owned()),
            (Executions::Table.into_iden(), string_null(Executions::Owner).to_owned()),
            (Executions::Table.into_iden(), timestamp_with_time_zone_null(Executions::LeaseUntil).to_owned()),
            (LogLines::Table.into_iden(), string_null(LogLines::Source).to_owned()),
            (LogLines::Table.into_iden(), string_null(LogLines::SourceAt).to_owned()),
        ];
        for (table, mut column) in columns {
            manager.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_executions_status")
                    .table(Executions::Table)
                    .col(Executions::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_executions_event_id")
                    .table(Executions::Table)
                    .col(Executions::EventId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_executions_event_id", "idx_executions_status"] {
            manager.drop_index(Index::drop().name(name).to_owned()).await?;
        }
        let columns = [
            (LogLines::Table.into_iden(), LogLines::SourceAt.into_iden()),
            (LogLines::Table.into_iden(), LogLines::Source.into_iden()),
            (Executions::Table.into_iden(), Executions::LeaseUntil.into_iden()),
            (Executions::Table.into_iden(), Executions::Owner.into_iden()),
            (Executions::Table.into_iden(), Executions::CancelRequested.into_iden()),
            (Executions::Table.into_iden(), Executions::Reason.into_iden()),
            (Executions::Table.into_iden(), Executions::JobUid.into_iden()),
            (Executions::Table.into_iden(), Executions::JobName.into_iden()),
            (Executions::Table.into_iden(), Executions::Executor.into_iden()),
        ];
        for (table, column) in columns {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Executions {
    Table,
    Status,
    EventId,
    Executor,
    JobName,
    JobUid,
    Reason,
    CancelRequested,
    Owner,
    LeaseUntil,
}

#[derive(DeriveIden)]
enum LogLines {
    Table,
    Source,
    SourceAt,
}

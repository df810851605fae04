//! Executions you can trust: the outbox that announces endings (written in the transaction that records the
//! ending, relayed to the bus from there); per execution its attempt, its retry policy (taken from its service
//! when it was created), when a retry may start, and the chain it belongs to (the correlation id, bounding how many executions one outside event may cause); the attempts an
//! execution went through; and which process consumes an embedded-bus group, until when.
//!
//! SQLite changes one column per `ALTER TABLE`, so each column is its own statement.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(big_pk_auto(Outbox::Id))
                    .col(text(Outbox::Event))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(string_null(Outbox::Claim))
                    .col(timestamp_with_time_zone_null(Outbox::ClaimedUntil))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExecutionAttempts::Table)
                    .col(big_pk_auto(ExecutionAttempts::Id))
                    .col(string(ExecutionAttempts::ExecutionId))
                    .col(integer(ExecutionAttempts::Attempt))
                    .col(string(ExecutionAttempts::Status))
                    .col(integer_null(ExecutionAttempts::ExitCode))
                    .col(text_null(ExecutionAttempts::Error))
                    .col(text_null(ExecutionAttempts::Reason))
                    .col(timestamp_with_time_zone_null(ExecutionAttempts::StartedAt))
                    .col(timestamp_with_time_zone(ExecutionAttempts::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("execution_attempts_once")
                    .table(ExecutionAttempts::Table)
                    .col(ExecutionAttempts::ExecutionId)
                    .col(ExecutionAttempts::Attempt)
                    .unique()
                    .to_owned(),
            )
            .await?;
        let columns = [
            (Executions::Table.into_iden(), integer(Executions::Attempt).default(1).to_owned()),
            (Executions::Table.into_iden(), timestamp_with_time_zone_null(Executions::NotBefore).to_owned()),
            (Executions::Table.into_iden(), string_null(Executions::Chain).to_owned()),
            (Executions::Table.into_iden(), integer(Executions::MaxAttempts).default(1).to_owned()),
            (Executions::Table.into_iden(), integer(Executions::RetryBackoffSeconds).default(0).to_owned()),
            (BusOffsets::Table.into_iden(), string_null(BusOffsets::Owner).to_owned()),
            (BusOffsets::Table.into_iden(), timestamp_with_time_zone_null(BusOffsets::LeaseUntil).to_owned()),
        ];
        for (table, mut column) in columns {
            manager.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create().name("idx_executions_chain").table(Executions::Table).col(Executions::Chain).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("idx_executions_chain").to_owned()).await?;
        let columns = [
            (BusOffsets::Table.into_iden(), BusOffsets::LeaseUntil.into_iden()),
            (BusOffsets::Table.into_iden(), BusOffsets::Owner.into_iden()),
            (Executions::Table.into_iden(), Executions::RetryBackoffSeconds.into_iden()),
            (Executions::Table.into_iden(), Executions::MaxAttempts.into_iden()),
            (Executions::Table.into_iden(), Executions::Chain.into_iden()),
            (Executions::Table.into_iden(), Executions::NotBefore.into_iden()),
            (Executions::Table.into_iden(), Executions::Attempt.into_iden()),
        ];
        for (table, column) in columns {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(ExecutionAttempts::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Outbox::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Event,
    CreatedAt,
    Claim,
    ClaimedUntil,
}

#[derive(DeriveIden)]
enum ExecutionAttempts {
    Table,
    Id,
    ExecutionId,
    Attempt,
    Status,
    ExitCode,
    Error,
    Reason,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum Executions {
    Table,
    Attempt,
    NotBefore,
    Chain,
    MaxAttempts,
    RetryBackoffSeconds,
}

#[derive(DeriveIden)]
enum BusOffsets {
    Table,
    Owner,
    LeaseUntil,
}

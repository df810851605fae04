//! The first schema: everything the walking skeleton needs.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BusRecords::Table)
                    .col(big_pk_auto(BusRecords::Offset))
                    .col(string(BusRecords::Key))
                    .col(text(BusRecords::Event))
                    .col(timestamp_with_time_zone(BusRecords::StoredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BusOffsets::Table)
                    .col(string(BusOffsets::GroupId).primary_key())
                    .col(big_integer(BusOffsets::NextOffset))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(string(Events::Key).primary_key())
                    .col(string(Events::EventId))
                    .col(string(Events::Source))
                    .col(string(Events::EventType))
                    .col(text(Events::Event))
                    .col(timestamp_with_time_zone(Events::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Services::Table)
                    .col(string(Services::Name).primary_key())
                    .col(string(Services::Project))
                    .col(string(Services::Kind))
                    .col(text(Services::Description))
                    .col(boolean(Services::Active))
                    .col(boolean(Services::AllowManualTriggering))
                    .col(text(Services::TriggerEvents))
                    .col(text(Services::Tags))
                    .col(text(Services::Manifest))
                    .col(text(Services::Deployment))
                    .col(text_null(Services::Parameters))
                    .col(text_null(Services::Configs))
                    .col(text_null(Services::Secrets))
                    .col(timestamp_with_time_zone(Services::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Executions::Table)
                    .col(string(Executions::Id).primary_key())
                    .col(string(Executions::EventKey))
                    .col(string(Executions::EventId))
                    .col(string(Executions::EventType))
                    .col(string(Executions::Service))
                    .col(string(Executions::Project))
                    .col(string(Executions::Status))
                    .col(integer_null(Executions::ExitCode))
                    .col(text_null(Executions::Error))
                    .col(text(Executions::Params))
                    .col(timestamp_with_time_zone(Executions::CreatedAt))
                    .col(timestamp_with_time_zone_null(Executions::StartedAt))
                    .col(timestamp_with_time_zone_null(Executions::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_executions_service_created")
                    .table(Executions::Table)
                    .col(Executions::Service)
                    .col(Executions::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_executions_created")
                    .table(Executions::Table)
                    .col(Executions::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LogLines::Table)
                    .col(string(LogLines::ExecutionId))
                    .col(big_integer(LogLines::Seq))
                    .col(string(LogLines::Stream))
                    .col(text(LogLines::Text))
                    .col(timestamp_with_time_zone(LogLines::At))
                    .primary_key(Index::create().col(LogLines::ExecutionId).col(LogLines::Seq))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            LogLines::Table.into_iden(),
            Executions::Table.into_iden(),
            Services::Table.into_iden(),
            Events::Table.into_iden(),
            BusOffsets::Table.into_iden(),
            BusRecords::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum BusRecords {
    Table,
    Offset,
    Key,
    Event,
    StoredAt,
}

#[derive(DeriveIden)]
enum BusOffsets {
    Table,
    GroupId,
    NextOffset,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Key,
    EventId,
    Source,
    EventType,
    Event,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    Name,
    Project,
    Kind,
    Description,
    Active,
    AllowManualTriggering,
    TriggerEvents,
    Tags,
    Manifest,
    Deployment,
    Parameters,
    Configs,
    Secrets,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Executions {
    Table,
    Id,
    EventKey,
    EventId,
    EventType,
    Service,
    Project,
    Status,
    ExitCode,
    Error,
    Params,
    CreatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum LogLines {
    Table,
    ExecutionId,
    Seq,
    Stream,
    Text,
    At,
}

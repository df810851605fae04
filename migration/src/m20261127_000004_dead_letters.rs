//! Records the dispatcher gave up on — not a CloudEvent, or handling that kept failing — with the reason and
//! the original record, so that the line keeps moving and an admin can look and replay.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeadLetters::Table)
                    .col(big_pk_auto(DeadLetters::Id))
                    .col(string(DeadLetters::GroupId))
                    .col(string(DeadLetters::Position))
                    .col(text(DeadLetters::Reason))
                    .col(text(DeadLetters::Record))
                    .col(string_null(DeadLetters::EventId))
                    .col(string_null(DeadLetters::EventType))
                    .col(integer(DeadLetters::Attempts))
                    .col(timestamp_with_time_zone(DeadLetters::CreatedAt))
                    .col(timestamp_with_time_zone_null(DeadLetters::ReplayedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(DeadLetters::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum DeadLetters {
    Table,
    Id,
    GroupId,
    Position,
    Reason,
    Record,
    EventId,
    EventType,
    Attempts,
    CreatedAt,
    ReplayedAt,
}

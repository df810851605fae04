//! One dead letter per record: a record dead-lettered again after a crash (before its offset was committed) is
//! not listed twice. Duplicates an earlier k8x wrote are folded into the first.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DELETE FROM dead_letters WHERE id NOT IN \
                 (SELECT MIN(id) FROM dead_letters GROUP BY group_id, position)",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("dead_letters_once")
                    .table(DeadLetters::Table)
                    .col(DeadLetters::GroupId)
                    .col(DeadLetters::Position)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("dead_letters_once").table(DeadLetters::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum DeadLetters {
    Table,
    GroupId,
    Position,
}

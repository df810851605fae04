//! Projects and where their services come from (a directory, a Git repository, uploaded archives), the
//! record of every sync, secrets and configs set for the platform, a project or a service, each scheduled service's next due time, and the revision (commit or archive digest) of each service and of each execution.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Projects::Table)
                    .col(string(Projects::Name).primary_key())
                    .col(text(Projects::Description))
                    .col(string(Projects::Kind))
                    .col(text_null(Projects::Location))
                    .col(string_null(Projects::Branch))
                    .col(string_null(Projects::Subdir))
                    .col(text_null(Projects::Token))
                    .col(text_null(Projects::DeployKey))
                    .col(text_null(Projects::DeployKeyPublic))
                    .col(string_null(Projects::SshHostKey))
                    .col(text(Projects::WebhookSecret))
                    .col(integer_null(Projects::SyncIntervalSeconds))
                    .col(string_null(Projects::SyncClaimedBy))
                    .col(timestamp_with_time_zone_null(Projects::SyncClaimedUntil))
                    .col(timestamp_with_time_zone(Projects::CreatedAt))
                    .col(timestamp_with_time_zone(Projects::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProjectSyncs::Table)
                    .col(big_pk_auto(ProjectSyncs::Id))
                    .col(string(ProjectSyncs::Project))
                    .col(string(ProjectSyncs::Trigger))
                    .col(string(ProjectSyncs::Result))
                    .col(string_null(ProjectSyncs::Revision))
                    .col(text_null(ProjectSyncs::Author))
                    .col(text_null(ProjectSyncs::Message))
                    .col(timestamp_with_time_zone_null(ProjectSyncs::CommittedAt))
                    .col(text(ProjectSyncs::Changes))
                    .col(text(ProjectSyncs::Problems))
                    .col(text_null(ProjectSyncs::Error))
                    .col(timestamp_with_time_zone(ProjectSyncs::StartedAt))
                    .col(timestamp_with_time_zone_null(ProjectSyncs::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("project_syncs_by_project")
                    .table(ProjectSyncs::Table)
                    .col(ProjectSyncs::Project)
                    .col(ProjectSyncs::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScopedValues::Table)
                    .col(string(ScopedValues::Scope))
                    .col(string(ScopedValues::Owner))
                    .col(string(ScopedValues::Kind))
                    .col(string(ScopedValues::Key))
                    .col(text(ScopedValues::Value))
                    .col(string(ScopedValues::UpdatedBy))
                    .col(timestamp_with_time_zone(ScopedValues::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(ScopedValues::Scope)
                            .col(ScopedValues::Owner)
                            .col(ScopedValues::Kind)
                            .col(ScopedValues::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScheduleMarks::Table)
                    .col(string(ScheduleMarks::Service).primary_key())
                    .col(text(ScheduleMarks::Schedule))
                    .col(timestamp_with_time_zone(ScheduleMarks::NextDue))
                    .to_owned(),
            )
            .await?;
        for column in [Services::Revision, Services::SourceDir] {
            manager
                .alter_table(Table::alter().table(Services::Table).add_column(string_null(column)).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter().table(Executions::Table).add_column(string_null(Executions::Revision)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Executions::Table).drop_column(Executions::Revision).to_owned())
            .await?;
        for column in [Services::Revision, Services::SourceDir] {
            manager.alter_table(Table::alter().table(Services::Table).drop_column(column).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(ScheduleMarks::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ScopedValues::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ProjectSyncs::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Projects::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Name,
    Description,
    Kind,
    Location,
    Branch,
    Subdir,
    Token,
    DeployKey,
    DeployKeyPublic,
    SshHostKey,
    WebhookSecret,
    SyncIntervalSeconds,
    SyncClaimedBy,
    SyncClaimedUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProjectSyncs {
    Table,
    Id,
    Project,
    Trigger,
    Result,
    Revision,
    Author,
    Message,
    CommittedAt,
    Changes,
    Problems,
    Error,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum ScopedValues {
    Table,
    Scope,
    Owner,
    Kind,
    Key,
    Value,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ScheduleMarks {
    Table,
    Service,
    Schedule,
    NextDue,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    Revision,
    SourceDir,
}

#[derive(DeriveIden)]
enum Executions {
    Table,
    Revision,
}

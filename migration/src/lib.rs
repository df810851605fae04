//! # migration
//!
//! The k8x schema as sea-orm migrations, one file per change (`mYYYYMMDD_NNNNNN_name.rs`). They run at start-up
//! on SQLite and PostgreSQL alike.
//!
//! ## Layout
//! - `m20261126_000001_initial`: the embedded bus (records + consumer offsets), recorded events, services,
//!   executions and their log lines.
//! - `m20261127_000001_kubernetes`: executor, Job name, reason and cancel request of an execution; the pod
//!   container and runtime timestamp of each log line (resuming a broken log stream).
//! - `m20261127_000002_settings`: named values k8x keeps about itself (the secret-key check).
//! - `m20261127_000003_access`: users, sessions, API tokens, event sources (webhook secrets), the audit trail.
//! - `m20261127_000004_dead_letters`: records the dispatcher gave up on, for admins to see and replay.
//! - `m20261127_000005_dead_letter_once`: one dead letter per (group, position).
//! - `m20261127_000006_trusted_executions`: the outbox of completion events, attempts and retries, chains,
//!   which process consumes an embedded-bus group.
//! - `m20261127_000007_projects`: projects and their sources, the record of each sync, scoped secrets and
//!   configs, schedule marks, the revision of each service and execution.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_initial;
mod m20261127_000001_kubernetes;
mod m20261127_000002_settings;
mod m20261127_000003_access;
mod m20261127_000004_dead_letters;
mod m20261127_000005_dead_letter_once;
mod m20261127_000006_trusted_executions;
mod m20261127_000007_projects;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_initial::Migration),
            Box::new(m20261127_000001_kubernetes::Migration),
            Box::new(m20261127_000002_settings::Migration),
            Box::new(m20261127_000003_access::Migration),
            Box::new(m20261127_000004_dead_letters::Migration),
            Box::new(m20261127_000005_dead_letter_once::Migration),
            Box::new(m20261127_000006_trusted_executions::Migration),
            Box::new(m20261127_000007_projects::Migration),
        ]
    }
}

//! One run of one service for one event. The id is derived from (event, service), which makes creation
//! idempotent: a redelivered event finds its execution already there.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "executions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub event_key: String,
    pub event_id: String,
    pub event_type: String,
    pub service: String,
    pub project: String,
    /// `queued`, `running`, `succeeded`, `failed`, `cancelled`, `interrupted`.
    pub status: String,
    pub exit_code: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    /// `K8X_PARAMS`, JSON.
    #[sea_orm(column_type = "Text")]
    pub params: String,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    /// `local` or `kubernetes`: who runs it (and who adopts it after a restart).
    pub executor: String,
    /// The Kubernetes Job, once the Kubernetes executor has claimed the execution.
    pub job_name: Option<String>,
    /// The uid of the Job once it was created: after that, a missing Job is never created again.
    pub job_uid: Option<String>,
    /// What the execution waits on or why it failed, as the cluster says it (`ImagePullBackOff: …`).
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    /// Somebody asked to cancel it; an executor that sees its Job go treats that as the cancel, not a failure.
    pub cancel_requested: bool,
    /// The k8x process that runs or follows it, while its lease runs.
    pub owner: Option<String>,
    /// Until when `owner` holds it; renewed while the process lives, after that another may take over.
    pub lease_until: Option<DateTimeUtc>,
    /// Which attempt this is (1 first; a retry is the next attempt of the same execution).
    pub attempt: i32,
    /// A queued retry waits until then (backoff).
    pub not_before: Option<DateTimeUtc>,
    /// The chain it belongs to: the correlation id of the outside event that started it all.
    pub chain: Option<String>,
    /// Attempts allowed in all (1 + the service's `retries.count` when it was created).
    pub max_attempts: i32,
    /// The first retry's delay; each further one doubles it (with jitter).
    pub retry_backoff_seconds: i32,
    /// The revision of the service it ran (its commit or archive digest).
    pub revision: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

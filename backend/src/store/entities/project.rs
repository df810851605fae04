//! A project: a named set of services and where they come from. Its Git token, deploy key and webhook secret
//! are sealed like service secrets; `Debug` leaves them out.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// `directory`, `git` or `archive`.
    pub kind: String,
    /// The directory, or the repository's URL (https, ssh, file, or a local path).
    #[sea_orm(column_type = "Text", nullable)]
    pub location: Option<String>,
    pub branch: Option<String>,
    /// The directory inside the repository that holds the services.
    pub subdir: Option<String>,
    /// An https token (sealed).
    #[sea_orm(column_type = "Text", nullable)]
    pub token: Option<String>,
    /// The SSH deploy key k8x generated, OpenSSH private key (sealed).
    #[sea_orm(column_type = "Text", nullable)]
    pub deploy_key: Option<String>,
    /// Its public half, to paste into the Git host.
    #[sea_orm(column_type = "Text", nullable)]
    pub deploy_key_public: Option<String>,
    /// The ssh server's host key (`SHA256:…`) as first seen: later syncs refuse another.
    pub ssh_host_key: Option<String>,
    /// The push webhook's secret (sealed).
    #[sea_orm(column_type = "Text")]
    pub webhook_secret: String,
    /// Sync on this interval too (seconds); none: on demand and on push only.
    pub sync_interval_seconds: Option<i32>,
    /// The process syncing it now, and until when that claim holds.
    pub sync_claimed_by: Option<String>,
    pub sync_claimed_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl Model {
    /// A new archive project (the kind until a source is set), with nothing synced yet.
    pub fn new(name: &str, webhook_secret: String) -> Self {
        let now = chrono::Utc::now();
        Self {
            name: name.to_owned(),
            description: String::new(),
            kind: "archive".into(),
            location: None,
            branch: None,
            subdir: None,
            token: None,
            deploy_key: None,
            deploy_key_public: None,
            ssh_host_key: None,
            webhook_secret,
            sync_interval_seconds: None,
            sync_claimed_by: None,
            sync_claimed_until: None,
            created_at: now,
            updated_at: now,
        }
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Project")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("location", &self.location)
            .field("branch", &self.branch)
            .field("subdir", &self.subdir)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

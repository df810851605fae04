//! The audit trail: appended to by every sign-in, run, cancel and change; read by admins.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, EntityTrait, QueryOrder, QuerySelect};

use super::{entities::audit_entry, Result, Store};

/// One thing somebody did.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// Who: a user name, `token <prefix> of <owner>`, `source <name>`, or what they claimed when unknown.
    pub actor: String,
    /// What, as a short verb: `signin`, `signin-failed`, `run`, `cancel`, `user-add`, ...
    pub action: &'static str,
    /// To what: a service, an execution, a user, a token.
    pub target: String,
    /// From where (the peer address).
    pub address: Option<String>,
    pub detail: Option<String>,
}

impl Store {
    /// Appends to the audit trail.
    pub async fn audit(&self, record: AuditRecord) -> Result<()> {
        let row = audit_entry::ActiveModel {
            id: Default::default(),
            at: Set(Utc::now()),
            actor: Set(record.actor),
            action: Set(record.action.to_owned()),
            target: Set(record.target),
            address: Set(record.address),
            detail: Set(record.detail),
        };
        audit_entry::Entity::insert(row).exec_without_returning(&self.db).await?;
        Ok(())
    }

    /// The newest `limit` entries.
    pub async fn audit_trail(&self, limit: u64) -> Result<Vec<audit_entry::Model>> {
        Ok(audit_entry::Entity::find().order_by_desc(audit_entry::Column::Id).limit(limit).all(&self.db).await?)
    }
}

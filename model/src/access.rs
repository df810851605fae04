//! What the UI shows of users, API tokens, event sources and the audit trail. Never a password, token or
//! secret: tokens appear as their prefix, sources without their secret.

use serde::{Deserialize, Serialize};

/// The signed-in user, for the header and for which buttons to offer (the server checks again).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub name: String,
    /// `admin`, `operator` or `viewer`.
    pub role: String,
    /// May run and cancel services.
    pub can_operate: bool,
    /// May manage users, tokens, sources and read the audit trail.
    pub is_admin: bool,
}

/// One user in the admin list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub name: String,
    pub role: String,
    /// RFC 3339.
    pub created_at: String,
}

/// One API token in the admin list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: String,
    /// The token's first characters.
    pub prefix: String,
    pub name: String,
    pub owner: String,
    pub scopes: Vec<String>,
    /// RFC 3339 timestamps.
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// One registered event source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceView {
    pub name: String,
    pub created_by: String,
    pub created_at: String,
    /// Where it posts CloudEvents (signed with `X-Hub-Signature-256`).
    pub endpoint: String,
    /// Where it posts plain webhooks.
    pub webhook: String,
    /// How a plain webhook becomes an event, in words.
    pub shape: String,
}

/// One line of the audit trail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub address: Option<String>,
    pub detail: Option<String>,
}

/// A record the dispatcher gave up on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterView {
    pub id: i64,
    /// `partition/offset` on the bus.
    pub position: String,
    pub reason: String,
    /// The original record (the stored event, or Kafka headers and payload), as JSON.
    pub record: String,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub attempts: i32,
    /// RFC 3339 timestamps.
    pub created_at: String,
    pub replayed_at: Option<String>,
}

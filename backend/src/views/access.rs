//! Users, tokens, sources and the audit trail as [`model::access`] views.

use model::access::{AuditView, CurrentUser, DeadLetterView, SourceView, TokenView, UserView};

use crate::{
    access::Permission,
    auth::{manage::scopes_of, Principal},
    store::{Result, Store},
};

/// The caller as the header shows them.
pub fn current_user(principal: &Principal) -> CurrentUser {
    CurrentUser {
        name: principal.name.clone(),
        role: principal.role().as_str().to_owned(),
        can_operate: principal.allows(Permission::Operate),
        is_admin: principal.allows(Permission::Admin),
    }
}

pub async fn users(store: &Store) -> Result<Vec<UserView>> {
    Ok(store
        .users()
        .await?
        .into_iter()
        .map(|u| UserView { name: u.name, role: u.role.as_str().to_owned(), created_at: u.created_at.to_rfc3339() })
        .collect())
}

pub async fn tokens(store: &Store) -> Result<Vec<TokenView>> {
    Ok(store
        .tokens()
        .await?
        .into_iter()
        .map(|t| TokenView {
            scopes: scopes_of(&t).into_iter().map(|s| s.as_str().to_owned()).collect(),
            id: t.id,
            prefix: t.prefix,
            name: t.name,
            owner: t.owner,
            created_at: t.created_at.to_rfc3339(),
            last_used_at: t.last_used_at.map(|at| at.to_rfc3339()),
            revoked_at: t.revoked_at.map(|at| at.to_rfc3339()),
        })
        .collect())
}

pub async fn sources(store: &Store) -> Result<Vec<SourceView>> {
    Ok(store
        .sources()
        .await?
        .into_iter()
        .map(|s| SourceView {
            endpoint: format!("/api/v1/sources/{}/events", s.name),
            webhook: format!("/api/v1/webhooks/{}", s.name),
            shape: describe(&s.webhook_shape()),
            name: s.name,
            created_by: s.created_by,
            created_at: s.created_at.to_rfc3339(),
        })
        .collect())
}

pub async fn audit(store: &Store, limit: u64) -> Result<Vec<AuditView>> {
    Ok(store
        .audit_trail(limit)
        .await?
        .into_iter()
        .map(|a| AuditView {
            at: a.at.to_rfc3339(),
            actor: a.actor,
            action: a.action,
            target: a.target,
            address: a.address,
            detail: a.detail,
        })
        .collect())
}

/// A webhook shape in a few words: `type: header X-GitHub-Event, prefix com.github.; id: header X-GitHub-Delivery`.
fn describe(shape: &crate::store::WebhookShape) -> String {
    let ty = match (&shape.type_header, &shape.type_field) {
        (Some(header), _) => format!("header {header}"),
        (None, Some(field)) => format!("field {field}"),
        (None, None) => "webhook.<name>".into(),
    };
    let prefix = shape.type_prefix.as_deref().map(|p| format!(", prefix {p}")).unwrap_or_default();
    let id = shape.id_header.as_deref().map(|h| format!("header {h}")).unwrap_or_else(|| "hash of the body".into());
    format!("type: {ty}{prefix}; id: {id}")
}

pub async fn dead_letters(store: &Store, limit: u64) -> Result<Vec<DeadLetterView>> {
    Ok(store
        .dead_letters(limit)
        .await?
        .into_iter()
        .map(|d| DeadLetterView {
            id: d.id,
            position: d.position,
            reason: d.reason,
            record: d.record,
            event_id: d.event_id,
            event_type: d.event_type,
            attempts: d.attempts,
            created_at: d.created_at.to_rfc3339(),
            replayed_at: d.replayed_at.map(|at| at.to_rfc3339()),
        })
        .collect())
}

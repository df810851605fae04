//! Who is asking: a signed-in user or an API token, put on the request by the authentication layer and taken
//! by every route and server function, which then asks [`Principal::require`] for the one permission it
//! needs. Hiding a button is not a check; this is.

use axum::{extract::FromRequestParts, http::request::Parts};

use crate::{
    access::{Permission, Role, Scope},
    api_error::ApiError,
    store::AuditRecord,
};

/// The authenticated caller of one request.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The user (for a token: its owner).
    pub name: String,
    pub via: Via,
    /// The peer address the request came from.
    pub address: Option<String>,
}

/// How the caller proved who they are.
#[derive(Clone, Debug)]
pub enum Via {
    /// A browser session of a user with this role.
    Session { role: Role },
    /// An API token; it may do what its scopes allow and its owner's role allows.
    Token { id: String, prefix: String, scopes: Vec<Scope>, owner_role: Role },
}

impl Principal {
    /// Whether the caller may do `permission`.
    pub fn allows(&self, permission: Permission) -> bool {
        match &self.via {
            Via::Session { role } => role.allows(permission),
            Via::Token { scopes, owner_role, .. } => {
                owner_role.allows(permission) && scopes.iter().any(|scope| scope.allows(permission))
            }
        }
    }

    /// `Ok` when the caller may do `permission`, else a 403 that says what was missing.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.allows(permission) {
            return Ok(());
        }
        let what = match permission {
            Permission::Read => "read k8x",
            Permission::Operate => "run or cancel services",
            Permission::Ingest => "post events",
            Permission::Admin => "administer k8x (users, tokens, event sources, audit trail)",
        };
        Err(ApiError::Forbidden(match &self.via {
            Via::Session { role } => format!("`{}` is a {} and may not {what}", self.name, role.as_str()),
            Via::Token { scopes, .. } => {
                let scopes: Vec<_> = scopes.iter().map(|s| s.as_str()).collect();
                format!("this token (scopes: {}) may not {what}", scopes.join(", "))
            }
        }))
    }

    /// The role shown in the UI: the user's, or for a token its owner's.
    pub fn role(&self) -> Role {
        match &self.via {
            Via::Session { role } => *role,
            Via::Token { owner_role, .. } => *owner_role,
        }
    }

    /// How the audit trail names the caller.
    pub fn actor(&self) -> String {
        match &self.via {
            Via::Session { .. } => self.name.clone(),
            Via::Token { prefix, .. } => format!("{} (token {prefix}…)", self.name),
        }
    }

    /// An audit record of the caller doing `action` to `target`.
    pub fn audit(&self, action: &'static str, target: impl Into<String>) -> AuditRecord {
        AuditRecord { actor: self.actor(), action, target: target.into(), address: self.address.clone(), detail: None }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("sign in, or send an API token as `Authorization: Bearer …`".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(scopes: Vec<Scope>, owner_role: Role) -> Principal {
        let via = Via::Token { id: "t".into(), prefix: "k8x_abcdefgh".into(), scopes, owner_role };
        Principal { name: "alice".into(), via, address: None }
    }

    #[test]
    fn a_token_needs_both_the_scope_and_an_owner_who_may() {
        assert!(token(vec![Scope::Ingest], Role::Admin).allows(Permission::Ingest));
        assert!(!token(vec![Scope::Ingest], Role::Admin).allows(Permission::Read));
        assert!(!token(vec![Scope::Operate], Role::Viewer).allows(Permission::Operate), "scope above the owner");
        let refused = token(vec![Scope::Read], Role::Admin).require(Permission::Operate).unwrap_err();
        assert!(refused.to_string().contains("scopes: read"), "{refused}");
        let viewer = Principal { name: "bob".into(), via: Via::Session { role: Role::Viewer }, address: None };
        assert!(viewer.require(Permission::Admin).unwrap_err().to_string().contains("`bob` is a viewer"));
        assert_eq!(token(vec![Scope::Read], Role::Admin).actor(), "alice (token k8x_abcdefgh…)");
    }
}

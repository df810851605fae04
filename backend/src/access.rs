//! Who may do what, as data: the roles a user has, the scopes an API token carries, and the permissions
//! every route and server function asks for. No I/O here; [`crate::auth`] finds out who is asking.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What a request wants to do. Each route and server function asks for exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// See services, executions and logs (never a secret value: nobody may).
    Read,
    /// Run, cancel and re-run services; sync projects.
    Operate,
    /// Post events to `/api/v1/events`.
    Ingest,
    /// Users, tokens, event sources, secrets, projects, the audit trail.
    Admin,
}

/// A user's role. Stored as its lower-case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Read, run, cancel, re-run, sync.
    Operator,
    /// Read only.
    Viewer,
}

impl Role {
    /// Whether this role may do `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        match self {
            Self::Admin => true,
            Self::Operator => matches!(permission, Permission::Read | Permission::Operate),
            Self::Viewer => permission == Permission::Read,
        }
    }

    /// Whether a user with this role may own a token with `scope`.
    pub fn allows_scope(self, scope: Scope) -> bool {
        match self {
            Self::Admin => true,
            Self::Operator => matches!(scope, Scope::Read | Scope::Operate),
            Self::Viewer => scope == Scope::Read,
        }
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Operator => "operator",
            Self::Viewer => "viewer",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "admin" => Ok(Self::Admin),
            "operator" => Ok(Self::Operator),
            "viewer" => Ok(Self::Viewer),
            other => Err(format!("unknown role `{other}`: use admin, operator or viewer")),
        }
    }
}

/// What an API token may be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `POST /api/v1/events`.
    Ingest,
    /// Read routes.
    Read,
    /// Read, run and cancel.
    Operate,
    /// Everything.
    Admin,
}

impl Scope {
    /// Whether a token with this scope may do `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        match self {
            Self::Admin => true,
            Self::Operate => matches!(permission, Permission::Read | Permission::Operate),
            Self::Read => permission == Permission::Read,
            Self::Ingest => permission == Permission::Ingest,
        }
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ingest => "ingest",
            Self::Read => "read",
            Self::Operate => "operate",
            Self::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "ingest" => Ok(Self::Ingest),
            "read" => Ok(Self::Read),
            "operate" => Ok(Self::Operate),
            "admin" => Ok(Self::Admin),
            other => Err(format!("unknown scope `{other}`: use ingest, read, operate or admin")),
        }
    }
}

/// Parses `ingest,read` (commas or spaces) into scopes; empty is refused.
pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, String> {
    let mut scopes = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<Vec<Scope>, _>>()?;
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Err("a token needs at least one scope: ingest, read, operate or admin".into());
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::{Permission::*, *};

    #[test]
    fn roles_grant_what_they_say() {
        let table = [
            (Role::Viewer, [true, false, false, false]),
            (Role::Operator, [true, true, false, false]),
            (Role::Admin, [true, true, true, true]),
        ];
        for (role, expected) in table {
            let granted = [Read, Operate, Ingest, Admin].map(|p| role.allows(p));
            assert_eq!(granted, expected, "{role:?}");
        }
    }

    #[test]
    fn scopes_grant_what_they_say() {
        let table = [
            (Scope::Ingest, [false, false, true, false]),
            (Scope::Read, [true, false, false, false]),
            (Scope::Operate, [true, true, false, false]),
            (Scope::Admin, [true, true, true, true]),
        ];
        for (scope, expected) in table {
            let granted = [Read, Operate, Ingest, Admin].map(|p| scope.allows(p));
            assert_eq!(granted, expected, "{scope:?}");
        }
    }

    #[test]
    fn scopes_parse_and_name_the_unknown_one() {
        assert_eq!(parse_scopes("read, ingest read").unwrap(), vec![Scope::Ingest, Scope::Read]);
        assert!(parse_scopes("read,write").unwrap_err().contains("`write`"));
        assert!(parse_scopes(" , ").is_err());
        assert_eq!("operator".parse::<Role>(), Ok(Role::Operator));
        assert!("root".parse::<Role>().unwrap_err().contains("root"));
    }
}

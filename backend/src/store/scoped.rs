//! Secrets and configs an admin sets for the whole platform, a project or a service. Secret values are sealed
//! at rest and only ever opened to launch an execution ([`Store::values_for`]); lists carry them sealed.

use chrono::Utc;
use sea_orm::{sea_query::OnConflict, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};

use super::{entities::scoped_value, Result, Store};

/// Whose value it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Platform,
    Project(String),
    Service(String),
}

impl Scope {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Platform => "platform",
            Self::Project(_) => "project",
            Self::Service(_) => "service",
        }
    }

    pub fn owner(&self) -> &str {
        match self {
            Self::Platform => "",
            Self::Project(name) | Self::Service(name) => name,
        }
    }
}

/// A secret (sealed, write-only) or a config (JSON, shown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    Secret,
    Config,
}

impl ValueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Config => "config",
        }
    }
}

impl Store {
    /// Sets `key` of `scope` to `value` (a secret's text, sealed here; a config's JSON).
    pub async fn set_value(&self, scope: &Scope, kind: ValueKind, key: &str, value: &str, by: &str) -> Result<()> {
        use scoped_value::Column as C;
        let value = match kind {
            ValueKind::Secret => self.seal(value),
            ValueKind::Config => value.to_owned(),
        };
        let row = scoped_value::ActiveModel {
            scope: Set(scope.name().to_owned()),
            owner: Set(scope.owner().to_owned()),
            kind: Set(kind.as_str().to_owned()),
            key: Set(key.to_owned()),
            value: Set(value),
            updated_by: Set(by.to_owned()),
            updated_at: Set(Utc::now()),
        };
        scoped_value::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([C::Scope, C::Owner, C::Kind, C::Key])
                    .update_columns([C::Value, C::UpdatedBy, C::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Removes `key` of `scope`; false when it was not set.
    pub async fn remove_value(&self, scope: &Scope, kind: ValueKind, key: &str) -> Result<bool> {
        use scoped_value::Column as C;
        let result = scoped_value::Entity::delete_many()
            .filter(C::Scope.eq(scope.name()))
            .filter(C::Owner.eq(scope.owner()))
            .filter(C::Kind.eq(kind.as_str()))
            .filter(C::Key.eq(key))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The values set for `scope`, by kind and key; secrets still sealed.
    pub async fn values(&self, scope: &Scope) -> Result<Vec<scoped_value::Model>> {
        use scoped_value::Column as C;
        Ok(scoped_value::Entity::find()
            .filter(C::Scope.eq(scope.name()))
            .filter(C::Owner.eq(scope.owner()))
            .order_by_asc(C::Kind)
            .order_by_asc(C::Key)
            .all(&self.db)
            .await?)
    }

    /// Every value that applies to service `service` of project `project` (platform, project and service
    /// scopes), secrets opened: for a launch.
    pub async fn values_for(&self, project: &str, service: &str) -> Result<Vec<scoped_value::Model>> {
        use scoped_value::Column as C;
        let rows = scoped_value::Entity::find()
            .filter(
                Condition::any()
                    .add(C::Scope.eq("platform"))
                    .add(Condition::all().add(C::Scope.eq("project")).add(C::Owner.eq(project)))
                    .add(Condition::all().add(C::Scope.eq("service")).add(C::Owner.eq(service))),
            )
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|mut row| {
                if row.kind == ValueKind::Secret.as_str() {
                    let owner = || format!("{} secret `{}`", row.scope, row.key);
                    row.value = self.open(std::mem::take(&mut row.value), owner)?;
                }
                Ok(row)
            })
            .collect()
    }
}

//! Users: added at first start and by admins, read at every sign-in and session check.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::{entities::user, Result, Store};
use crate::access::Role;

/// How a change that must keep an admin went.
#[derive(Debug, PartialEq, Eq)]
pub enum Guarded {
    Done,
    NoSuchUser,
    /// It would have left no admin; nothing changed.
    LastAdmin,
}

impl Store {
    /// One user by name.
    pub async fn user(&self, name: &str) -> Result<Option<user::Model>> {
        Ok(user::Entity::find_by_id(name.to_owned()).one(&self.db).await?)
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<user::Model>> {
        Ok(user::Entity::find().order_by_asc(user::Column::Name).all(&self.db).await?)
    }

    /// How many users there are.
    pub async fn user_count(&self) -> Result<u64> {
        Ok(user::Entity::find().count(&self.db).await?)
    }

    /// Adds a user; false when the name is taken (by this or another process).
    pub async fn add_user(&self, name: &str, password_hash: &str, role: Role) -> Result<bool> {
        let row = user::ActiveModel {
            name: Set(name.to_owned()),
            password_hash: Set(password_hash.to_owned()),
            role: Set(role),
            created_at: Set(Utc::now()),
        };
        let inserted = user::Entity::insert(row)
            .on_conflict(sea_orm::sea_query::OnConflict::column(user::Column::Name).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .or_else(super::not_inserted_is_fine)?;
        Ok(inserted == 1)
    }

    /// Changes a user's password hash; false when there is no such user.
    pub async fn set_password_hash(&self, name: &str, password_hash: &str) -> Result<bool> {
        let result = user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, password_hash.into())
            .filter(user::Column::Name.eq(name))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Gives `name` another role (`Some`) or removes them and revokes their tokens (`None`), unless that
    /// would leave no admin: one transaction that holds the admin rows (`FOR UPDATE` on PostgreSQL; SQLite
    /// has one writer), so two admins demoting each other at once cannot both succeed.
    pub async fn change_keeping_an_admin(&self, name: &str, role: Option<Role>) -> Result<Guarded> {
        use sea_orm::{QuerySelect, TransactionTrait};
        let tx = self.db.begin().await?;
        let admins = user::Entity::find().filter(user::Column::Role.eq(Role::Admin)).lock_exclusive().all(&tx).await?;
        let demoted = role != Some(Role::Admin);
        if demoted && admins.len() == 1 && admins[0].name == name {
            return Ok(Guarded::LastAdmin);
        }
        let changed = match role {
            Some(role) => {
                let update = user::Entity::update_many().col_expr(user::Column::Role, role.into());
                update.filter(user::Column::Name.eq(name)).exec(&tx).await?.rows_affected == 1
            }
            None => {
                let removed = user::Entity::delete_by_id(name.to_owned()).exec(&tx).await?.rows_affected == 1;
                if removed {
                    Self::revoke_tokens_of(&tx, name).await?;
                }
                removed
            }
        };
        tx.commit().await?;
        self.forget_credentials();
        Ok(if changed { Guarded::Done } else { Guarded::NoSuchUser })
    }
}

//! Users: added at first start and by admins, read at every sign-in and session check.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::{entities::user, Result, Store};
use crate::access::Role;

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

    /// Changes a user's password hash and/or role; false when there is no such user.
    pub async fn update_user(&self, name: &str, password_hash: Option<&str>, role: Option<Role>) -> Result<bool> {
        let mut row = user::ActiveModel { name: Set(name.to_owned()), ..Default::default() };
        if let Some(hash) = password_hash {
            row.password_hash = Set(hash.to_owned());
        }
        if let Some(role) = role {
            row.role = Set(role);
        }
        let result = user::Entity::update_many().set(row).filter(user::Column::Name.eq(name)).exec(&self.db).await?;
        Ok(result.rows_affected == 1)
    }

    /// Removes a user and revokes their tokens, in one transaction; false when there is no such user.
    pub async fn remove_user(&self, name: &str) -> Result<bool> {
        use sea_orm::TransactionTrait;
        let tx = self.db.begin().await?;
        let removed = user::Entity::delete_by_id(name.to_owned()).exec(&tx).await?.rows_affected == 1;
        if removed {
            Self::revoke_tokens_of(&tx, name).await?;
        }
        tx.commit().await?;
        Ok(removed)
    }
}

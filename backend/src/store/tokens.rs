//! API tokens: stored as a SHA-256 hash, looked up by it, revoked rather than deleted.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{entities::api_token, Result, Store};

/// A token to store: everything but the token itself.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub hash: String,
    pub prefix: String,
    pub name: String,
    pub owner: String,
    /// JSON array of scope names.
    pub scopes: String,
}

impl Store {
    /// Stores a token; returns its id. An existing token with the same hash is left as it is (the bootstrap
    /// token of a restart) and its id returned.
    pub async fn add_token(&self, token: NewToken) -> Result<String> {
        if let Some(existing) = self.token_by_hash(&token.hash).await? {
            return Ok(existing.id);
        }
        let id = uuid::Uuid::new_v4().to_string();
        let row = api_token::ActiveModel {
            id: Set(id.clone()),
            hash: Set(token.hash.clone()),
            prefix: Set(token.prefix),
            name: Set(token.name),
            owner: Set(token.owner),
            scopes: Set(token.scopes),
            created_at: Set(Utc::now()),
            last_used_at: Set(None),
            revoked_at: Set(None),
        };
        api_token::Entity::insert(row)
            .on_conflict(sea_orm::sea_query::OnConflict::column(api_token::Column::Hash).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .or_else(super::not_inserted_is_fine)?;
        // Another process may have stored the same (bootstrap) token first: its row is the one.
        Ok(self.token_by_hash(&token.hash).await?.map(|row| row.id).unwrap_or(id))
    }

    /// The token with this hash, revoked or not.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<api_token::Model>> {
        Ok(api_token::Entity::find().filter(api_token::Column::Hash.eq(hash)).one(&self.db).await?)
    }

    /// Every token, newest first.
    pub async fn tokens(&self) -> Result<Vec<api_token::Model>> {
        Ok(api_token::Entity::find().order_by_desc(api_token::Column::CreatedAt).all(&self.db).await?)
    }

    /// Revokes a token by id or by prefix; returns the revoked token, None when there is no live one.
    pub async fn revoke_token(&self, id_or_prefix: &str) -> Result<Option<api_token::Model>> {
        let found = api_token::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(api_token::Column::Id.eq(id_or_prefix))
                    .add(api_token::Column::Prefix.eq(id_or_prefix)),
            )
            .filter(api_token::Column::RevokedAt.is_null())
            .all(&self.db)
            .await?;
        let [token] = found.as_slice() else { return Ok(None) };
        api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Utc::now().into())
            .filter(api_token::Column::Id.eq(&token.id))
            .exec(&self.db)
            .await?;
        self.forget_credentials();
        Ok(Some(token.clone()))
    }

    /// Notes that a token was used at `at`.
    pub async fn touch_token(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, at.into())
            .filter(api_token::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub(super) async fn revoke_tokens_of(db: &impl ConnectionTrait, owner: &str) -> Result<()> {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Utc::now().into())
            .filter(api_token::Column::Owner.eq(owner))
            .filter(api_token::Column::RevokedAt.is_null())
            .exec(db)
            .await?;
        Ok(())
    }
}

//! Event sources that sign their requests: the shared secret is sealed like service secrets.

use chrono::Utc;
use sea_orm::{sea_query::OnConflict, ActiveValue::Set, EntityTrait, QueryOrder};

use super::{entities::event_source, CipherError, Result, SecretCipher, Store, StoreError};

impl Store {
    /// Registers a source with its secret; false when the name is taken.
    pub async fn add_source(&self, name: &str, secret: &str, created_by: &str) -> Result<bool> {
        let secret = match &self.cipher {
            Some(cipher) => cipher.seal(secret),
            None => secret.to_owned(),
        };
        let row = event_source::ActiveModel {
            name: Set(name.to_owned()),
            secret: Set(secret),
            created_by: Set(created_by.to_owned()),
            created_at: Set(Utc::now()),
        };
        let inserted = event_source::Entity::insert(row)
            .on_conflict(OnConflict::column(event_source::Column::Name).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .or_else(super::not_inserted_is_fine)?;
        Ok(inserted == 1)
    }

    /// A source with its secret opened.
    pub async fn source(&self, name: &str) -> Result<Option<event_source::Model>> {
        let Some(mut row) = event_source::Entity::find_by_id(name.to_owned()).one(&self.db).await? else {
            return Ok(None);
        };
        if SecretCipher::is_sealed(&row.secret) {
            let opened = match &self.cipher {
                Some(cipher) => cipher.open(&row.secret),
                None => Err(CipherError::WrongKey),
            };
            row.secret =
                opened.map_err(|source| StoreError::Sealed { owner: format!("event source `{name}`"), source })?;
        }
        Ok(Some(row))
    }

    /// Every source (secrets still sealed: lists never need them).
    pub async fn sources(&self) -> Result<Vec<event_source::Model>> {
        Ok(event_source::Entity::find().order_by_asc(event_source::Column::Name).all(&self.db).await?)
    }

    /// Removes a source; false when there is none.
    pub async fn remove_source(&self, name: &str) -> Result<bool> {
        Ok(event_source::Entity::delete_by_id(name.to_owned()).exec(&self.db).await?.rows_affected == 1)
    }
}

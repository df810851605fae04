//! tower-sessions' `SessionStore` over the k8x database (through the store, so no second database driver):
//! every process sharing the database shares the sessions, and they survive restarts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tower_sessions::{
    session::{Id, Record},
    session_store::{Error, Result},
    SessionStore,
};

use crate::store::Store;

/// Sessions in the `sessions` table.
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    store: Store,
}

impl DbSessionStore {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Removes expired sessions; run now and then.
    pub async fn delete_expired(&self) -> Result<u64> {
        self.store.delete_expired_sessions().await.map_err(backend)
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // A fresh id that collides with a stored one (vanishingly rare) gets another.
        loop {
            let (json, expires) = encode(record)?;
            if self.store.insert_session(&record.id.to_string(), &json, expires).await.map_err(backend)? {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let (json, expires) = encode(record)?;
        self.store.save_session(&record.id.to_string(), &json, expires).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let Some(json) = self.store.session(&id.to_string()).await.map_err(backend)? else { return Ok(None) };
        serde_json::from_str(&json).map(Some).map_err(|e| Error::Decode(e.to_string()))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.store.delete_session(&id.to_string()).await.map_err(backend)
    }
}

fn encode(record: &Record) -> Result<(String, DateTime<Utc>)> {
    let json = serde_json::to_string(record).map_err(|e| Error::Encode(e.to_string()))?;
    let expires = DateTime::from_timestamp(record.expiry_date.unix_timestamp(), 0).unwrap_or_else(Utc::now);
    Ok((json, expires))
}

fn backend(err: crate::store::StoreError) -> Error {
    Error::Backend(err.to_string())
}

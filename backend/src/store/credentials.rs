//! Who an API token belongs to, remembered for [`FRESH_FOR`]: a client sending thousands of requests a second
//! costs two reads every two seconds instead of two per request. A change made by this process (a token
//! revoked, a user's role changed or the user removed) forgets everything at once; one made by another process
//! on the same database holds here for at most [`FRESH_FOR`].

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};

use super::{
    entities::{api_token, user},
    Result, Store,
};

/// How long a token's row and its owner's are used without reading them again.
pub const FRESH_FOR: Duration = Duration::from_secs(2);
/// The most tokens remembered (past it, the cache starts over).
const MOST: usize = 10_000;

/// A token and the user it belongs to. (No `Debug`: the user row holds a password hash.)
#[derive(Clone)]
pub struct TokenOwner {
    pub token: api_token::Model,
    pub owner: user::Model,
}

/// Remembered tokens by hash.
#[derive(Default)]
pub(super) struct Credentials(Mutex<HashMap<String, (Instant, Arc<TokenOwner>)>>);

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.0.lock().map(|remembered| remembered.len()).unwrap_or_default();
        write!(f, "Credentials({count} tokens remembered)")
    }
}

impl Credentials {
    fn forget(&self) {
        self.0.lock().expect("not poisoned").clear();
    }
}

impl Store {
    /// The token with this hash (revoked or not) and its owner; `None` if either is unknown.
    pub async fn token_with_owner(&self, hash: &str) -> Result<Option<Arc<TokenOwner>>> {
        if let Some((at, found)) = self.signals.credentials.0.lock().expect("not poisoned").get(hash) {
            if at.elapsed() < FRESH_FOR {
                return Ok(Some(found.clone()));
            }
        }
        let Some(token) = self.token_by_hash(hash).await? else { return Ok(None) };
        let Some(owner) = self.user(&token.owner).await? else { return Ok(None) };
        let found = Arc::new(TokenOwner { token, owner });
        let mut remembered = self.signals.credentials.0.lock().expect("not poisoned");
        if remembered.len() >= MOST {
            remembered.clear();
        }
        remembered.insert(hash.to_owned(), (Instant::now(), found.clone()));
        Ok(Some(found))
    }

    /// Notes in the remembered row that the token was used at `at` (its row is written separately).
    pub fn remember_token_use(&self, hash: &str, at: DateTime<Utc>) {
        if let Some((_, found)) = self.signals.credentials.0.lock().expect("not poisoned").get_mut(hash) {
            Arc::make_mut(found).token.last_used_at = Some(at);
        }
    }

    /// Forgets every remembered token: a token or a user changed.
    pub(super) fn forget_credentials(&self) {
        self.signals.credentials.forget();
    }
}

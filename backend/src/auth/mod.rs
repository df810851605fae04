//! Who is asking, and proving it: users and their passwords ([`password`]), API tokens ([`token`]), webhook
//! signatures ([`signature`]), browser sessions in the database ([`session_store`]), the first admin
//! ([`bootstrap`]), the rules for managing all of them ([`manage`]), and the limits on guessing and flooding
//! ([`throttle`], [`rate`]). What each caller may do is [`crate::access`]; [`Principal`] carries it to
//! the handlers, which check it.

pub mod bootstrap;
pub mod manage;
pub mod password;
mod principal;
pub mod rate;
pub mod session_store;
pub mod signature;
pub mod throttle;
pub mod token;

pub use principal::{Principal, Via};

use crate::{api_error::ApiError, store::StoreError};

/// Managing users, tokens or sources failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Exists(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error("could not write {path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Invalid(why) => ApiError::BadRequest(why),
            AuthError::Exists(why) => ApiError::Conflict(why),
            AuthError::NotFound(why) => ApiError::NotFound(why),
            AuthError::Hash(busy @ password::HashError::Busy) => ApiError::Unavailable(busy.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

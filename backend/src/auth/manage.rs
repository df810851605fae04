//! Managing users, tokens and event sources: the one place their rules live, used by the admin API, the UI's
//! admin pages and the `k8x user` / `k8x token` / `k8x source` commands alike.

use secrecy::{ExposeSecret, SecretString};

use super::{password, token, AuthError};
use crate::{
    access::{Role, Scope},
    store::{entities::api_token, Guarded, NewToken, Store, WebhookShape},
};

/// A token just made: the only time its value exists outside the caller's hands.
#[derive(Debug)]
pub struct CreatedToken {
    pub id: String,
    pub prefix: String,
    /// Shown once; `Debug` redacts it.
    pub token: SecretString,
}

/// Checks a user or source name: 1–64 of letters, digits, `.`, `_`, `-`, `@`.
pub fn check_name(what: &str, name: &str) -> Result<(), AuthError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::Invalid(format!(
            "{what} name `{}` must be 1 to 64 letters, digits, `.`, `_`, `-` or `@`",
            name.escape_debug()
        )))
    }
}

/// Adds a user with `password`.
pub async fn add_user(store: &Store, name: &str, role: Role, password: SecretString) -> Result<(), AuthError> {
    check_name("user", name)?;
    password::check_strength(&password).map_err(AuthError::Invalid)?;
    let hash = password::hash(password).await?;
    if !store.add_user(name, &hash, role).await? {
        return Err(AuthError::Exists(format!("user `{name}` exists already")));
    }
    Ok(())
}

/// Sets a user's password.
pub async fn set_password(store: &Store, name: &str, password: SecretString) -> Result<(), AuthError> {
    password::check_strength(&password).map_err(AuthError::Invalid)?;
    let hash = password::hash(password).await?;
    found(store.set_password_hash(name, &hash).await?, name)
}

/// Sets a user's role; the last admin keeps theirs.
pub async fn set_role(store: &Store, name: &str, role: Role) -> Result<(), AuthError> {
    guarded(store.change_keeping_an_admin(name, Some(role)).await?, name)
}

/// Removes a user and revokes their tokens; the last admin stays.
pub async fn remove_user(store: &Store, name: &str) -> Result<(), AuthError> {
    guarded(store.change_keeping_an_admin(name, None).await?, name)
}

/// Makes a token for `owner` with `scopes`; the owner's role must allow each scope.
pub async fn create_token(
    store: &Store,
    owner: &str,
    name: &str,
    scopes: &[Scope],
    value: Option<SecretString>,
) -> Result<CreatedToken, AuthError> {
    let user = store.user(owner).await?.ok_or_else(|| AuthError::NotFound(format!("no user `{owner}`")))?;
    if scopes.is_empty() {
        return Err(AuthError::Invalid("a token needs at least one scope: ingest, read, operate or admin".into()));
    }
    if let Some(scope) = scopes.iter().find(|scope| !user.role.allows_scope(**scope)) {
        return Err(AuthError::Invalid(format!(
            "`{owner}` is a {} and cannot own a token with scope `{}`",
            user.role.as_str(),
            scope.as_str()
        )));
    }
    if name.trim().is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(AuthError::Invalid("a token's name is 1 to 100 printable characters".into()));
    }
    let token = value.unwrap_or_else(token::generate);
    if token.expose_secret().len() < token::MIN_LENGTH {
        return Err(AuthError::Invalid(format!("a token needs at least {} characters", token::MIN_LENGTH)));
    }
    let prefix = token::prefix(&token);
    let scopes = serde_json::to_string(scopes).expect("scopes serialize");
    let new = NewToken {
        hash: token::hash(&token),
        prefix: prefix.clone(),
        name: name.to_owned(),
        owner: owner.into(),
        scopes,
    };
    let id = store.add_token(new).await?;
    Ok(CreatedToken { id, prefix, token })
}

/// Revokes a token by id or prefix.
pub async fn revoke_token(store: &Store, id_or_prefix: &str) -> Result<api_token::Model, AuthError> {
    store
        .revoke_token(id_or_prefix)
        .await?
        .ok_or_else(|| AuthError::NotFound(format!("no live token with id or prefix `{id_or_prefix}`")))
}

/// A token's scopes as stored.
pub fn scopes_of(row: &api_token::Model) -> Vec<Scope> {
    serde_json::from_str(&row.scopes).unwrap_or_default()
}

/// Registers an event source with a new random secret, returned once, and how its plain webhooks become
/// events.
pub async fn add_source(
    store: &Store,
    name: &str,
    shape: &WebhookShape,
    created_by: &str,
) -> Result<SecretString, AuthError> {
    check_name("source", name)?;
    check_shape(shape)?;
    let secret = token::generate();
    if !store.add_source(name, secret.expose_secret(), shape, created_by).await? {
        return Err(AuthError::Exists(format!("event source `{name}` exists already")));
    }
    Ok(secret)
}

/// A preset's shape with the given fields laid over it; an unknown preset is refused.
pub fn shape(preset: Option<&str>, given: WebhookShape) -> Result<WebhookShape, AuthError> {
    let base = match preset.filter(|p| !p.is_empty()) {
        Some(name) => WebhookShape::preset(name).ok_or_else(|| {
            AuthError::Invalid(format!("unknown preset `{}`: use github, gitlab, gitea or minio", name.escape_debug()))
        })?,
        None => WebhookShape::default(),
    };
    let pick = |given: Option<String>, base: Option<String>| given.filter(|v| !v.trim().is_empty()).or(base);
    Ok(WebhookShape {
        type_header: pick(given.type_header, base.type_header),
        type_field: pick(given.type_field, base.type_field),
        type_prefix: pick(given.type_prefix, base.type_prefix),
        id_header: pick(given.id_header, base.id_header),
    })
}

/// Header names as HTTP has them, a JSON pointer that starts with `/`, a prefix that fits an event type.
fn check_shape(shape: &WebhookShape) -> Result<(), AuthError> {
    let invalid = |why: String| Err(AuthError::Invalid(why));
    for header in [&shape.type_header, &shape.id_header].into_iter().flatten() {
        if axum::http::HeaderName::from_bytes(header.as_bytes()).is_err() {
            return invalid(format!("`{}` is not an HTTP header name", header.escape_debug()));
        }
    }
    if let Some(field) = &shape.type_field {
        if !field.starts_with('/') {
            return invalid(format!(
                "the type field `{}` must be a JSON pointer such as `/EventName`",
                field.escape_debug()
            ));
        }
    }
    if let Some(prefix) = &shape.type_prefix {
        if prefix.len() > 64 || prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid("a type prefix is at most 64 characters without spaces".into());
        }
    }
    Ok(())
}

fn guarded(outcome: Guarded, name: &str) -> Result<(), AuthError> {
    match outcome {
        Guarded::Done => Ok(()),
        Guarded::NoSuchUser => Err(AuthError::NotFound(format!("no user `{name}`"))),
        Guarded::LastAdmin => Err(AuthError::Invalid(format!("`{name}` is the last admin; make another admin first"))),
    }
}

fn found(updated: bool, name: &str) -> Result<(), AuthError> {
    updated.then_some(()).ok_or_else(|| AuthError::NotFound(format!("no user `{name}`")))
}

//! The admin pages' server functions: users, API tokens, event sources, the audit trail. Admins only; every
//! change goes to the audit trail. A created token, source secret or generated password is returned once.

use leptos::prelude::*;
use model::access::{AuditView, SourceView, TokenView, UserView};

#[cfg(feature = "ssr")]
use super::{allowed, audit, internal, state};
#[cfg(feature = "ssr")]
use backend::{access::Permission::Admin, auth::manage};

#[cfg(feature = "ssr")]
fn refused(err: backend::auth::AuthError) -> ServerFnError {
    match err {
        backend::auth::AuthError::Store(err) => internal(err),
        other => ServerFnError::new(other.to_string()),
    }
}

#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserView>, ServerFnError> {
    allowed(Admin).await?;
    backend::views::access::users(&state()?.store).await.map_err(internal)
}

/// Adds a user; with an empty `password`, makes one and returns it.
#[server(endpoint = "add_user")]
pub async fn add_user(name: String, role: String, password: String) -> Result<Option<String>, ServerFnError> {
    let principal = allowed(Admin).await?;
    let role = role.parse().map_err(ServerFnError::new)?;
    let generated = password.is_empty();
    let password = if generated { backend::auth::password::generate() } else { password.into() };
    manage::add_user(&state()?.store, name.trim(), role, password.clone()).await.map_err(refused)?;
    audit(principal.audit("user-add", name.trim())).await?;
    Ok(generated.then(|| secrecy::ExposeSecret::expose_secret(&password).to_owned()))
}

#[server(endpoint = "set_user_role")]
pub async fn set_user_role(name: String, role: String) -> Result<(), ServerFnError> {
    let principal = allowed(Admin).await?;
    let role: backend::access::Role = role.parse().map_err(ServerFnError::new)?;
    manage::set_role(&state()?.store, &name, role).await.map_err(refused)?;
    audit(principal.audit("user-role", format!("{name} → {}", role.as_str()))).await
}

/// Gives a user a new random password and returns it.
#[server(endpoint = "reset_password")]
pub async fn reset_password(name: String) -> Result<String, ServerFnError> {
    let principal = allowed(Admin).await?;
    let password = backend::auth::password::generate();
    manage::set_password(&state()?.store, &name, password.clone()).await.map_err(refused)?;
    audit(principal.audit("user-password", &name)).await?;
    Ok(secrecy::ExposeSecret::expose_secret(&password).to_owned())
}

#[server(endpoint = "remove_user")]
pub async fn remove_user(name: String) -> Result<(), ServerFnError> {
    let principal = allowed(Admin).await?;
    manage::remove_user(&state()?.store, &name).await.map_err(refused)?;
    audit(principal.audit("user-remove", &name)).await
}

#[server(endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenView>, ServerFnError> {
    allowed(Admin).await?;
    backend::views::access::tokens(&state()?.store).await.map_err(internal)
}

/// Creates a token (`scopes` like `ingest,read`) for `owner` (the caller when empty); returns it, once.
#[server(endpoint = "create_token")]
pub async fn create_token(name: String, scopes: String, owner: String) -> Result<String, ServerFnError> {
    let principal = allowed(Admin).await?;
    let scopes = backend::access::parse_scopes(&scopes).map_err(ServerFnError::new)?;
    let owner = if owner.trim().is_empty() { principal.name.clone() } else { owner.trim().to_owned() };
    let created = manage::create_token(&state()?.store, &owner, &name, &scopes, None).await.map_err(refused)?;
    audit(principal.audit("token-create", format!("{}… ({name})", created.prefix))).await?;
    Ok(secrecy::ExposeSecret::expose_secret(&created.token).to_owned())
}

#[server(endpoint = "revoke_token")]
pub async fn revoke_token(id: String) -> Result<(), ServerFnError> {
    let principal = allowed(Admin).await?;
    let revoked = manage::revoke_token(&state()?.store, &id).await.map_err(refused)?;
    audit(principal.audit("token-revoke", format!("{}… ({})", revoked.prefix, revoked.name))).await
}

#[server(endpoint = "list_sources")]
pub async fn list_sources() -> Result<Vec<SourceView>, ServerFnError> {
    allowed(Admin).await?;
    backend::views::access::sources(&state()?.store).await.map_err(internal)
}

/// Registers an event source (`preset` github / gitlab / gitea / minio, or the shape's fields); returns its
/// secret, once.
#[server(endpoint = "add_source")]
pub async fn add_source(
    name: String,
    preset: Option<String>,
    type_header: Option<String>,
    type_field: Option<String>,
    type_prefix: Option<String>,
    id_header: Option<String>,
) -> Result<String, ServerFnError> {
    let principal = allowed(Admin).await?;
    let given = backend::store::WebhookShape { type_header, type_field, type_prefix, id_header };
    let shape = manage::shape(preset.as_deref(), given).map_err(refused)?;
    let secret = manage::add_source(&state()?.store, name.trim(), &shape, &principal.name).await.map_err(refused)?;
    audit(principal.audit("source-add", name.trim())).await?;
    Ok(secrecy::ExposeSecret::expose_secret(&secret).to_owned())
}

#[server(endpoint = "remove_source")]
pub async fn remove_source(name: String) -> Result<(), ServerFnError> {
    let principal = allowed(Admin).await?;
    if !state()?.store.remove_source(&name).await.map_err(internal)? {
        return Err(ServerFnError::new(format!("no event source `{name}`")));
    }
    audit(principal.audit("source-remove", &name)).await
}

#[server(endpoint = "audit_trail")]
pub async fn audit_trail() -> Result<Vec<AuditView>, ServerFnError> {
    allowed(Admin).await?;
    backend::views::access::audit(&state()?.store, 500).await.map_err(internal)
}

#[server(endpoint = "list_dead_letters")]
pub async fn list_dead_letters() -> Result<Vec<model::access::DeadLetterView>, ServerFnError> {
    allowed(Admin).await?;
    backend::views::access::dead_letters(&state()?.store, 500).await.map_err(internal)
}

/// Puts a dead letter back on the bus.
#[server(endpoint = "replay_dead_letter")]
pub async fn replay_dead_letter(id: i64) -> Result<(), ServerFnError> {
    let principal = allowed(Admin).await?;
    backend::web::dead_letters::replay_one(&state()?, &principal, id)
        .await
        .map_err(|refused| ServerFnError::new(refused.to_string()))
}

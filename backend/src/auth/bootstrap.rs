//! The first start: with no users, k8x makes `admin` — with `K8X_ADMIN_PASSWORD`, or a random password it
//! writes to `admin-password` (0600) in the data directory and names in its log — and an ingest token for
//! the quickstart in `ingest-token` (0600). `K8X_BOOTSTRAP_TOKEN` is stored as an admin-scoped token at every
//! start (once). Several processes starting together make one admin: the first insert wins.

use secrecy::ExposeSecret;

use super::{manage, password, AuthError};
use crate::{access::Role, access::Scope, config::Config, store::Store};

/// The first admin's name.
pub const ADMIN: &str = "admin";
/// The generated first admin password, in the data directory.
pub const PASSWORD_FILE: &str = "admin-password";
/// The quickstart's ingest token, in the data directory.
pub const TOKEN_FILE: &str = "ingest-token";

/// Makes the first admin and tokens as configured; a no-op once users exist.
pub async fn bootstrap(config: &Config, store: &Store) -> Result<(), AuthError> {
    if store.user_count().await? == 0 {
        first_admin(config, store).await?;
    }
    if let Some(value) = &config.bootstrap_token {
        // Owned by `admin`, or (if that user was removed or demoted since) the first admin by name.
        let users = store.users().await?;
        let admins: Vec<_> = users.iter().filter(|u| u.role == Role::Admin).map(|u| u.name.as_str()).collect();
        let owner = admins.iter().find(|n| **n == ADMIN).or(admins.first()).copied().unwrap_or(ADMIN);
        let created =
            manage::create_token(store, owner, "K8X_BOOTSTRAP_TOKEN", &[Scope::Admin], Some(value.clone())).await;
        match created {
            Ok(token) => {
                tracing::info!(prefix = %token.prefix, "the bootstrap token (K8X_BOOTSTRAP_TOKEN) is an admin token")
            }
            Err(err) => return Err(AuthError::Invalid(format!("K8X_BOOTSTRAP_TOKEN: {err}"))),
        }
    }
    Ok(())
}

async fn first_admin(config: &Config, store: &Store) -> Result<(), AuthError> {
    let generated = config.admin_password.is_none();
    let password = config.admin_password.clone().unwrap_or_else(password::generate);
    if !generated {
        password::check_strength(&password).map_err(|e| AuthError::Invalid(format!("K8X_ADMIN_PASSWORD: {e}")))?;
    }
    let hash = password::hash(password.clone()).await?;
    if !store.add_user(ADMIN, &hash, Role::Admin).await? {
        return Ok(()); // another process was first
    }
    if !generated {
        tracing::info!("created user `{ADMIN}` with the password from K8X_ADMIN_PASSWORD");
        return Ok(());
    }
    let path = config.data_dir.join(PASSWORD_FILE);
    crate::private_file::write(&path, password.expose_secret().as_bytes(), true)
        .map_err(|source| AuthError::File { path: path.display().to_string(), source })?;
    tracing::warn!(
        "created user `{ADMIN}`; its password is in {} (readable by this user only). Sign in, then change it with \
         `k8x user passwd {ADMIN}` and delete the file",
        path.display()
    );
    let token = manage::create_token(store, ADMIN, "quickstart", &[Scope::Ingest], None).await?;
    let path = config.data_dir.join(TOKEN_FILE);
    crate::private_file::write(&path, token.token.expose_secret().as_bytes(), true)
        .map_err(|source| AuthError::File { path: path.display().to_string(), source })?;
    tracing::info!(prefix = %token.prefix, "an ingest token for the quickstart is in {}", path.display());
    Ok(())
}

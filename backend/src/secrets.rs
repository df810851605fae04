//! The key that seals service secrets at rest: `K8X_SECRET_KEY` (base64 of 32 bytes), else `secret.key` in
//! the data directory, generated with mode 0600 on the first start. A value sealed with the key is kept in
//! the database, so that a start with another key (or none, once secrets are stored) stops with a message
//! instead of failing later on every secret.

use std::path::Path;

use secrecy::ExposeSecret;

use crate::{
    config::Config,
    store::{CipherError, SecretCipher, Store, StoreError},
};

/// The key file in the data directory, when `K8X_SECRET_KEY` is not set.
pub const KEY_FILE: &str = "secret.key";
/// The setting holding the sealed check value.
const CHECK: &str = "secret_key_check";
/// What the check value opens to.
const CHECK_TEXT: &str = "k8x secret key check";

/// The secret key is missing, malformed or not the one the stored secrets were sealed with.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(
        "secrets are stored encrypted in this database but there is no key: set K8X_SECRET_KEY, or restore {path}"
    )]
    Missing { path: String },
    #[error("the secret key does not open the secrets stored in this database ({source}); start with the key they were stored with (K8X_SECRET_KEY or {KEY_FILE} in the data directory)")]
    WrongKey { source: CipherError },
    #[error("{origin}: {source}")]
    BadKey { origin: String, source: CipherError },
    #[error("the secret key file {path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The cipher for this database's secrets, from the configured key or the key file (made on first use).
pub async fn unlock(config: &Config, store: &Store) -> Result<SecretCipher, SecretsError> {
    let stored = store.setting(CHECK).await?.is_some() || store.has_sealed_secrets().await?;
    let cipher = match &config.secret_key {
        Some(key) => SecretCipher::from_base64(key.expose_secret())
            .map_err(|source| SecretsError::BadKey { origin: "K8X_SECRET_KEY".into(), source })?,
        None => key_file(&config.data_dir, stored)?,
    };
    let check = store.setting_or_insert(CHECK, &cipher.seal(CHECK_TEXT)).await?;
    match cipher.open(&check) {
        Ok(text) if text == CHECK_TEXT => Ok(cipher),
        Ok(_) => Err(SecretsError::WrongKey { source: CipherError::Malformed }),
        Err(source) => Err(SecretsError::WrongKey { source }),
    }
}

/// The key in `dir/secret.key`; made (0600) when missing, unless secrets are stored already.
fn key_file(dir: &Path, stored: bool) -> Result<SecretCipher, SecretsError> {
    let path = dir.join(KEY_FILE);
    let shown = path.display().to_string();
    let file_error = |source| SecretsError::File { path: shown.clone(), source };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            SecretCipher::from_base64(&text).map_err(|source| SecretsError::BadKey { origin: shown.clone(), source })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && stored => Err(SecretsError::Missing { path: shown }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretCipher::generate_key();
            crate::private_file::write(&path, key.as_bytes(), false).map_err(file_error)?;
            tracing::info!(path = %shown, "generated the key that seals service secrets; keep it with the database");
            SecretCipher::from_base64(&key).map_err(|source| SecretsError::BadKey { origin: shown.clone(), source })
        }
        Err(e) => Err(file_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, QueryFilter};

    use super::*;
    use crate::{executor::environment::tests::service_row, store::entities::service};

    async fn setup() -> (tempfile::TempDir, Config, Store) {
        let dir = tempfile::tempdir().unwrap();
        let config = Config { data_dir: dir.path().join("data"), ..Config::default() };
        let store = Store::connect(&config.database_url()).await.unwrap();
        (dir, config, store)
    }

    #[tokio::test]
    async fn secrets_are_sealed_in_the_database_and_opened_with_the_generated_key() {
        let (_dir, config, store) = setup().await;
        let cipher = unlock(&config, &store).await.unwrap();
        let key = config.data_dir.join(KEY_FILE);
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions()) & 0o777,
            0o600
        );
        let sealing = store.clone().with_cipher(cipher);
        sealing.upsert_service(service_row()).await.unwrap();
        let raw = service::Entity::find()
            .filter(sea_orm::ColumnTrait::eq(&service::Column::Name, "hello"))
            .one(store.db())
            .await
            .unwrap()
            .unwrap();
        let stored = raw.secrets.unwrap();
        assert!(stored.starts_with("v1:") && !stored.contains("t0ps3cret"), "sealed at rest: {stored}");
        assert_eq!(
            sealing.service("hello").await.unwrap().unwrap().secrets.as_deref(),
            Some(r#"{"API_TOKEN": "t0ps3cret"}"#)
        );
        let err = store.service("hello").await.unwrap_err().to_string();
        assert!(err.starts_with("the secrets of service `hello` cannot be read"), "{err}");

        // The next start opens them with the same key file.
        let again = unlock(&config, &store).await.unwrap();
        assert_eq!(
            store.clone().with_cipher(again).services().await.unwrap()[0].secrets.as_deref(),
            Some(r#"{"API_TOKEN": "t0ps3cret"}"#)
        );

        // Another key is refused at start, with a message that says so.
        let wrong = Config { secret_key: Some(SecretCipher::generate_key().into()), ..config.clone() };
        let err = unlock(&wrong, &store).await.unwrap_err().to_string();
        assert!(err.starts_with("the secret key does not open the secrets stored in this database"), "{err}");
        let malformed = Config { secret_key: Some("not-a-key".to_owned().into()), ..config.clone() };
        assert!(unlock(&malformed, &store).await.unwrap_err().to_string().starts_with("K8X_SECRET_KEY: "));

        // A lost key file is not silently replaced while sealed secrets exist.
        std::fs::remove_file(&key).unwrap();
        let err = unlock(&config, &store).await.unwrap_err().to_string();
        assert!(err.starts_with("secrets are stored encrypted in this database but there is no key"), "{err}");
        assert!(!key.exists());
    }

    #[tokio::test]
    async fn a_configured_key_is_used_and_checked() {
        let (_dir, config, store) = setup().await;
        let key = SecretCipher::generate_key();
        let configured = Config { secret_key: Some(key.clone().into()), ..config.clone() };
        unlock(&configured, &store).await.unwrap();
        assert!(!config.data_dir.join(KEY_FILE).exists(), "no key file when the key is configured");
        unlock(&configured, &store).await.unwrap();
        // Without it, a generated key would not open the check: refused.
        let err = unlock(&config, &store).await.unwrap_err().to_string();
        assert!(err.contains("there is no key") || err.contains("does not open"), "{err}");
    }
}

//! Passwords: Argon2id with a random salt, in PHC string format; checked off the async threads (hashing is
//! slow on purpose). Also the random passwords k8x makes for the first admin and `k8x user add`.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use rand::{distr::Alphanumeric, Rng};
use secrecy::{ExposeSecret, SecretString};

/// The shortest password k8x accepts.
pub const MIN_LENGTH: usize = 12;

/// Hashes at once: each takes ~19 MiB and a core for a moment, so a flood of sign-ins waits here (and is
/// told k8x is busy) instead of exhausting memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
/// The longest a sign-in waits for its turn.
const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Hashing failed (never for a valid input; the message is argon2's), or k8x is too busy hashing.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("could not hash the password: {0}")]
    Failed(String),
    #[error("k8x is busy checking passwords; try again in a moment")]
    Busy,
}

async fn turn() -> Result<tokio::sync::SemaphorePermit<'static>, HashError> {
    match tokio::time::timeout(HASHING_WAIT, HASHING.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(HashError::Busy),
    }
}

/// The PHC hash of `password`.
pub async fn hash(password: SecretString) -> Result<String, HashError> {
    let _turn = turn().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| HashError::Failed(e.to_string()))
    })
    .await
    .map_err(|e| HashError::Failed(e.to_string()))?
}

/// Whether `password` matches `hash`. With no hash (no such user) a dummy hash is checked all the same, so
/// that an unknown name takes as long as a wrong password.
pub async fn verify(password: SecretString, hash: Option<String>) -> Result<bool, HashError> {
    let _turn = turn().await?;
    let checked = tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY.to_owned());
        let Ok(parsed) = PasswordHash::new(&hash) else { return false };
        let matches = Argon2::default().verify_password(password.expose_secret().as_bytes(), &parsed).is_ok();
        known && matches
    })
    .await;
    Ok(checked.unwrap_or(false))
}

/// Refuses passwords too short to be one.
pub fn check_strength(password: &SecretString) -> Result<(), String> {
    let length = password.expose_secret().chars().count();
    if length < MIN_LENGTH {
        return Err(format!("a password needs at least {MIN_LENGTH} characters (this one has {length})"));
    }
    Ok(())
}

/// A random 24-character password.
pub fn generate() -> SecretString {
    let password: String = rand::rng().sample_iter(&Alphanumeric).take(24).map(char::from).collect();
    password.into()
}

/// The hash of a random password nobody knows, for [`verify`] of unknown names.
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Mz3ftVWUZtRZpM8jpvn8Tw5G0N4Ydb5fRO6GAxKWlGE";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = hash("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"), "the hash must not carry the password");
        assert!(verify("correct horse battery".into(), Some(hash.clone())).await.unwrap());
        assert!(!verify("correct horse battery!".into(), Some(hash.clone())).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap(), "an unknown user never signs in");
        assert!(!verify("x".into(), Some("not a hash".into())).await.unwrap());
        let again = super::hash("correct horse battery".into()).await.unwrap();
        assert_ne!(hash, again, "each hash has its own salt");
    }

    #[test]
    fn short_passwords_are_refused_and_generated_ones_are_not() {
        assert!(check_strength(&"short".into()).unwrap_err().contains("12"));
        let generated = generate();
        assert!(check_strength(&generated).is_ok());
        assert_ne!(generate().expose_secret(), generated.expose_secret());
    }
}

/// A short fingerprint of a stored hash: a session remembers it, so that a new password (or a user removed
/// and made again under the same name) ends the sessions signed in with the old one.
pub fn fingerprint(hash: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(hash.as_bytes())[..8])
}

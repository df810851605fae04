//! Secrets at rest: service secrets are sealed with XChaCha20-Poly1305 (an AEAD: a changed or foreign
//! ciphertext does not open) before they reach the database, and opened when read. A sealed value is
//! `v1:` + base64(24-byte random nonce ‖ ciphertext), so a future key or cipher can be told apart.

use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng},
    XChaCha20Poly1305, XNonce,
};

/// What a sealed value starts with.
const PREFIX: &str = "v1:";
/// XChaCha20's nonce length.
const NONCE_LEN: usize = 24;

/// A value could not be opened.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CipherError {
    #[error("the secret key is not 32 bytes of base64")]
    BadKey,
    #[error("a sealed value is malformed")]
    Malformed,
    #[error("a sealed value does not open with this key (a different key, or the value was changed)")]
    WrongKey,
}

/// Seals and opens secrets under one key. Its `Debug` shows nothing of the key.
#[derive(Clone)]
pub struct SecretCipher {
    aead: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretCipher(..)")
    }
}

impl SecretCipher {
    /// A cipher for a key given as base64 of 32 bytes.
    pub fn from_base64(key: &str) -> Result<Self, CipherError> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| CipherError::BadKey)?;
        let aead = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| CipherError::BadKey)?;
        Ok(Self { aead })
    }

    /// A new random key, as base64.
    pub fn generate_key() -> String {
        STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// Whether `text` is a sealed value (rather than a plain one stored before encryption existed).
    pub fn is_sealed(text: &str) -> bool {
        text.starts_with(PREFIX)
    }

    /// Seals `plain` under a fresh random nonce.
    pub fn seal(&self, plain: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self.aead.encrypt(&nonce, plain.as_bytes()).expect("encryption of a buffer in memory cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("{PREFIX}{}", STANDARD.encode(bytes))
    }

    /// Opens a value sealed under this key.
    pub fn open(&self, text: &str) -> Result<String, CipherError> {
        let encoded = text.strip_prefix(PREFIX).ok_or(CipherError::Malformed)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| CipherError::Malformed)?;
        if bytes.len() < NONCE_LEN {
            return Err(CipherError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = self.aead.decrypt(XNonce::from_slice(nonce), sealed).map_err(|_| CipherError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| CipherError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_unchanged() {
        let cipher = SecretCipher::from_base64(&SecretCipher::generate_key()).unwrap();
        let sealed = cipher.seal(r#"{"TOKEN":"s3cr3t"}"#);
        assert!(SecretCipher::is_sealed(&sealed) && !sealed.contains("s3cr3t"));
        assert_ne!(sealed, cipher.seal(r#"{"TOKEN":"s3cr3t"}"#), "a fresh nonce each time");
        assert_eq!(cipher.open(&sealed).unwrap(), r#"{"TOKEN":"s3cr3t"}"#);
        let other = SecretCipher::from_base64(&SecretCipher::generate_key()).unwrap();
        assert_eq!(other.open(&sealed), Err(CipherError::WrongKey));
        let mut bytes = STANDARD.decode(&sealed[3..]).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        assert_eq!(cipher.open(&format!("v1:{}", STANDARD.encode(bytes))), Err(CipherError::WrongKey), "tampered");
        assert_eq!(cipher.open("v1:AAAA"), Err(CipherError::Malformed));
        assert_eq!(cipher.open("plain"), Err(CipherError::Malformed));
        assert_eq!(SecretCipher::from_base64("c2hvcnQ=").unwrap_err(), CipherError::BadKey);
        assert_eq!(format!("{cipher:?}"), "SecretCipher(..)");
    }
}

//! API tokens: `k8x_` and 40 random alphanumerics, shown once; k8x keeps only the SHA-256 (a token is
//! random enough that a slow hash adds nothing) and the first characters, to recognise it in a list.

use rand::{distr::Alphanumeric, Rng};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// How many leading characters of a token are kept to show.
const PREFIX_LEN: usize = 12;
/// The shortest token accepted from configuration (`K8X_BOOTSTRAP_TOKEN`).
pub const MIN_LENGTH: usize = 24;

/// A new random token.
pub fn generate() -> SecretString {
    let random: String = rand::rng().sample_iter(&Alphanumeric).take(40).map(char::from).collect();
    format!("k8x_{random}").into()
}

/// The stored form of a token.
pub fn hash(token: &SecretString) -> String {
    hex::encode(Sha256::digest(token.expose_secret().as_bytes()))
}

/// The part of a token shown in lists.
pub fn prefix(token: &SecretString) -> String {
    token.expose_secret().chars().take(PREFIX_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_and_prefix_are_kept() {
        let (one, two) = (generate(), generate());
        assert_ne!(one.expose_secret(), two.expose_secret());
        assert!(one.expose_secret().starts_with("k8x_") && one.expose_secret().len() == 44);
        assert_eq!(hash(&one), hash(&one.expose_secret().to_owned().into()));
        assert_ne!(hash(&one), hash(&two));
        assert_eq!(hash(&one).len(), 64);
        assert!(!hash(&one).contains(&one.expose_secret()[4..]));
        assert_eq!(prefix(&one), one.expose_secret()[..12]);
        // The well-known SHA-256 of "abc".
        assert_eq!(hash(&"abc".to_owned().into()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}

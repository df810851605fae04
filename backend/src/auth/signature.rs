//! Webhook signatures: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` under a secret shared
//! with the sender (GitHub's scheme, also used by Gitea and others). Compared in constant time by the MAC.
//! GitLab sends the shared secret itself instead (`X-Gitlab-Token`), compared in constant time too.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The header that carries the signature.
pub const HEADER: &str = "x-hub-signature-256";

/// The header GitLab sends the shared secret in.
pub const TOKEN_HEADER: &str = "x-gitlab-token";

/// Why a signature was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error(
        "the request is not signed: send X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body> (or the secret as \
         X-Gitlab-Token)"
    )]
    Missing,
    #[error("X-Hub-Signature-256 must be `sha256=` and 64 hex digits")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body under this source's secret")]
    Mismatch,
    #[error("X-Gitlab-Token is not this source's secret")]
    WrongToken,
}

/// Checks a request's headers: the signature when one is sent, else GitLab's token.
pub fn verify_request(
    secret: &[u8],
    body: &[u8],
    signature: Option<&str>,
    token: Option<&str>,
) -> Result<(), SignatureError> {
    match (signature, token) {
        (None, Some(token)) => verify_token(secret, token),
        (signature, _) => verify(secret, body, signature),
    }
}

/// Checks a shared secret sent as it is (GitLab's `X-Gitlab-Token`), in constant time.
pub fn verify_token(secret: &[u8], token: &str) -> Result<(), SignatureError> {
    use subtle::ConstantTimeEq;
    // Comparing digests keeps the time independent of the lengths as well.
    let (want, given) = (Sha256::digest(secret), Sha256::digest(token.as_bytes()));
    if bool::from(want.ct_eq(&given)) {
        Ok(())
    } else {
        Err(SignatureError::WrongToken)
    }
}

/// Checks `header` (the header's value, if sent) against `body` under `secret`.
pub fn verify(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let digest = header.trim().strip_prefix("sha256=").ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(digest).map_err(|_| SignatureError::Malformed)?;
    if expected.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    mac(secret, body).verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// The header value a sender computes (also what tests and `k8x source` examples use).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex::encode(mac(secret, body).finalize().into_bytes()))
}

fn mac(secret: &[u8], body: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_documented_example_verifies() {
        // From GitHub's "Validating webhook deliveries".
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(verify(b"It's a Secret to Everybody", b"Hello, World!", Some(header)), Ok(()));
        assert_eq!(sign(b"It's a Secret to Everybody", b"Hello, World!"), header);
    }

    #[test]
    fn gitlabs_token_is_the_secret_itself_and_a_signature_comes_first() {
        assert_eq!(verify_request(b"secret", b"body", None, Some("secret")), Ok(()));
        assert_eq!(verify_request(b"secret", b"body", None, Some("secre")), Err(SignatureError::WrongToken));
        assert_eq!(verify_request(b"secret", b"body", None, Some("")), Err(SignatureError::WrongToken));
        let wrong = sign(b"other", b"body");
        assert_eq!(verify_request(b"secret", b"body", Some(&wrong), Some("secret")), Err(SignatureError::Mismatch));
        assert_eq!(verify_request(b"secret", b"body", None, None), Err(SignatureError::Missing));
    }

    #[test]
    fn anything_else_is_refused_with_its_reason() {
        let good = sign(b"secret", b"body");
        assert_eq!(verify(b"secret", b"body!", Some(&good)), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"other", b"body", Some(&good)), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"secret", b"body", None), Err(SignatureError::Missing));
        assert_eq!(verify(b"secret", b"body", Some("sha1=abc")), Err(SignatureError::Malformed));
        assert_eq!(verify(b"secret", b"body", Some("sha256=zz")), Err(SignatureError::Malformed));
        assert_eq!(verify(b"secret", b"body", Some(&good[..good.len() - 2])), Err(SignatureError::Malformed));
    }
}

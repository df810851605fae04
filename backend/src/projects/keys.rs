//! The SSH deploy key k8x generates for a project whose repository is reached over ssh: Ed25519, the private
//! half in OpenSSH format (sealed in the store), the public half shown to paste into the Git host.

use secrecy::SecretString;
use ssh_key::{rand_core::OsRng, Algorithm, LineEnding, PrivateKey};

/// A new key pair: (private key in OpenSSH format, public key line `ssh-ed25519 AAAA… k8x-<project>`).
pub fn generate(project: &str) -> Result<(SecretString, String), ssh_key::Error> {
    let mut key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519)?;
    key.set_comment(format!("k8x-{project}"));
    let private = key.to_openssh(LineEnding::LF)?;
    let public = key.public_key().to_openssh()?;
    Ok((SecretString::from(private.to_string()), public))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn a_generated_key_reads_back_and_its_public_half_matches() {
        let (private, public) = generate("demo").unwrap();
        assert!(public.starts_with("ssh-ed25519 ") && public.ends_with(" k8x-demo"), "{public}");
        let read = PrivateKey::from_openssh(private.expose_secret()).unwrap();
        assert_eq!(read.public_key().to_openssh().unwrap(), public);
        assert_ne!(generate("demo").unwrap().1, public, "every key is new");
    }
}

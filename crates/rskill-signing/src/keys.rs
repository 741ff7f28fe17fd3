//! P-256 keys from PEM files, and key ids. A key id is the SHA-256 (hex) of the public
//! key's SubjectPublicKeyInfo PEM, exactly what `model_signing` writes into a bundle's
//! `verificationMaterial.publicKey.hint` and checks when verifying.

use std::path::Path;

use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use sha2::{Digest, Sha256};

use crate::SigningError;

/// A signing key (P-256 private key).
#[derive(Clone)]
pub struct PrivateKey {
    key: SigningKey,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.public().id())
    }
}

/// A verifying key (P-256 public key) with its PEM and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    pem: String,
    id: String,
}

impl PrivateKey {
    /// A fresh random key.
    pub fn generate() -> PrivateKey {
        PrivateKey {
            key: SigningKey::random(&mut rand_core::OsRng),
        }
    }

    /// Reads a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`) or SEC1 (`BEGIN EC
    /// PRIVATE KEY`, what `openssl ecparam -genkey` writes). Unencrypted.
    pub fn from_pem(text: &str, origin: &str) -> Result<PrivateKey, SigningError> {
        let key = SigningKey::from_pkcs8_pem(text)
            .or_else(|_| p256::SecretKey::from_sec1_pem(text).map(SigningKey::from))
            .map_err(|_| SigningError::Key {
                path: origin.to_string(),
                problem: "not an unencrypted P-256 (prime256v1) private key in PEM".into(),
            })?;
        Ok(PrivateKey { key })
    }

    pub fn read(path: &Path) -> Result<PrivateKey, SigningError> {
        let text = read_text(path)?;
        PrivateKey::from_pem(&text, &path.display().to_string())
    }

    /// PKCS#8 PEM, to write to a file.
    pub fn to_pem(&self) -> String {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|z| z.to_string())
            .expect("a P-256 key always encodes")
    }

    pub fn public(&self) -> PublicKey {
        PublicKey::from_verifying(*self.key.verifying_key())
    }

    pub(crate) fn signing(&self) -> &SigningKey {
        &self.key
    }
}

impl PublicKey {
    fn from_verifying(key: VerifyingKey) -> PublicKey {
        let pem = key
            .to_public_key_pem(LineEnding::LF)
            .expect("a P-256 key always encodes");
        let id = hex::encode(Sha256::digest(pem.as_bytes()));
        PublicKey { key, pem, id }
    }

    /// Reads a SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`) holding a P-256 key.
    pub fn from_pem(text: &str, origin: &str) -> Result<PublicKey, SigningError> {
        let key = VerifyingKey::from_public_key_pem(text).map_err(|_| SigningError::Key {
            path: origin.to_string(),
            problem: "not a P-256 (prime256v1) public key in PEM (BEGIN PUBLIC KEY)".into(),
        })?;
        Ok(PublicKey::from_verifying(key))
    }

    pub fn read(path: &Path) -> Result<PublicKey, SigningError> {
        let text = read_text(path)?;
        PublicKey::from_pem(&text, &path.display().to_string())
    }

    /// The key id: SHA-256 hex of the public PEM.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn pem(&self) -> &str {
        &self.pem
    }

    pub(crate) fn verifying(&self) -> &VerifyingKey {
        &self.key
    }
}

fn read_text(path: &Path) -> Result<String, SigningError> {
    let bytes = std::fs::read(path).map_err(|e| SigningError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    String::from_utf8(bytes).map_err(|_| SigningError::Key {
        path: path.display().to_string(),
        problem: "not a PEM text file".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_round_trips_through_pem() {
        let key = PrivateKey::generate();
        let back = PrivateKey::from_pem(&key.to_pem(), "k").unwrap();
        assert_eq!(back.public().id(), key.public().id());
        let public = PublicKey::from_pem(key.public().pem(), "p").unwrap();
        assert_eq!(public.id(), key.public().id());
        assert!(PublicKey::from_pem("nope", "p").is_err());
    }
}

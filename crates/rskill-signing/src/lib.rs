//! OpenSSF Model Signing (OMS v1.0) for skill folders, in the exact format the
//! `model_signing` Python package writes and reads with its elliptic-curve key
//! signer/verifier, so a skill signed here verifies there and the other way round.
//!
//! - [`folder`]: the per-file SHA-256 digests of a folder (the `files` serialization
//!   and its ignore paths: the signature file itself and git's files);
//! - [`statement`]: the in-toto Statement v1 with predicate
//!   `https://model_signing/signature/v1.0` (resources, serialization, subject digest);
//! - [`bundle`]: the Sigstore bundle v0.3 JSON holding a DSSE envelope, its PAE, and
//!   the P-256 ECDSA signature over it;
//! - [`keys`]: P-256 keys from PEM files and their ids (the SHA-256 of the public PEM,
//!   as `model_signing` records it in `verificationMaterial.publicKey.hint`);
//! - [`weights_lock`]: the file a publisher writes into a skill repo to pin the
//!   upstream weights by content, signed with the rest of the skill;
//! - [`check`]: comparing a signed manifest with the files actually present;
//! - [`governance`]: the signed governance state of a skill repo (released versions and
//!   their commits, the current registry file, a version and an expiry), in the same
//!   bundle format;
//! - [`catalog_index`]: the signature of an org's catalog index (`ORG/rskill-index`).
//!
//! No cryptography is written here: ECDSA, SHA-256 and the encodings come from the
//! `p256`, `sha2` and `base64` crates. Depends on no other rskill crate.

mod attestation;
pub mod bundle;
pub mod catalog_index;
pub mod check;
pub mod error;
pub mod folder;
pub mod governance;
pub mod keys;
pub mod statement;
pub mod weights_lock;

pub use bundle::{Bundle, SIGNATURE_FILE};
pub use catalog_index::{INDEX_SIGNATURE_FILE, IndexState, SignedIndex};
pub use check::{FileProblem, compare};
pub use error::SigningError;
pub use folder::{Resource, hash_folder};
pub use governance::{GOVERNANCE_SIGNATURE_FILE, GovernanceState, SignedGovernance};
pub use keys::{PrivateKey, PublicKey};
pub use statement::SignedManifest;
pub use weights_lock::{WEIGHTS_LOCK_FILE, WeightsLock};

/// Signs the folder `dir` as the model `name`: every file's digest, the statement, the
/// envelope, the bundle (JSON bytes, to be written as [`SIGNATURE_FILE`] in `dir`).
pub fn sign_folder(
    dir: &std::path::Path,
    name: &str,
    key: &PrivateKey,
) -> Result<Vec<u8>, SigningError> {
    let resources = hash_folder(dir)?;
    let statement = statement::build(name, &resources);
    Ok(bundle::sign(&statement, key)?.to_json())
}

/// Verifies the folder `dir` against its [`SIGNATURE_FILE`] with one of `keys`:
/// the signature, then every file's digest (a missing, extra or changed file fails).
pub fn verify_folder(
    dir: &std::path::Path,
    keys: &[PublicKey],
) -> Result<SignedManifest, SigningError> {
    let path = dir.join(SIGNATURE_FILE);
    let bytes = std::fs::read(&path).map_err(|e| SigningError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let signed = Bundle::parse(&bytes)?.verify(keys)?;
    let actual = hash_folder(dir)?;
    let problems = compare(&signed.resources, &actual);
    if !problems.is_empty() {
        return Err(SigningError::Files(problems));
    }
    Ok(signed)
}

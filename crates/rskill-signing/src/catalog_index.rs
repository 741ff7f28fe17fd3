//! The signed catalog index: an org's index of its published skills (`rskill-index.json`
//! in the repo `ORG/rskill-index`) vouched for by a key the org trusts for governance,
//! so a search that trusts such a key can use the index's entries instead of fetching
//! every manifest.
//!
//! The file (`rskill-index.sig`, beside the index in the same commit) is a Sigstore
//! bundle v0.3 holding a DSSE envelope over an in-toto Statement v1, like a skill's
//! `model.sig` and the governance state: the subject is `ORG/rskill-index` with the
//! SHA-256 of the index file's bytes, the predicate is [`IndexState`]. Every entry of
//! the index names the commit it describes and a reader uses it only for that commit,
//! so an older index replayed costs misses, never a wrong answer: no version or expiry.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::SigningError;
use crate::attestation::Statement;
use crate::bundle::{self, Bundle};
use crate::keys::{PrivateKey, PublicKey};
use crate::statement::STATEMENT_TYPE;

/// The index's signature file, beside `rskill-index.json`.
pub const INDEX_SIGNATURE_FILE: &str = "rskill-index.sig";
/// The predicate type of an index statement.
pub const INDEX_PREDICATE_TYPE: &str = "https://rskill/catalog-index/v1";
/// The largest index signature read (bytes).
pub const MAX_INDEX_SIGNATURE_BYTES: u64 = 1 << 20;
/// The name of an org's index repo.
pub const INDEX_REPO_NAME: &str = "rskill-index";

/// What an index signature vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexState {
    /// The org whose index it is; an index signed for another org is refused.
    pub org: String,
    /// When it was signed (RFC 3339, UTC).
    pub issued: String,
    /// SHA-256 (hex) of the index file's bytes (also the statement's subject digest).
    pub index_sha256: String,
    /// Number of skills the index lists.
    pub entries: u64,
}

/// A verified index signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIndex {
    pub state: IndexState,
    /// The key that verified it.
    pub key_id: String,
}

/// The SHA-256 (hex) of an index file's bytes, as the state names it.
pub fn index_digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The repo id an org's index lives in (`ORG/rskill-index`).
pub fn index_repo(org: &str) -> String {
    format!("{org}/{INDEX_REPO_NAME}")
}

impl IndexState {
    /// The state of `index` (the file's bytes) for `org`, issued now.
    pub fn of(org: &str, index: &[u8], entries: u64) -> IndexState {
        IndexState {
            org: org.to_string(),
            issued: crate::governance::rfc3339(std::time::SystemTime::now()),
            index_sha256: index_digest(index),
            entries,
        }
    }

    /// The signature file's bytes: the statement, signed with `key`.
    pub fn sign(&self, key: &PrivateKey) -> Result<Vec<u8>, SigningError> {
        self.check()?;
        let statement = Statement::new(
            index_repo(&self.org),
            self.index_sha256.clone(),
            INDEX_PREDICATE_TYPE,
            self.clone(),
        );
        let payload = serde_json::to_vec_pretty(&statement).expect("a statement serializes");
        Ok(bundle::sign(&payload, key)?.to_json())
    }

    /// The fields' own rules (hostile input): an org name, an RFC 3339 time, a digest.
    pub fn check(&self) -> Result<(), SigningError> {
        let bad = |m: String| Err(SigningError::Malformed(format!("index state: {m}")));
        if self.org.is_empty() || self.org.contains('/') || self.org.len() > 96 {
            return bad(format!("org {:?} is not an org name", self.org));
        }
        if humantime::parse_rfc3339(&self.issued).is_err() {
            return bad(format!("issued {:?} is not an RFC 3339 time", self.issued));
        }
        let hex = self.index_sha256.len() == 64
            && self
                .index_sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex {
            return bad(format!(
                "index_sha256 {:?} is not a SHA-256",
                self.index_sha256
            ));
        }
        Ok(())
    }
}

impl SignedIndex {
    /// Verifies an index signature file with one of `keys` (those `org` is trusted
    /// with for governance) and checks the statement against `org` and the index
    /// file's bytes.
    pub fn verify(
        bytes: &[u8],
        keys: &[PublicKey],
        org: &str,
        index: &[u8],
    ) -> Result<SignedIndex, SigningError> {
        let bad = |m: String| SigningError::Malformed(format!("{INDEX_SIGNATURE_FILE}: {m}"));
        if bytes.len() as u64 > MAX_INDEX_SIGNATURE_BYTES {
            return Err(bad(format!(
                "{} bytes, more than {MAX_INDEX_SIGNATURE_BYTES}",
                bytes.len()
            )));
        }
        let (payload, key_id) = Bundle::parse(bytes)?.verify_payload(keys)?;
        let st: Statement<IndexState> = serde_json::from_slice(&payload)
            .map_err(|e| bad(format!("the DSSE payload is not an index statement: {e}")))?;
        if st.kind != STATEMENT_TYPE || st.predicate_type != INDEX_PREDICATE_TYPE {
            return Err(bad(format!(
                "statement _type {:?}, predicateType {:?}; expected {INDEX_PREDICATE_TYPE}",
                st.kind, st.predicate_type
            )));
        }
        let state = st.predicate;
        state.check()?;
        let [subject] = st.subject.as_slice() else {
            return Err(bad(format!("{} subjects, expected 1", st.subject.len())));
        };
        if subject.name != index_repo(&state.org) || subject.digest.sha256 != state.index_sha256 {
            return Err(bad("the subject disagrees with the predicate".into()));
        }
        if state.org != org {
            return Err(bad(format!(
                "signed for {}, not for {org}: an index may not be replayed on another org",
                state.org
            )));
        }
        let actual = index_digest(index);
        if actual != state.index_sha256 {
            return Err(bad(format!(
                "rskill-index.json has SHA-256 {actual}, the signature names {}: the index was changed without signing",
                state.index_sha256
            )));
        }
        Ok(SignedIndex { state, key_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_signature_verifies_only_for_its_org_its_file_and_a_trusted_key() {
        let key = PrivateKey::generate();
        let other = PrivateKey::generate();
        let file = b"{\"format\": 1}\n";
        let sig = IndexState::of("acme", file, 1).sign(&key).unwrap();
        let ok = SignedIndex::verify(&sig, &[key.public()], "acme", file).unwrap();
        assert_eq!(ok.key_id, key.public().id());
        assert_eq!(ok.state.entries, 1);
        let e = SignedIndex::verify(&sig, &[other.public()], "acme", file);
        assert!(matches!(e, Err(SigningError::UntrustedKey { .. })), "{e:?}");
        let e = SignedIndex::verify(&sig, &[key.public()], "evil", file).unwrap_err();
        assert!(e.to_string().contains("replayed on another org"), "{e}");
        let e = SignedIndex::verify(&sig, &[key.public()], "acme", b"{}").unwrap_err();
        assert!(e.to_string().contains("changed without signing"), "{e}");
        let big = vec![b' '; MAX_INDEX_SIGNATURE_BYTES as usize + 1];
        assert!(SignedIndex::verify(&big, &[key.public()], "acme", file).is_err());
        // The governance state of a skill is no index signature.
        let gov = crate::GovernanceState {
            repo: "acme/rskill-index".into(),
            version: 1,
            issued: "2026-12-01T00:00:00Z".into(),
            expires: "2026-12-31T00:00:00Z".into(),
            registry_sha256: index_digest(file),
            history_length: 0,
            releases: Default::default(),
            scans: Default::default(),
        }
        .sign(&key)
        .unwrap();
        assert!(SignedIndex::verify(&gov, &[key.public()], "acme", file).is_err());
    }

    #[test]
    fn hostile_fields_are_refused() {
        let key = PrivateKey::generate();
        for org in ["", "a/b"] {
            assert!(IndexState::of(org, b"{}", 0).sign(&key).is_err(), "{org:?}");
        }
        let mut s = IndexState::of("acme", b"{}", 0);
        s.index_sha256 = "../x".into();
        assert!(s.sign(&key).is_err());
    }
}

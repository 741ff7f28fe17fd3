//! Signed governance state: which versions of a skill are released (and at which
//! commit), and which registry file (`rskill.registry.json`: statuses, aliases,
//! history, scan records) is current, signed by a key the org trusts for governance.
//!
//! The rules are The Update Framework's, borrowed rather than imported (docs/signing.md
//! says why `tough` does not fit a Hub repo): the signed state carries a version that
//! only grows (rollback), an expiry (freeze), the digest of the one registry file it
//! vouches for and the commit of every release (mix-and-match), and is read with a
//! size bound (endless data). Clients keep the highest version they verified and never
//! accept an older one; that memory lives in the tool, not here.
//!
//! The file (`rskill.registry.sig`, next to the registry file on `main`) is a Sigstore
//! bundle v0.3 holding a DSSE envelope over an in-toto Statement v1, exactly like a
//! skill's `model.sig`: the subject is the repo id with the SHA-256 of the registry
//! file's bytes, the predicate is [`GovernanceState`].

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::SigningError;
use crate::attestation::Statement;
use crate::bundle::{self, Bundle};
use crate::keys::{PrivateKey, PublicKey};
use crate::statement::STATEMENT_TYPE;

/// The signed governance state's file on `main`, beside `rskill.registry.json`.
pub const GOVERNANCE_SIGNATURE_FILE: &str = "rskill.registry.sig";
/// The predicate type of a governance statement.
pub const GOVERNANCE_PREDICATE_TYPE: &str = "https://rskill/governance/v1";
/// A signed state is valid this long unless the signer says otherwise.
pub const DEFAULT_VALIDITY: Duration = Duration::from_secs(30 * 24 * 3600);
/// The largest governance signature read (bytes).
pub const MAX_GOVERNANCE_SIGNATURE_BYTES: u64 = 4 << 20;
/// At most this many releases and scan records in one state.
const MAX_ENTRIES: usize = 100_000;

/// What a governance signature vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceState {
    /// The skill repo (`org/name`); a state of another repo is refused.
    pub repo: String,
    /// Grows by one with every signed change; never accepted lower than seen.
    pub version: u64,
    /// When it was signed and until when it may be used (RFC 3339, UTC).
    pub issued: String,
    pub expires: String,
    /// SHA-256 (hex) of the registry file's bytes (also the statement's subject digest).
    pub registry_sha256: String,
    /// Number of history events in that file.
    pub history_length: u64,
    /// Released versions (`1.2.0`, no `v`) and the commit each names.
    pub releases: BTreeMap<String, String>,
    /// Recorded scans: the scanned commit and the id of the key that recorded it.
    #[serde(default)]
    pub scans: BTreeMap<String, String>,
}

/// A verified (or, for consistency checks, merely parsed) governance signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedGovernance {
    pub state: GovernanceState,
    /// The key that verified it, or, unverified, the one the bundle names.
    pub key_id: Option<String>,
    pub verified: bool,
}

/// The SHA-256 (hex) of a registry file's bytes, as the state names it.
pub fn registry_digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// RFC 3339 (seconds, UTC) of a time.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

impl GovernanceState {
    /// The signature file's bytes: the statement, signed with `key`.
    pub fn sign(&self, key: &PrivateKey) -> Result<Vec<u8>, SigningError> {
        self.check()?;
        let statement = Statement::new(
            self.repo.clone(),
            self.registry_sha256.clone(),
            GOVERNANCE_PREDICATE_TYPE,
            self.clone(),
        );
        let payload = serde_json::to_vec_pretty(&statement).expect("a statement serializes");
        Ok(bundle::sign(&payload, key)?.to_json())
    }

    /// When the state stops being valid.
    pub fn expires_at(&self) -> Result<SystemTime, SigningError> {
        humantime::parse_rfc3339(&self.expires).map_err(|e| {
            SigningError::Malformed(format!("governance expires {:?}: {e}", self.expires))
        })
    }

    /// Whether it has expired at `now`.
    pub fn expired_at(&self, now: SystemTime) -> Result<bool, SigningError> {
        Ok(self.expires_at()? <= now)
    }

    /// The fields' own rules (hostile input): a repo id, a version from 1, times in
    /// RFC 3339, hex digests and commits, bounded maps.
    pub fn check(&self) -> Result<(), SigningError> {
        let bad = |m: String| Err(SigningError::Malformed(format!("governance state: {m}")));
        let hex_of = |s: &str, n: usize| {
            s.len() == n
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let (org, name) = self.repo.split_once('/').unwrap_or(("", ""));
        if org.is_empty() || name.is_empty() || name.contains('/') || self.repo.len() > 200 {
            return bad(format!("repo {:?} is not org/name", self.repo));
        }
        if self.version == 0 {
            return bad("version 0 (versions start at 1)".into());
        }
        for (field, value) in [("issued", &self.issued), ("expires", &self.expires)] {
            if humantime::parse_rfc3339(value).is_err() {
                return bad(format!("{field} {value:?} is not an RFC 3339 time"));
            }
        }
        if !hex_of(&self.registry_sha256, 64) {
            return bad(format!(
                "registry_sha256 {:?} is not a SHA-256",
                self.registry_sha256
            ));
        }
        if self.releases.len() > MAX_ENTRIES || self.scans.len() > MAX_ENTRIES {
            return bad(format!("more than {MAX_ENTRIES} releases or scans"));
        }
        for (v, commit) in &self.releases {
            if v.is_empty() || v.len() > 64 || v.starts_with('v') {
                return bad(format!("release {v:?} is not a version (1.2.0)"));
            }
            if !hex_of(commit, 40) {
                return bad(format!(
                    "release {v}: commit {commit:?} is not 40 hex digits"
                ));
            }
        }
        for (commit, key) in &self.scans {
            if !hex_of(commit, 40) || !hex_of(key, 64) {
                return bad(format!("scan {commit:?} recorded by {key:?}"));
            }
        }
        Ok(())
    }
}

impl SignedGovernance {
    /// Verifies a governance signature file with one of `keys` (those the org trusts
    /// for governance) and checks the statement against `repo` and the registry
    /// file's bytes (`None`: there is no registry file, which a state never allows).
    pub fn verify(
        bytes: &[u8],
        keys: &[PublicKey],
        repo: &str,
        registry: Option<&[u8]>,
    ) -> Result<SignedGovernance, SigningError> {
        let (payload, key_id) = parse_bundle(bytes)?.verify_payload(keys)?;
        let state = parse_statement(&payload, repo, registry)?;
        Ok(SignedGovernance {
            state,
            key_id: Some(key_id),
            verified: true,
        })
    }

    /// The statement without checking the signature: for consistency checks by a
    /// reader that holds no keys (an import), which says it did not verify.
    pub fn parse_unverified(
        bytes: &[u8],
        repo: &str,
        registry: Option<&[u8]>,
    ) -> Result<SignedGovernance, SigningError> {
        let bundle = parse_bundle(bytes)?;
        let state = parse_statement(&bundle.payload_unverified()?, repo, registry)?;
        Ok(SignedGovernance {
            state,
            key_id: bundle.key_hint().map(str::to_string),
            verified: false,
        })
    }
}

fn parse_bundle(bytes: &[u8]) -> Result<Bundle, SigningError> {
    if bytes.len() as u64 > MAX_GOVERNANCE_SIGNATURE_BYTES {
        return Err(SigningError::Malformed(format!(
            "{GOVERNANCE_SIGNATURE_FILE}: {} bytes, more than {MAX_GOVERNANCE_SIGNATURE_BYTES}",
            bytes.len()
        )));
    }
    Bundle::parse(bytes)
}

fn parse_statement(
    payload: &[u8],
    repo: &str,
    registry: Option<&[u8]>,
) -> Result<GovernanceState, SigningError> {
    let bad = |m: String| SigningError::Malformed(format!("{GOVERNANCE_SIGNATURE_FILE}: {m}"));
    let st: Statement<GovernanceState> = serde_json::from_slice(payload).map_err(|e| {
        bad(format!(
            "the DSSE payload is not a governance statement: {e}"
        ))
    })?;
    if st.kind != STATEMENT_TYPE {
        return Err(bad(format!("statement _type is {:?}", st.kind)));
    }
    if st.predicate_type != GOVERNANCE_PREDICATE_TYPE {
        return Err(bad(format!(
            "predicateType is {:?}, expected {GOVERNANCE_PREDICATE_TYPE}",
            st.predicate_type
        )));
    }
    let state = st.predicate;
    state.check()?;
    let [subject] = st.subject.as_slice() else {
        return Err(bad(format!("{} subjects, expected 1", st.subject.len())));
    };
    if subject.name != state.repo || subject.digest.sha256 != state.registry_sha256 {
        return Err(bad("the subject disagrees with the predicate".into()));
    }
    if state.repo != repo {
        return Err(bad(format!(
            "signed for {}, not for {repo}: a state may not be replayed on another repo",
            state.repo
        )));
    }
    let Some(registry) = registry else {
        return Err(bad(
            "there is no rskill.registry.json beside it (the signed file was removed)".into(),
        ));
    };
    let actual = registry_digest(registry);
    if actual != state.registry_sha256 {
        return Err(bad(format!(
            "rskill.registry.json has SHA-256 {actual}, the signed state names {}: the file was changed without signing",
            state.registry_sha256
        )));
    }
    Ok(state)
}

/// Parses `30d`, `12h`, `90m` or a number of seconds (a validity on the command line).
pub fn parse_validity(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .or_else(|_| s.parse::<u64>().map(Duration::from_secs))
        .map_err(|_| format!("`{s}` is not a duration (30d, 12h, 3600)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(registry: &[u8]) -> GovernanceState {
        GovernanceState {
            repo: "acme/rskill-x".into(),
            version: 3,
            issued: "2026-12-01T00:00:00Z".into(),
            expires: "2026-12-31T00:00:00Z".into(),
            registry_sha256: registry_digest(registry),
            history_length: 2,
            releases: [("1.0.0".to_string(), "a".repeat(40))].into(),
            scans: BTreeMap::new(),
        }
    }

    #[test]
    fn a_signed_state_verifies_only_for_its_repo_its_file_and_a_trusted_key() {
        let key = PrivateKey::generate();
        let other = PrivateKey::generate();
        let file = b"{\"format\": 1}\n";
        let sig = state(file).sign(&key).unwrap();
        let ok =
            SignedGovernance::verify(&sig, &[key.public()], "acme/rskill-x", Some(file)).unwrap();
        assert!(ok.verified);
        assert_eq!(ok.state.version, 3);
        assert_eq!(ok.key_id.as_deref(), Some(key.public().id()));
        let e = SignedGovernance::verify(&sig, &[other.public()], "acme/rskill-x", Some(file));
        assert!(matches!(e, Err(SigningError::UntrustedKey { .. })), "{e:?}");
        let e = SignedGovernance::verify(&sig, &[key.public()], "acme/rskill-y", Some(file))
            .unwrap_err();
        assert!(e.to_string().contains("replayed on another repo"), "{e}");
        let e = SignedGovernance::verify(&sig, &[key.public()], "acme/rskill-x", Some(b"{}"))
            .unwrap_err();
        assert!(e.to_string().contains("changed without signing"), "{e}");
        let e = SignedGovernance::verify(&sig, &[key.public()], "acme/rskill-x", None).unwrap_err();
        assert!(e.to_string().contains("was removed"), "{e}");
        // A payload altered after signing.
        let mut b: serde_json::Value = serde_json::from_slice(&sig).unwrap();
        let mut forged = state(file);
        forged.version = 99;
        let payload = serde_json::to_vec(&Statement::new(
            forged.repo.clone(),
            forged.registry_sha256.clone(),
            GOVERNANCE_PREDICATE_TYPE,
            forged,
        ))
        .unwrap();
        use base64::Engine;
        b["dsseEnvelope"]["payload"] = base64::engine::general_purpose::STANDARD
            .encode(payload)
            .into();
        let tampered = serde_json::to_vec(&b).unwrap();
        let e = SignedGovernance::verify(&tampered, &[key.public()], "acme/rskill-x", Some(file));
        assert!(matches!(e, Err(SigningError::BadSignature { .. })), "{e:?}");
        // Unverified parsing still sees the forged version (and says it is unverified).
        let u = SignedGovernance::parse_unverified(&tampered, "acme/rskill-x", Some(file)).unwrap();
        assert!(!u.verified && u.state.version == 99);
    }

    #[test]
    fn hostile_fields_are_refused_before_use() {
        let file = b"{}";
        let key = PrivateKey::generate();
        let mut s = state(file);
        s.releases.insert("1.1.0".into(), "../../etc/passwd".into());
        assert!(s.sign(&key).is_err());
        let mut s = state(file);
        s.version = 0;
        assert!(s.sign(&key).is_err());
        let mut s = state(file);
        s.expires = "next week".into();
        assert!(s.sign(&key).is_err());
        for repo in ["no-slash", "a/b/c", "/x"] {
            let mut s = state(file);
            s.repo = repo.into();
            assert!(s.sign(&key).is_err(), "{repo}");
        }
        let big = vec![b' '; MAX_GOVERNANCE_SIGNATURE_BYTES as usize + 1];
        assert!(SignedGovernance::parse_unverified(&big, "acme/rskill-x", Some(file)).is_err());
    }

    #[test]
    fn expiry_and_validity() {
        let s = state(b"{}");
        let at = |t: &str| humantime::parse_rfc3339(t).unwrap();
        assert!(!s.expired_at(at("2026-12-30T23:59:59Z")).unwrap());
        assert!(s.expired_at(at("2026-12-31T00:00:00Z")).unwrap());
        assert_eq!(parse_validity("30d").unwrap(), DEFAULT_VALIDITY);
        assert_eq!(parse_validity("3600").unwrap(), Duration::from_secs(3600));
        assert!(parse_validity("soon").is_err());
    }
}

//! The in-toto Statement v1 that OMS signs: the subject is the model's name with a
//! SHA-256 over the per-file digests (raw bytes, in the listed order);
//! `predicate.resources` lists every file; `predicate.serialization` records how the
//! files were hashed. Parsing checks the types, the predicate and the subject digest,
//! so a verified statement yields a consistent list of signed files.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::SigningError;
use crate::folder::{IGNORE_PATHS, Resource};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";

/// What a verified signature says: the model name and its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedManifest {
    pub name: String,
    pub resources: Vec<Resource>,
    /// Id of the key that verified it.
    pub key_id: String,
}

impl SignedManifest {
    /// The signed SHA-256 of a file.
    pub fn digest_of(&self, name: &str) -> Option<&str> {
        self.resources
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.sha256.as_str())
    }
}

#[derive(Deserialize)]
struct Statement {
    #[serde(rename = "_type")]
    kind: String,
    subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: Predicate,
}

#[derive(Deserialize)]
struct Subject {
    name: String,
    digest: SubjectDigest,
}

#[derive(Deserialize)]
struct SubjectDigest {
    sha256: String,
}

#[derive(Deserialize)]
struct Predicate {
    resources: Vec<ResourceJson>,
    serialization: Serialization,
}

#[derive(Serialize, Deserialize)]
struct ResourceJson {
    algorithm: String,
    digest: String,
    name: String,
}

#[derive(Deserialize)]
struct Serialization {
    method: String,
    hash_type: String,
    #[serde(default)]
    allow_symlinks: bool,
}

/// The subject digest: SHA-256 over the raw per-file digests in order.
pub fn root_digest(resources: &[Resource]) -> Result<String, SigningError> {
    let mut hasher = Sha256::new();
    for r in resources {
        let raw = hex::decode(&r.sha256)
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| {
                SigningError::Malformed(format!(
                    "{}: digest {:?} is not a SHA-256",
                    r.name, r.sha256
                ))
            })?;
        hasher.update(raw);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The statement JSON for `resources` (in canonical order) of model `name`.
pub fn build(name: &str, resources: &[Resource]) -> Vec<u8> {
    let items: Vec<ResourceJson> = resources
        .iter()
        .map(|r| ResourceJson {
            algorithm: "sha256".into(),
            digest: r.sha256.clone(),
            name: r.name.clone(),
        })
        .collect();
    let digest = root_digest(resources).expect("digests computed here are SHA-256");
    let value = json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "resources": items,
            "serialization": {
                "allow_symlinks": false,
                "method": "files",
                "hash_type": "sha256",
                "ignore_paths": IGNORE_PATHS,
            }
        }
    });
    serde_json::to_vec_pretty(&value).expect("JSON values always serialize")
}

/// Parses a verified payload into the signed files, checking what `model_signing`
/// checks (statement and predicate types, one subject, its digest over the resources)
/// and that the files were hashed with SHA-256, one digest per file.
pub fn parse(payload: &[u8], key_id: &str) -> Result<SignedManifest, SigningError> {
    let bad = |m: String| SigningError::Malformed(m);
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| bad(format!("the DSSE payload is not JSON: {e}")))?;
    let st: Statement = serde_json::from_value(value)
        .map_err(|e| bad(format!("the DSSE payload is not an OMS statement: {e}")))?;
    if st.kind != STATEMENT_TYPE {
        return Err(bad(format!(
            "statement _type is {:?}, expected {STATEMENT_TYPE}",
            st.kind
        )));
    }
    if st.predicate_type != PREDICATE_TYPE {
        return Err(bad(format!(
            "predicateType is {:?}, expected {PREDICATE_TYPE}",
            st.predicate_type
        )));
    }
    let [subject] = st.subject.as_slice() else {
        return Err(bad(format!(
            "expected one subject, got {}",
            st.subject.len()
        )));
    };
    let ser = &st.predicate.serialization;
    if ser.method != "files" || ser.hash_type != "sha256" || ser.allow_symlinks {
        return Err(bad(format!(
            "serialization method {:?} with {:?} (allow_symlinks {}); rskill verifies \
             `files` with `sha256` and no symlinks",
            ser.method, ser.hash_type, ser.allow_symlinks
        )));
    }
    let mut resources = Vec::new();
    for r in &st.predicate.resources {
        if r.algorithm != "sha256" {
            return Err(bad(format!(
                "{}: algorithm {:?}, expected sha256",
                r.name, r.algorithm
            )));
        }
        if resources.iter().any(|x: &Resource| x.name == r.name) {
            return Err(bad(format!("{}: listed twice", r.name)));
        }
        resources.push(Resource {
            name: r.name.clone(),
            sha256: r.digest.to_ascii_lowercase(),
        });
    }
    let root = root_digest(&resources)?;
    if !root.eq_ignore_ascii_case(&subject.digest.sha256) {
        return Err(bad(format!(
            "the subject digest {} does not match the listed files ({root})",
            subject.digest.sha256
        )));
    }
    Ok(SignedManifest {
        name: subject.name.clone(),
        resources,
        key_id: key_id.to_string(),
    })
}

//! The in-toto Statement v1 that rskill's own signed files carry (the governance state,
//! the catalog index): one subject (a name and the SHA-256 of the file it vouches for),
//! a predicate type and a typed predicate, every field required and none unknown. The
//! OMS statement of a skill's `model.sig` is [`crate::statement`]'s, parsed exactly as
//! `model_signing` writes it.

use serde::{Deserialize, Serialize};

use crate::statement::STATEMENT_TYPE;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Statement<P> {
    #[serde(rename = "_type")]
    pub kind: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: P,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Subject {
    pub name: String,
    pub digest: SubjectDigest,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubjectDigest {
    pub sha256: String,
}

impl<P> Statement<P> {
    /// A statement about `name` (whose file has SHA-256 `sha256`).
    pub fn new(name: String, sha256: String, predicate_type: &str, predicate: P) -> Self {
        Statement {
            kind: STATEMENT_TYPE.into(),
            subject: vec![Subject {
                name,
                digest: SubjectDigest { sha256 },
            }],
            predicate_type: predicate_type.into(),
            predicate,
        }
    }
}

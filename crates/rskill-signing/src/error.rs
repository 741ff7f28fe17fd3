//! Why signing or verifying failed, naming the file, field or key at fault.

use crate::check::FileProblem;

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {problem}")]
    Key { path: String, problem: String },
    #[error("{path}: symbolic link; signed skills hold regular files only")]
    Symlink { path: String },
    #[error("signature file is not a valid Sigstore bundle: {0}")]
    Malformed(String),
    #[error(
        "signature does not verify with {key}: the signature or the signed statement was altered"
    )]
    BadSignature { key: String },
    #[error("signed by key {key_id}, which is not trusted{}", if trusted.is_empty() { String::new() } else { format!(" (trusted: {})", trusted.join(", ")) })]
    UntrustedKey {
        key_id: String,
        trusted: Vec<String>,
    },
    #[error("{}", render_files(.0))]
    Files(Vec<FileProblem>),
}

impl SigningError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            SigningError::Key { .. } => {
                "a P-256 key in PEM (`openssl ecparam -name prime256v1 -genkey -noout -out key.pem`)"
            }
            SigningError::UntrustedKey { .. } => {
                "trust the publisher's public key: `rskill trust add ORG --key PUB.pem`"
            }
            SigningError::Files(_) => {
                "the files differ from what was signed: the skill was changed after signing; do not use it"
            }
            _ => "the signature file (model.sig) is damaged or was altered; do not use this skill",
        }
    }
}

fn render_files(problems: &[FileProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    format!("files differ from the signature:\n  {}", lines.join("\n  "))
}

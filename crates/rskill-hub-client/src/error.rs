//! Everything that can go wrong talking to a Hub, each case with the value at fault
//! and a hint a user can act on. Tokens never appear in these messages, nor the
//! credentials of a URL (`http://user:secret@host`): every field that can hold one is
//! shown through [`redact_credentials`].

use std::path::PathBuf;

use rskill_hub_protocol::redact::redact_credentials;

use super::env::TokenSource;

fn shown(s: &str) -> std::borrow::Cow<'_, str> {
    redact_credentials(s)
}

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("offline mode (HF_HUB_OFFLINE) forbids HTTP: cannot {what}")]
    Offline { what: String },
    #[error("cannot reach the Hub at {}: {}", shown(endpoint), shown(reason))]
    Unreachable { endpoint: String, reason: String },
    #[error("{action} needs a token, and none is set")]
    TokenMissing { action: String },
    #[error(
        "the token from {token_source} was rejected by {} (invalid or expired)",
        shown(endpoint)
    )]
    TokenInvalid {
        token_source: TokenSource,
        endpoint: String,
    },
    #[error("the token from {token_source} may not {action}: {}", shown(message))]
    Forbidden {
        token_source: TokenSource,
        action: String,
        message: String,
    },
    #[error("repository {repo} not found (or not visible to this token)")]
    RepoNotFound { repo: String },
    #[error("revision {revision} not found in {repo}")]
    RevisionNotFound { repo: String, revision: String },
    #[error("{path} not found in {repo}@{revision}")]
    EntryNotFound {
        repo: String,
        revision: String,
        path: String,
    },
    #[error("conflict: {}", shown(message))]
    Conflict { message: String },
    #[error(
        "the Hub kept answering {status} (rate limited or unavailable) for {}",
        shown(url)
    )]
    Overloaded { status: u16, url: String },
    #[error(
        "rate limited by the Hub ({bucket} quota): waiting {wait_secs} s more would pass \
         --max-wait ({max_wait_secs} s; {waited_secs} s waited already) for {}",
        shown(url)
    )]
    RateLimited {
        bucket: String,
        wait_secs: u64,
        waited_secs: u64,
        max_wait_secs: u64,
        url: String,
    },
    #[error("the Hub answered {status} for {}: {}", shown(url), shown(message))]
    Status {
        status: u16,
        url: String,
        message: String,
    },
    #[error("unexpected answer from {}: {}", shown(url), shown(message))]
    Protocol { url: String, message: String },
    #[error(
        "{path}: checksum mismatch (expected sha256 {expected}, got {actual}); the file was discarded"
    )]
    Integrity {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("{}: {}", shown(context), shown(&source.to_string()))]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", shown(.0))]
    Other(String),
}

impl HubError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> HubError {
        HubError::Io {
            context: context.into(),
            source,
        }
    }

    pub fn io_at(path: &std::path::Path, source: std::io::Error) -> HubError {
        HubError::io(path.display().to_string(), source)
    }

    /// What to try next.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            HubError::Offline { .. } => {
                "unset HF_HUB_OFFLINE to go online, or use what is already cached".into()
            }
            HubError::Unreachable { .. } => {
                "check HF_ENDPOINT and the network; HF_HUB_OFFLINE=1 works from the local cache"
                    .into()
            }
            HubError::TokenMissing { .. } => {
                "pass --token, set HF_TOKEN, or write the token to $HF_HOME/token".into()
            }
            HubError::TokenInvalid { token_source, .. } => {
                format!("replace the token in {token_source}")
            }
            HubError::Forbidden { .. } => {
                "use a token with write rights for the repository's organisation".into()
            }
            HubError::RepoNotFound { .. } => {
                "check the id (org/name); a private repo needs a token of one of its members".into()
            }
            HubError::RevisionNotFound { .. } => {
                "use a branch, a tag (e.g. v1.2.0) or a full commit SHA".into()
            }
            HubError::Overloaded { .. } => "try again later".into(),
            HubError::RateLimited { .. } => "raise --max-wait (or RSKILL_MAX_WAIT), use a token \
                 (accounts have larger quotas than anonymous callers), or run again after the \
                 window resets"
                .into(),
            HubError::Integrity { .. } => {
                "run the command again; if it persists the upstream file is corrupt".into()
            }
            _ => return None,
        })
    }

    /// True when the Hub could not be asked at all (offline mode or no connection).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            HubError::Offline { .. } | HubError::Unreachable { .. }
        )
    }
}

impl From<(PathBuf, std::io::Error)> for HubError {
    fn from((path, e): (PathBuf, std::io::Error)) -> Self {
        HubError::io_at(&path, e)
    }
}

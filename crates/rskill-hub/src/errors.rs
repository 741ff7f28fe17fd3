//! Errors of the Hub server, in two layers: [`HubError`] says what went wrong in the
//! library (storage, names, refs, rights), and [`ApiError`] is what a client sees: an HTTP
//! status, an `X-Error-Code` / `X-Error-Message` pair and a JSON `{"error": …}` body, the
//! shape both official Hub clients parse.

use std::path::PathBuf;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// What went wrong inside the Hub server library.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("corrupt record {}: {message}", path.display())]
    Corrupt { path: PathBuf, message: String },
    #[error("data directory {} is already served by another rskill-hub process", path.display())]
    DataDirLocked { path: PathBuf },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid repo id `{value}`: {reason}")]
    InvalidRepoId { value: String, reason: String },
    #[error("invalid file path `{value}`: {reason}")]
    InvalidPath { value: String, reason: String },
    #[error("invalid revision name `{value}`: {reason}")]
    InvalidRefName { value: String, reason: String },
    #[error("invalid user or organization name `{value}`: {reason}")]
    InvalidAccountName { value: String, reason: String },
    #[error(
        "account name `{name}` collides with the existing `{existing}`: user and organization \
         names are unique regardless of case"
    )]
    AccountNameTaken { name: String, existing: String },
    #[error("repository {repo} already exists")]
    RepoExists { repo: String },
    #[error("repository {repo} not found")]
    RepoNotFound { repo: String },
    #[error("revision `{rev}` not found in {repo}")]
    RevisionNotFound { repo: String, rev: String },
    #[error("`{rev}` is not a branch of {repo}: commits go to branches")]
    NotABranch { repo: String, rev: String },
    #[error("entry `{path}` not found in {repo} at {commit}")]
    EntryNotFound {
        repo: String,
        path: String,
        commit: String,
    },
    #[error("path `{path}` conflicts with `{other}` (a path cannot be both a file and a folder)")]
    PathConflict { path: String, other: String },
    #[error("parent commit `{expected}` is not the head of `{branch}` (head is {actual})")]
    ParentCommitMismatch {
        branch: String,
        expected: String,
        actual: String,
    },
    #[error("{kind} `{name}` already exists in {repo}")]
    RefExists {
        repo: String,
        kind: &'static str,
        name: String,
    },
    #[error("the default branch `main` cannot be deleted")]
    DefaultBranch,
    #[error(
        "LFS object {oid} is not a file of any repo you can read (upload the content inline, \
         or reference a file of one of your repos)"
    )]
    MissingLfsObject { oid: String },
    #[error("LFS object {oid} has size {actual}, not {declared}")]
    LfsSizeMismatch {
        oid: String,
        declared: u64,
        actual: u64,
    },
    #[error("injected failure (test only): {what}")]
    Injected { what: String },
    #[error("the upload of LFS object {oid} was refused: {why}")]
    UploadMismatch { oid: String, why: String },
    #[error("{context}: object store: {message}")]
    ObjectStore { context: String, message: String },
    #[error("`{value}` is not a blob store: {reason}")]
    InvalidBlobsUrl { value: String, reason: String },
    #[error("--governance-key {path}: {reason}")]
    InvalidGovernanceKey { path: String, reason: String },
    #[error("invalid bundle: {0}")]
    Bundle(#[from] rskill_bundle::BundleError),
    #[error("cannot import {repo}: {what}; nothing was changed")]
    ImportConflict { repo: String, what: String },
    #[error("cannot import {repo}: {what}; nothing was changed")]
    ImportIncomplete { repo: String, what: String },
    #[error("cannot import {repo}: the token may not write its namespace; nothing was changed")]
    ImportForbidden { repo: String },
    #[error(
        "{what} needs the manage right, and the token of `{user}` has none; create one with \
         `rskill-hub token create … --manage`"
    )]
    ManageRightRequired { user: String, what: String },
    /// The bundle's signed governance state (or its absence) is refused.
    #[error("cannot import {repo}: governance: {what}; nothing was changed")]
    ImportGovernance { repo: String, what: String },
}

impl HubError {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        HubError::Io {
            context: context.into(),
            source,
        }
    }

    /// A closure for `map_err` that wraps an I/O error with `context`.
    pub fn io_with(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| HubError::Io { context, source }
    }
}

/// An error answer: status, machine code, human message, and optional extras.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Extra headers and body fields, rarely present.
    pub extras: Option<Box<Extras>>,
}

/// What some error answers carry besides the message.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Extra response headers (e.g. `X-Repo-Commit` on `EntryNotFound`).
    pub headers: Vec<(HeaderName, String)>,
    /// Extra fields of the JSON body (e.g. the existing `slug` on a collection conflict).
    pub fields: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            extras: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.extras
            .get_or_insert_with(Default::default)
            .headers
            .push((name, value.into()));
        self
    }

    pub fn with_field(mut self, key: &str, value: Value) -> Self {
        self.extras
            .get_or_insert_with(Default::default)
            .fields
            .insert(key.to_owned(), value);
        self
    }

    /// The answer for a repo the caller may not see (absent, or private and not theirs):
    /// 401 without a token, 404 with one, the same for both cases so that nothing leaks.
    pub fn repo_not_found(repo: &str, authenticated: bool) -> Self {
        let status = if authenticated {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::UNAUTHORIZED
        };
        Self::new(
            status,
            "RepoNotFound",
            format!("Repository {repo} not found"),
        )
    }

    pub fn not_found_route(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("no such endpoint: {path}"),
        )
    }
}

impl From<rskill_hub_protocol::repo_id::RepoIdError> for HubError {
    fn from(e: rskill_hub_protocol::repo_id::RepoIdError) -> Self {
        HubError::InvalidRepoId {
            value: e.value,
            reason: e.reason,
        }
    }
}

impl From<rskill_hub_protocol::repo_id::RepoIdError> for ApiError {
    fn from(e: rskill_hub_protocol::repo_id::RepoIdError) -> Self {
        HubError::from(e).into()
    }
}

impl From<HubError> for ApiError {
    fn from(e: HubError) -> Self {
        let message = e.to_string();
        match e {
            HubError::Io { .. } | HubError::Corrupt { .. } | HubError::Injected { .. } => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "StorageError", message)
            }
            HubError::ObjectStore { .. } => {
                ApiError::new(StatusCode::BAD_GATEWAY, "ObjectStoreError", message)
            }
            HubError::UploadMismatch { .. } => ApiError::bad_request("UploadMismatch", message),
            HubError::DataDirLocked { .. }
            | HubError::Bind { .. }
            | HubError::InvalidBlobsUrl { .. }
            | HubError::InvalidGovernanceKey { .. } => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "ServerError", message)
            }
            HubError::InvalidRepoId { .. } => ApiError::bad_request("InvalidRepoId", message),
            HubError::InvalidPath { .. } | HubError::PathConflict { .. } => {
                ApiError::bad_request("InvalidPath", message)
            }
            HubError::InvalidRefName { .. } | HubError::NotABranch { .. } => {
                ApiError::bad_request("InvalidRevision", message)
            }
            HubError::InvalidAccountName { .. } => ApiError::bad_request("InvalidName", message),
            HubError::AccountNameTaken { .. } => {
                ApiError::new(StatusCode::CONFLICT, "AccountNameTaken", message)
            }
            HubError::RepoExists { .. } => {
                ApiError::new(StatusCode::CONFLICT, "RepoExists", message)
            }
            HubError::RepoNotFound { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "RepoNotFound", message)
            }
            HubError::RevisionNotFound { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "RevisionNotFound", message)
            }
            HubError::EntryNotFound { commit, .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "EntryNotFound", message)
                    .with_header(HeaderName::from_static("x-repo-commit"), commit)
            }
            HubError::ParentCommitMismatch { .. } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "ParentCommitMismatch",
                message,
            ),
            HubError::RefExists { .. } => ApiError::new(StatusCode::CONFLICT, "RefExists", message),
            HubError::DefaultBranch => ApiError::bad_request("InvalidRevision", message),
            HubError::MissingLfsObject { .. } | HubError::LfsSizeMismatch { .. } => {
                ApiError::bad_request("MissingLfsObject", message)
            }
            HubError::Bundle(_) => ApiError::bad_request("InvalidBundle", message),
            HubError::ImportIncomplete { .. } => ApiError::bad_request("IncompleteBundle", message),
            HubError::ImportForbidden { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "Forbidden", message)
            }
            HubError::ImportConflict { .. } => {
                ApiError::new(StatusCode::CONFLICT, "ImportConflict", message)
            }
            HubError::ManageRightRequired { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "ManageRightRequired", message)
            }
            HubError::ImportGovernance { .. } => {
                ApiError::bad_request("GovernanceRefused", message)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let extras = self.extras.map(|e| *e).unwrap_or_default();
        let mut body = Map::new();
        body.insert("error".into(), Value::String(self.message.clone()));
        body.extend(extras.fields);
        let mut response = (
            self.status,
            [(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            Value::Object(body).to_string(),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert("x-error-code", HeaderValue::from_static(self.code));
        headers.insert("x-error-message", header_safe(&self.message));
        for (name, value) in extras.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        }
        response
    }
}

/// A header value carrying `text`, with anything a header cannot hold replaced.
fn header_safe(text: &str) -> HeaderValue {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .take(500)
        .collect();
    HeaderValue::from_str(&cleaned).unwrap_or_else(|_| HeaderValue::from_static("error"))
}

//! What every request handler shares: the catalog, the tokens, the collections, the
//! counters and the limits ([`App`]), and what it knows of its own request ([`Ctx`]).

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::auth::Caller;
use super::body::Query;
use super::catalog::Catalog;
use super::collections::Collections;
use super::counters::Counters;
use super::errors::{ApiError, HubError};
use super::names::RepoKind;
use super::tokens::TokenStore;

/// Shared server state.
pub struct App {
    pub catalog: Arc<Catalog>,
    pub tokens: TokenStore,
    pub collections: Arc<Collections>,
    pub counters: Arc<Counters>,
    pub max_body_bytes: u64,
    /// The bytes all request bodies in flight may hold together.
    pub budget: super::body::Budget,
    /// The base URL to advertise; `None` derives it from each request's `Host`.
    pub public_url: Option<String>,
    /// The address the server listens on (fallback for requests without `Host`).
    pub local_url: String,
    /// LFS upload tickets and uploads.
    pub lfs: Arc<super::lfs::Lfs>,
    /// How long a presigned download URL stays valid.
    pub presign_expiry: std::time::Duration,
    /// Keys trusted for the governance states of imported bundles.
    pub governance_keys: Vec<rskill_signing::PublicKey>,
}

/// A repo named in a request path (not yet checked).
#[derive(Debug, Clone, Copy)]
pub struct RepoPath<'a> {
    pub kind: RepoKind,
    pub owner: &'a str,
    pub name: &'a str,
}

/// One request's context.
pub struct Ctx {
    pub caller: Caller,
    /// The server's base URL as this client reaches it (no trailing `/`).
    pub base: String,
    pub query: Query,
    pub headers: HeaderMap,
}

impl App {
    /// The base URL for links in answers to a request with these headers.
    pub fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(url) = &self.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
            Some(host) if !host.is_empty() && !host.contains(['/', ' ']) => {
                format!("http://{host}")
            }
            _ => self.local_url.clone(),
        }
    }
}

/// Runs blocking store work off the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, HubError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServerError",
            format!("a storage task failed: {e}"),
        )),
    }
}

/// A 200 JSON answer.
pub fn json_response(value: &Value) -> Response {
    json_with_status(StatusCode::OK, value)
}

/// A JSON answer with a status.
pub fn json_with_status(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        value.to_string(),
    )
        .into_response()
}

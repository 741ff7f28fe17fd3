//! Who is calling, and what they may do. Anonymous callers read public repos; a token
//! reads public repos and the private repos of its user and organizations; writing needs
//! a write token of the owning user or organization. A repo the caller may not see is
//! answered exactly like a repo that does not exist, so nothing leaks.

use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};

use super::catalog::RepoEntry;
use super::errors::ApiError;
use super::tokens::{Identity, TokenStore};

/// The caller of a request.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    User(Identity),
}

impl Caller {
    /// Reads the `Authorization: Bearer …` header. A header that is present but does not
    /// carry a valid token is refused, whatever the request.
    pub fn from_headers(headers: &HeaderMap, tokens: &TokenStore) -> Result<Caller, ApiError> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Ok(Caller::Anonymous);
        };
        let invalid = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "InvalidCredentials",
                "Invalid credentials in Authorization header",
            )
        };
        let value = value.to_str().map_err(|_| invalid())?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(invalid)?;
        match tokens.lookup(token) {
            Ok(Some(identity)) => Ok(Caller::User(identity)),
            Ok(None) => Err(invalid()),
            Err(e) => Err(e.into()),
        }
    }

    pub fn identity(&self) -> Option<&Identity> {
        match self {
            Caller::Anonymous => None,
            Caller::User(i) => Some(i),
        }
    }

    pub fn is_authenticated(&self) -> bool {
        matches!(self, Caller::User(_))
    }

    /// Whether the caller is `owner` or one of its members.
    pub fn member_of(&self, owner: &str) -> bool {
        self.identity().is_some_and(|i| i.member_of(owner))
    }

    /// Whether the caller may see this repo.
    pub fn can_see(&self, entry: &RepoEntry) -> bool {
        entry.visible_to(|owner| self.member_of(owner))
    }

    /// The repo if the caller may see it, else the not-found answer.
    pub fn see<'a>(
        &self,
        entry: Option<&'a RepoEntry>,
        repo: &str,
    ) -> Result<&'a RepoEntry, ApiError> {
        match entry {
            Some(e) if self.can_see(e) => Ok(e),
            _ => Err(ApiError::repo_not_found(repo, self.is_authenticated())),
        }
    }

    /// The identity if it may write repos of `owner`: 401 without a token, 403 without
    /// the right.
    pub fn require_write(&self, owner: &str) -> Result<&Identity, ApiError> {
        match self {
            Caller::Anonymous => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "a write token is required (Authorization: Bearer <token>)",
            )),
            Caller::User(i) if i.can_write(owner) => Ok(i),
            Caller::User(i) if !i.write => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!("the token of `{}` is read-only", i.user),
            )),
            Caller::User(i) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!("`{}` may not write to `{owner}`", i.user),
            )),
        }
    }

    /// The identity if it is a write token (for whichever owner): 401 without a token,
    /// 403 for a read-only one. Checked before a writing route reads its body.
    pub fn require_write_token(&self) -> Result<&Identity, ApiError> {
        match self {
            Caller::User(i) if i.write => Ok(i),
            Caller::User(i) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!("the token of `{}` is read-only", i.user),
            )),
            Caller::Anonymous => self.require_write(""),
        }
    }

    /// The identity for an endpoint that needs any valid token.
    pub fn require_user(&self) -> Result<&Identity, ApiError> {
        self.identity().ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "a token is required (Authorization: Bearer <token>)",
            )
        })
    }
}

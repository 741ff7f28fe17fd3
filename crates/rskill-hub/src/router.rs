//! Maps each request to its endpoint. Paths are split on `/` and each segment is
//! percent-decoded on its own (so `%2F` inside a revision stays inside it), then matched
//! against the Hub's URL space; every request is counted under its route label, and
//! every failure becomes a JSON error answer: even a bug that panics in a handler is
//! answered with a JSON 500 instead of a dropped connection.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use percent_encoding::percent_decode_str;

use super::api_admin;
use super::api_card;
use super::api_collections;
use super::api_files;
use super::api_repos;
use super::app::{App, Ctx, RepoPath};
use super::auth::Caller;
use super::body::{self, Query};
use super::commit;
use super::counters::RouteLabel;
use super::errors::ApiError;
use super::lfs;
use super::listing;
use super::names::RepoKind;
use super::resolve;

/// What a repo-scoped API path asks for.
#[derive(Debug)]
enum RepoAction {
    Info(Option<String>),
    Settings,
    Preupload(String),
    Commit(String),
    Refs,
    Tree(String, String),
    PathsInfo(String),
    Commits(String),
    Tag(String),
    Branch(String),
}

#[derive(Debug)]
enum Route {
    Whoami,
    List(RepoKind),
    CreateRepo,
    DeleteRepo,
    Repo {
        kind: RepoKind,
        owner: String,
        name: String,
        action: RepoAction,
    },
    Resolve {
        kind: RepoKind,
        owner: String,
        name: String,
        rev: String,
        path: String,
    },
    Collections,
    Collection(String),
    CollectionItems(String),
    ValidateYaml,
    LfsBatch {
        kind: RepoKind,
        owner: String,
        name: String,
    },
    LfsVerify {
        kind: RepoKind,
        owner: String,
        name: String,
    },
    LfsUpload(String),
    AdminImport,
    NotFound,
}

impl Route {
    fn label(&self) -> RouteLabel {
        match self {
            Route::Whoami => RouteLabel::Whoami,
            Route::List(_) => RouteLabel::List,
            Route::CreateRepo => RouteLabel::CreateRepo,
            Route::DeleteRepo => RouteLabel::DeleteRepo,
            Route::Resolve { .. } => RouteLabel::Resolve,
            Route::Collections | Route::Collection(_) | Route::CollectionItems(_) => {
                RouteLabel::Collection
            }
            Route::ValidateYaml => RouteLabel::ValidateYaml,
            Route::LfsBatch { .. } | Route::LfsVerify { .. } | Route::LfsUpload(_) => {
                RouteLabel::Lfs
            }
            Route::AdminImport => RouteLabel::AdminImport,
            Route::NotFound => RouteLabel::Unknown,
            Route::Repo { action, .. } => match action {
                RepoAction::Info(_) => RouteLabel::Info,
                RepoAction::Settings => RouteLabel::Settings,
                RepoAction::Preupload(_) => RouteLabel::Preupload,
                RepoAction::Commit(_) => RouteLabel::Commit,
                RepoAction::Refs => RouteLabel::Refs,
                RepoAction::Tree(..) => RouteLabel::Tree,
                RepoAction::PathsInfo(_) => RouteLabel::PathsInfo,
                RepoAction::Commits(_) => RouteLabel::Commits,
                RepoAction::Tag(_) => RouteLabel::Tag,
                RepoAction::Branch(_) => RouteLabel::Branch,
            },
        }
    }
}

/// Splits a raw path into decoded segments.
fn segments(path: &str) -> Result<Vec<String>, ApiError> {
    path.strip_prefix('/')
        .unwrap_or(path)
        .split('/')
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| {
                    ApiError::bad_request(
                        "InvalidPath",
                        "the URL path is not valid UTF-8 once decoded",
                    )
                })
        })
        .collect()
}

fn parse(path: &str) -> Result<Route, ApiError> {
    let segs = segments(path)?;
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let rest = |from: usize| s[from..].join("/");
    let lfs = |kind: RepoKind, owner: &str, name: &str, verify: bool| {
        let Some(name) = name.strip_suffix(".git") else {
            return Route::NotFound;
        };
        let (owner, name) = (owner.to_owned(), name.to_owned());
        if verify {
            Route::LfsVerify { kind, owner, name }
        } else {
            Route::LfsBatch { kind, owner, name }
        }
    };
    let route = match s.as_slice() {
        ["api", "lfs", "upload", ticket] => Route::LfsUpload((*ticket).to_owned()),
        [
            "datasets",
            owner,
            name,
            "info",
            "lfs",
            "objects",
            op @ ("batch" | "verify"),
        ] => lfs(RepoKind::Dataset, owner, name, *op == "verify"),
        [
            owner,
            name,
            "info",
            "lfs",
            "objects",
            op @ ("batch" | "verify"),
        ] => lfs(RepoKind::Model, owner, name, *op == "verify"),
        ["api", "whoami-v2"] => Route::Whoami,
        ["api", "validate-yaml"] => Route::ValidateYaml,
        ["api", "admin", "import"] => Route::AdminImport,
        ["api", "repos", "create"] => Route::CreateRepo,
        ["api", "repos", "delete"] => Route::DeleteRepo,
        ["api", "collections"] => Route::Collections,
        ["api", "collections", owner, tail] => Route::Collection(format!("{owner}/{tail}")),
        ["api", "collections", owner, tail, "items"] => {
            Route::CollectionItems(format!("{owner}/{tail}"))
        }
        ["api", plural] => match RepoKind::from_plural(plural) {
            Some(kind) => Route::List(kind),
            None => Route::NotFound,
        },
        ["api", plural, owner, name, tail @ ..] => {
            let Some(kind) = RepoKind::from_plural(plural) else {
                return Ok(Route::NotFound);
            };
            let action = match tail {
                [] => RepoAction::Info(None),
                ["revision", _, ..] => RepoAction::Info(Some(rest(5))),
                ["settings"] => RepoAction::Settings,
                ["refs"] => RepoAction::Refs,
                ["preupload", _, ..] => RepoAction::Preupload(rest(5)),
                ["commit", _, ..] => RepoAction::Commit(rest(5)),
                ["paths-info", _, ..] => RepoAction::PathsInfo(rest(5)),
                ["commits", _, ..] => RepoAction::Commits(rest(5)),
                ["tag", _, ..] => RepoAction::Tag(rest(5)),
                ["branch", _, ..] => RepoAction::Branch(rest(5)),
                ["tree", rev, ..] => RepoAction::Tree((*rev).to_owned(), rest(6)),
                ["xet-write-token" | "xet-read-token", ..] => return Err(xet_unsupported()),
                _ => return Ok(Route::NotFound),
            };
            Route::Repo {
                kind,
                owner: (*owner).to_owned(),
                name: (*name).to_owned(),
                action,
            }
        }
        ["datasets", owner, name, "resolve", rev, _, ..] => Route::Resolve {
            kind: RepoKind::Dataset,
            owner: (*owner).to_owned(),
            name: (*name).to_owned(),
            rev: (*rev).to_owned(),
            path: rest(5),
        },
        [owner, name, "resolve", rev, _, ..] => Route::Resolve {
            kind: RepoKind::Model,
            owner: (*owner).to_owned(),
            name: (*name).to_owned(),
            rev: (*rev).to_owned(),
            path: rest(4),
        },
        _ => Route::NotFound,
    };
    Ok(route)
}

/// huggingface_hub (1.0 and later) uploads through Xet whenever `hf_xet` is installed, and
/// asks for a Xet token first: the answer says what to do instead (this server speaks the
/// Git LFS basic transfer), the same for every repo, so it tells nothing about any.
fn xet_unsupported() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "XetUnsupported",
        "this server does not speak the Xet storage protocol: large files are uploaded through \
         Git LFS. With huggingface_hub 1.0 or later and hf_xet installed, set \
         HF_HUB_DISABLE_XET=1 (huggingface_hub then uses the LFS batch API)",
    )
}

fn method_not_allowed(method: &Method, path: &str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("{method} is not allowed on {path}"),
    )
}

/// The one handler behind every path.
pub async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let route = parse(parts.uri.path());
    let label = route.as_ref().map_or(RouteLabel::Unknown, Route::label);
    app.counters.record(label);
    let result = match route {
        Ok(route) => {
            let body = body::RequestBody::new(body);
            std::panic::AssertUnwindSafe(dispatch(&app, parts, body, route))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    Err(ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "ServerError",
                        "the server hit an internal error on this request",
                    ))
                })
        }
        Err(e) => Err(e),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn dispatch(
    app: &App,
    parts: axum::http::request::Parts,
    body: body::RequestBody,
    route: Route,
) -> Result<Response, ApiError> {
    let caller = Caller::from_headers(&parts.headers, &app.tokens)?;
    let ctx = Ctx {
        caller,
        base: app.base_url(&parts.headers),
        query: Query::parse(parts.uri.query()),
        headers: parts.headers,
    };
    let method = parts.method;
    let path = parts.uri.path();
    // The caller and the route's rights are checked from the headers before any body is
    // read; anonymous bodies are capped small.
    let limit = if ctx.caller.is_authenticated() {
        app.max_body_bytes
    } else {
        body::ANONYMOUS_BODY_LIMIT.min(app.max_body_bytes)
    };
    let read =
        |body: body::RequestBody| body::read_limited(body.take(), &ctx.headers, limit, &app.budget);
    let write_token = || ctx.caller.require_write_token().map(|_| ());
    let get_like = method == Method::GET || method == Method::HEAD;
    match route {
        Route::NotFound => Err(ApiError::not_found_route(path)),
        Route::Whoami if get_like => api_repos::whoami(&ctx),
        Route::ValidateYaml if method == Method::POST => {
            api_card::validate_yaml(&read(body).await?)
        }
        Route::List(kind) if get_like => listing::list(app, &ctx, kind),
        Route::AdminImport if method == Method::POST => {
            // Rights are checked before any of the (possibly large) body is read.
            api_admin::import(app, &ctx, body.take()).await
        }
        Route::CreateRepo if method == Method::POST => {
            write_token()?;
            api_repos::create_repo(app, &ctx, &read(body).await?).await
        }
        Route::DeleteRepo if method == Method::DELETE => {
            write_token()?;
            api_repos::delete_repo(app, &ctx, &read(body).await?).await
        }
        Route::Collections if method == Method::POST => {
            write_token()?;
            api_collections::create(app, &ctx, &read(body).await?).await
        }
        Route::Collections if get_like => api_collections::list(app, &ctx),
        Route::Collection(slug) if get_like => api_collections::get(app, &ctx, &slug),
        Route::CollectionItems(slug) if method == Method::POST => {
            write_token()?;
            api_collections::add_item(app, &ctx, &slug, &read(body).await?).await
        }
        Route::LfsBatch { kind, owner, name } if method == Method::POST => {
            let r = RepoPath {
                kind,
                owner: &owner,
                name: &name,
            };
            lfs::batch(app, &ctx, r, body).await
        }
        Route::LfsVerify { kind, owner, name } if method == Method::POST => {
            let r = RepoPath {
                kind,
                owner: &owner,
                name: &name,
            };
            lfs::verify(app, &ctx, r, body).await
        }
        Route::LfsUpload(ticket) if method == Method::PUT => {
            lfs::upload(app, &ctx, &ticket, body.take()).await
        }
        Route::Resolve {
            kind,
            owner,
            name,
            rev,
            path,
        } if get_like => {
            let r = RepoPath {
                kind,
                owner: &owner,
                name: &name,
            };
            resolve::resolve(app, &ctx, &method, r, &rev, &path).await
        }
        Route::Repo {
            kind,
            owner,
            name,
            action,
        } => {
            let r = RepoPath {
                kind,
                owner: &owner,
                name: &name,
            };
            match action {
                RepoAction::Info(rev) if get_like => {
                    api_repos::info(app, &ctx, r, rev.as_deref()).await
                }
                RepoAction::Settings if method == Method::PUT => {
                    api_repos::writable(app, &ctx, r)?;
                    api_repos::settings(app, &ctx, r, &read(body).await?).await
                }
                RepoAction::Refs if get_like => api_repos::refs(app, &ctx, r),
                RepoAction::Preupload(rev) if method == Method::POST => {
                    api_repos::writable(app, &ctx, r)?;
                    api_files::preupload(app, &ctx, r, &rev, &read(body).await?).await
                }
                RepoAction::Commit(rev) if method == Method::POST => {
                    commit::commit(app, &ctx, r, &rev, body.take(), limit).await
                }
                RepoAction::Tree(rev, dir) if get_like => {
                    api_files::tree(app, &ctx, r, &rev, &dir).await
                }
                RepoAction::PathsInfo(rev) if method == Method::POST => {
                    api_repos::visible(app, &ctx, r)?;
                    api_files::paths_info(app, &ctx, r, &rev, &read(body).await?).await
                }
                RepoAction::Commits(rev) if get_like => {
                    api_repos::commits(app, &ctx, r, &rev).await
                }
                RepoAction::Tag(rev) if method == Method::POST || method == Method::DELETE => {
                    let delete = method == Method::DELETE;
                    api_repos::writable(app, &ctx, r)?;
                    api_repos::tag(app, &ctx, r, &rev, delete, &read(body).await?).await
                }
                RepoAction::Branch(b) if method == Method::POST || method == Method::DELETE => {
                    let delete = method == Method::DELETE;
                    api_repos::writable(app, &ctx, r)?;
                    api_repos::branch(app, &ctx, r, &b, delete, &read(body).await?).await
                }
                _ => Err(method_not_allowed(&method, path)),
            }
        }
        _ => Err(method_not_allowed(&method, path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> String {
        format!("{:?}", parse(path).unwrap())
    }

    #[test]
    fn routes() {
        assert_eq!(route("/api/models"), "List(Model)");
        assert!(route("/api/models/o/n").contains("Info(None)"));
        assert!(
            route("/api/models/o/n/revision/refs%2Fpr%2F1").contains("Info(Some(\"refs/pr/1\"))")
        );
        assert!(route("/api/datasets/o/n/tree/main/a/b%2Fc").contains("Tree(\"main\", \"a/b/c\")"));
        assert!(route("/api/models/o/n/tree/feature%2Fx").contains("Tree(\"feature/x\", \"\")"));
        assert!(route("/o/n/resolve/main/dir/f%20g.txt").contains("path: \"dir/f g.txt\""));
        assert!(route("/datasets/o/n/resolve/v1/x.csv").contains("kind: Dataset"));
        assert!(route("/o/n/resolve/main/a/../b").contains("path: \"a/../b\""));
        assert_eq!(route("/api/collections"), "Collections");
        assert_eq!(route("/api/collections/o/t-1"), "Collection(\"o/t-1\")");
        assert_eq!(route("/api/spaces"), "NotFound");
        assert_eq!(route("/nothing/here"), "NotFound");
        assert!(route("/o/n.git/info/lfs/objects/batch").contains("LfsBatch { kind: Model"));
        assert!(route("/o/n.git/info/lfs/objects/batch").contains("name: \"n\""));
        assert!(
            route("/datasets/o/n.git/info/lfs/objects/verify")
                .contains("LfsVerify { kind: Dataset")
        );
        assert_eq!(route("/o/n/info/lfs/objects/batch"), "NotFound");
        assert_eq!(route("/api/lfs/upload/abc"), "LfsUpload(\"abc\")");
        assert!(parse("/o/n/resolve/main/%FF").is_err());
    }
}

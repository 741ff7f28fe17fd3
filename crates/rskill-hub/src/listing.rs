//! `GET /api/models` and `GET /api/datasets`: search, author, repeated `filter` (every
//! value must be among the repo's tags), sort, and cursor pagination through an absolute
//! `Link: <…>; rel="next"` header. Runs over the in-memory index only: no disk access per
//! request, whatever the number of repos.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::http::{HeaderValue, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::app::{App, Ctx, json_response};
use super::catalog::RepoEntry;
use super::errors::ApiError;
use super::names::RepoKind;
use super::render::{self, RepoFields};

/// The largest page.
pub const MAX_PAGE: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Id,
    LastModified,
    CreatedAt,
    /// Counters this server does not keep (downloads, likes, trending): all equal.
    Constant,
}

/// A parsed listing query.
#[derive(Debug)]
struct ListQuery {
    search: Option<String>,
    author: Option<String>,
    filters: Vec<String>,
    sort: SortKey,
    descending: bool,
    limit: usize,
    cursor: Option<(String, String)>,
    fields: RepoFields,
}

fn parse(ctx: &Ctx) -> Result<ListQuery, ApiError> {
    let q = &ctx.query;
    let sort = match q.get("sort") {
        None | Some("") | Some("id") | Some("modelId") => SortKey::Id,
        Some("lastModified") | Some("last_modified") => SortKey::LastModified,
        Some("createdAt") | Some("created_at") => SortKey::CreatedAt,
        Some("downloads")
        | Some("likes")
        | Some("trendingScore")
        | Some("trending_score")
        | Some("downloadsAllTime") => SortKey::Constant,
        Some(other) => {
            return Err(ApiError::bad_request(
                "InvalidSort",
                format!(
                    "cannot sort by `{other}` (id, lastModified, createdAt, downloads, likes, trendingScore)"
                ),
            ));
        }
    };
    let descending = match q.get("direction") {
        Some("-1") => true,
        Some("1") => false,
        None | Some("") => sort != SortKey::Id,
        Some(other) => {
            return Err(ApiError::bad_request(
                "InvalidDirection",
                format!("direction must be 1 or -1, not `{other}`"),
            ));
        }
    };
    let limit = q.limit(MAX_PAGE)?;
    let cursor = match q.get("cursor") {
        None | Some("") => None,
        Some(c) => Some(decode_cursor(c)?),
    };
    let expand: Vec<String> = q.all("expand").into_iter().map(str::to_owned).collect();
    let full = q.flag("full");
    Ok(ListQuery {
        search: q
            .get("search")
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase),
        author: q.get("author").filter(|s| !s.is_empty()).map(str::to_owned),
        filters: q
            .all("filter")
            .into_iter()
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        sort,
        descending,
        limit,
        cursor,
        fields: RepoFields {
            card_data: full || q.flag("cardData"),
            siblings: full,
            only: (!expand.is_empty()).then_some(expand),
        },
    })
}

fn encode_cursor(key: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&[key, id]).expect("strings serialize"))
}

fn decode_cursor(c: &str) -> Result<(String, String), ApiError> {
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice::<(String, String)>(&b).ok())
        .ok_or_else(|| {
            ApiError::bad_request("InvalidCursor", "the cursor is not one this server issued")
        })
}

fn sort_value(entry: &RepoEntry, key: SortKey) -> &str {
    match key {
        SortKey::Id => &entry.id_lower,
        SortKey::LastModified => &entry.head.last_modified,
        SortKey::CreatedAt => &entry.meta.created_at,
        SortKey::Constant => "",
    }
}

fn matches(entry: &RepoEntry, q: &ListQuery, ctx: &Ctx) -> bool {
    if let Some(author) = &q.author
        && !entry.id.owner().eq_ignore_ascii_case(author)
    {
        return false;
    }
    if let Some(s) = &q.search
        && !entry.id_lower.contains(s.as_str())
    {
        return false;
    }
    if !q
        .filters
        .iter()
        .all(|f| entry.head.tags.iter().any(|t| t == f))
    {
        return false;
    }
    ctx.caller.can_see(entry)
}

/// One page of a listing, and the cursor of the next page if there is one.
fn page(
    app: &App,
    ctx: &Ctx,
    kind: RepoKind,
    q: &ListQuery,
) -> (Vec<Arc<RepoEntry>>, Option<String>) {
    app.catalog.with_repos(kind, |repos| {
        let mut hits: Vec<&Arc<RepoEntry>> =
            repos.values().filter(|e| matches(e, q, ctx)).collect();
        let order = |a: &RepoEntry, b: &RepoEntry| -> Ordering {
            let o = sort_value(a, q.sort)
                .cmp(sort_value(b, q.sort))
                .then_with(|| a.id_lower.cmp(&b.id_lower));
            if q.descending { o.reverse() } else { o }
        };
        if q.sort != SortKey::Id || q.descending {
            hits.sort_by(|a, b| order(a, b));
        }
        let start = match &q.cursor {
            None => 0,
            Some((key, id)) => hits.partition_point(|e| {
                let o = sort_value(e, q.sort)
                    .cmp(key.as_str())
                    .then_with(|| e.id_lower.as_str().cmp(id.as_str()));
                let o = if q.descending { o.reverse() } else { o };
                o != Ordering::Greater
            }),
        };
        let end = (start + q.limit).min(hits.len());
        let items: Vec<Arc<RepoEntry>> = hits[start..end].iter().map(|e| Arc::clone(e)).collect();
        let next = (end < hits.len())
            .then(|| {
                items
                    .last()
                    .map(|e| encode_cursor(sort_value(e, q.sort), &e.id_lower))
            })
            .flatten();
        (items, next)
    })
}

/// Answers a listing request.
pub fn list(app: &App, ctx: &Ctx, kind: RepoKind) -> Result<Response, ApiError> {
    let q = parse(ctx)?;
    let (items, next) = page(app, ctx, kind, &q);
    let body: Vec<Value> = items
        .iter()
        .map(|e| render::repo_json(e, &e.head, None, &q.fields))
        .collect();
    let mut response = json_response(&Value::Array(body));
    if let Some(cursor) = next {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in ctx.query.0.iter().filter(|(k, _)| k != "cursor") {
            query.append_pair(k, v);
        }
        query.append_pair("cursor", &cursor);
        let link = format!(
            "<{}/api/{}?{}>; rel=\"next\"",
            ctx.base,
            kind.plural(),
            query.finish()
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(response)
}

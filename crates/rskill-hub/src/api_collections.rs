//! The collections endpoints (`POST /api/collections`, `GET /api/collections?owner=…`,
//! `GET /api/collections/{slug}`, `POST …/{slug}/items`) over the store in
//! [`super::collections`]. An answer lists only the items the caller may read at that
//! moment, so a private repo (or one made private after it was added) shows neither its
//! id nor its note.

use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::app::{App, Ctx, blocking, json_response};
use super::body;
use super::collections::{CollectionRecord, ItemRecord, random_hex, slugify};
use super::errors::ApiError;
use super::names::{self, RepoKind};
use super::timefmt;

/// Whether the caller may read the repo an item names (now: a repo made private after
/// it was added is hidden too; so is one deleted since).
fn item_readable(app: &App, ctx: &Ctx, item: &ItemRecord) -> bool {
    RepoKind::from_singular(&item.item_type)
        .and_then(|kind| app.catalog.get(kind, &item.item_id))
        .is_some_and(|entry| ctx.caller.can_see(&entry))
}

/// A collection as the caller may see it: only the items it may read.
fn render(app: &App, ctx: &Ctx, c: &CollectionRecord) -> Value {
    let items: Vec<Value> = c
        .items
        .iter()
        .filter(|item| item_readable(app, ctx, item))
        .enumerate()
        .map(|(i, item)| {
            let mut v = json!({
                "_id": item.object_id,
                "id": item.item_id,
                "type": item.item_type,
                "repoType": item.item_type,
                "position": i,
            });
            if let Some(note) = &item.note {
                v["note"] = json!({ "text": note, "html": note });
            }
            v
        })
        .collect();
    json!({
        "slug": c.slug,
        "title": c.title,
        "description": c.description,
        "owner": { "name": c.owner, "type": c.owner_type },
        "private": c.private,
        "items": items,
        "lastUpdated": c.last_updated,
        "position": 0,
        "theme": "default",
        "upvotes": 0,
        "isUpvotedByUser": false,
        "gating": false,
    })
}

fn not_found(slug: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "CollectionNotFound",
        format!("collection {slug} not found"),
    )
}

#[derive(Deserialize)]
struct CreateBody {
    title: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    private: Option<bool>,
    #[serde(default)]
    description: Option<String>,
}

/// `POST /api/collections`.
pub async fn create(app: &App, ctx: &Ctx, raw: &[u8]) -> Result<Response, ApiError> {
    let req: CreateBody = body::parse_json(raw)?;
    let user = ctx.caller.require_user()?.clone();
    let owner = req.namespace.clone().unwrap_or_else(|| user.user.clone());
    names::check_account_name(&owner).map_err(ApiError::from)?;
    ctx.caller.require_write(&owner)?;
    let title = req.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "InvalidTitle",
            "a collection title has 1 to 200 characters",
        ));
    }
    if req
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1000)
    {
        return Err(ApiError::bad_request(
            "InvalidDescription",
            "a description has at most 1000 characters",
        ));
    }
    let existing = app
        .collections
        .map
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .find(|c| c.owner == owner && c.title == title)
        .map(|c| c.slug.clone());
    if let Some(slug) = existing {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "CollectionExists",
            format!("collection `{title}` already exists"),
        )
        .with_field("slug", Value::String(slug)));
    }
    let now = timefmt::now();
    let record = CollectionRecord {
        slug: format!("{owner}/{}-{}", slugify(&title), random_hex(12)?),
        title,
        owner_type: if owner == user.user { "user" } else { "org" }.into(),
        owner,
        description: req.description,
        private: req.private.unwrap_or(false),
        items: Vec::new(),
        created_at: now.clone(),
        last_updated: now,
    };
    let value = render(app, ctx, &record);
    let collections = app.collections.clone();
    blocking(move || {
        let _w = collections.writer.lock().unwrap_or_else(|e| e.into_inner());
        collections.save(&record)?;
        collections
            .map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(record.slug.clone(), record);
        Ok(())
    })
    .await?;
    Ok(json_response(&value))
}

fn visible(ctx: &Ctx, c: &CollectionRecord) -> bool {
    !c.private || ctx.caller.member_of(&c.owner)
}

/// `GET /api/collections/{slug}`.
pub fn get(app: &App, ctx: &Ctx, slug: &str) -> Result<Response, ApiError> {
    match app.collections.get(slug) {
        Some(c) if visible(ctx, &c) => Ok(json_response(&render(app, ctx, &c))),
        _ => Err(not_found(slug)),
    }
}

/// Most collections one listing returns (the Hub's own cap).
const MAX_LIST: usize = 100;

/// `GET /api/collections[?owner=…][&limit=…]`: the collections the caller may see
/// (private ones only to the owner's members), oldest first, in the same shape as
/// `GET /api/collections/{slug}`.
pub fn list(app: &App, ctx: &Ctx) -> Result<Response, ApiError> {
    let owner = ctx.query.get("owner").filter(|o| !o.is_empty());
    let limit = ctx.query.limit(MAX_LIST)?;
    let map = app
        .collections
        .map
        .read()
        .unwrap_or_else(|e| e.into_inner());
    let mut found: Vec<&CollectionRecord> = map
        .values()
        .filter(|c| owner.is_none_or(|o| c.owner == o) && visible(ctx, c))
        .collect();
    found.sort_by(|a, b| (&a.created_at, &a.slug).cmp(&(&b.created_at, &b.slug)));
    let items: Vec<Value> = found
        .into_iter()
        .take(limit)
        .map(|c| render(app, ctx, c))
        .collect();
    Ok(json_response(&Value::Array(items)))
}

#[derive(Deserialize)]
struct ItemRef {
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct AddItemBody {
    item: ItemRef,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /api/collections/{slug}/items`.
pub async fn add_item(app: &App, ctx: &Ctx, slug: &str, raw: &[u8]) -> Result<Response, ApiError> {
    let req: AddItemBody = body::parse_json(raw)?;
    let current = match app.collections.get(slug) {
        Some(c) if visible(ctx, &c) => c,
        _ => return Err(not_found(slug)),
    };
    ctx.caller.require_write(&current.owner)?;
    let Some(kind) = RepoKind::from_singular(&req.item.kind) else {
        return Err(ApiError::bad_request(
            "UnsupportedItemType",
            format!(
                "item type `{}` is not hosted here (model or dataset)",
                req.item.kind
            ),
        ));
    };
    let entry = app.catalog.get(kind, &req.item.id);
    ctx.caller.see(entry.as_deref(), &req.item.id)?;
    if req.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(ApiError::bad_request(
            "InvalidNote",
            "a note has at most 500 characters",
        ));
    }
    let object_id = random_hex(12).map_err(ApiError::from)?;
    let collections = app.collections.clone();
    let slug = slug.to_owned();
    let item = ItemRecord {
        object_id,
        item_id: req.item.id,
        item_type: kind.singular().to_owned(),
        note: req.note,
    };
    let updated = blocking(move || {
        let _w = collections.writer.lock().unwrap_or_else(|e| e.into_inner());
        let Some(mut c) = collections.get(&slug) else {
            return Ok(Err(not_found(&slug)));
        };
        if c.items
            .iter()
            .any(|i| i.item_id == item.item_id && i.item_type == item.item_type)
        {
            return Ok(Err(ApiError::new(
                StatusCode::CONFLICT,
                "ItemExists",
                format!("{} is already in {slug}", item.item_id),
            )));
        }
        c.items.push(item);
        c.last_updated = timefmt::now();
        collections.save(&c)?;
        collections
            .map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(c.slug.clone(), c.clone());
        Ok(Ok(c))
    })
    .await??;
    Ok(json_response(&render(app, ctx, &updated)))
}

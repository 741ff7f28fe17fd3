//! Model listings (`GET /api/models`) with every filter the Hub accepts, repeated
//! `filter` tags included (the hf-hub crate sends only one), following the `Link`
//! header page by page.

use serde::{Deserialize, Serialize};

use super::client::{Ctx, HubClient, MAX_JSON_BYTES};
use super::error::HubError;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub search: Option<String>,
    pub author: Option<String>,
    /// Tags that must all be present.
    pub filters: Vec<String>,
    pub sort: Option<String>,
    /// Page size.
    pub limit: Option<usize>,
    pub full: bool,
    pub card_data: bool,
    /// Only these properties of each repo (`expand`, as the Hub names them, e.g.
    /// `sha`, `tags`, `siblings`): a smaller page than `full`.
    pub expand: Vec<&'static str>,
}

/// One entry of a listing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelListing {
    pub id: String,
    #[serde(default)]
    pub sha: Option<super::ids::CommitId>,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
    #[serde(default)]
    pub card_data: Option<serde_json::Value>,
    #[serde(default)]
    pub siblings: Option<Vec<ListingSibling>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListingSibling {
    pub rfilename: String,
}

impl ListQuery {
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if let Some(s) = &self.search {
            p.push(("search", s.clone()));
        }
        if let Some(a) = &self.author {
            p.push(("author", a.clone()));
        }
        for f in &self.filters {
            p.push(("filter", f.clone()));
        }
        if let Some(s) = &self.sort {
            p.push(("sort", s.clone()));
        }
        if let Some(l) = self.limit {
            p.push(("limit", l.to_string()));
        }
        if self.full {
            p.push(("full", "true".into()));
        }
        if self.card_data {
            p.push(("cardData", "true".into()));
        }
        for e in &self.expand {
            p.push(("expand", (*e).to_string()));
        }
        p
    }
}

/// The URL of the next page, from a `Link: <url>; rel="next"` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, rest) = part.trim().split_once(';')?;
        rest.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

impl HubClient {
    /// Every entry of a listing, page by page; returns the entries and the number of
    /// pages (requests) it took.
    pub async fn list_models(
        &self,
        query: &ListQuery,
    ) -> Result<(Vec<ModelListing>, usize), HubError> {
        let ctx = Ctx::new("list models");
        let first = self.url("/api/models");
        let params = query.params();
        let mut items = Vec::new();
        let mut pages = 0;
        let mut next: Option<String> = None;
        loop {
            let response = match &next {
                None => self.send(|c| c.get(&first).query(&params), &ctx).await?,
                Some(url) => {
                    let url = url.clone();
                    self.send(|c| c.get(&url), &ctx).await?
                }
            };
            pages += 1;
            let link = response
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            let url = response.url().to_string();
            let bytes = self
                .read_body(response, MAX_JSON_BYTES, "JSON API answers")
                .await?;
            let page: Vec<ModelListing> = super::client::parse_json(&bytes, &url)?;
            let empty = page.is_empty();
            items.extend(page);
            match link {
                Some(l) if !empty => next = Some(l),
                _ => return Ok((items, pages)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_link_headers() {
        assert_eq!(
            next_link("<http://h/api/models?cursor=abc&limit=2>; rel=\"next\"").as_deref(),
            Some("http://h/api/models?cursor=abc&limit=2")
        );
        assert_eq!(next_link("<http://h/x>; rel=\"prev\""), None);
    }
}

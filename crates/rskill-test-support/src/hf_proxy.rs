//! A proxy that makes the project's own `rskill-hub` behave like huggingface.co under
//! load, for tests of every client path against the Hub as it really is: fixed-window
//! quotas per bucket (`api`, `resolvers` = `/resolve/`, `pages` = listings) announced on
//! every answer with `RateLimit` / `RateLimit-Policy` in the Hub's form, and over quota a
//! `429` with those headers and no `Retry-After`; a seeded share of requests answered
//! `503`; listings re-paged to a small page size behind an opaque `cursor` in an absolute
//! `Link: <…>; rel="next"`; and LFS `/resolve/` answered with a `302` to a second origin,
//! a presigned-store stand-in that refuses any request carrying `Authorization` and
//! serves ranges. It forwards real requests to a real server (no mock) and counts what it
//! did ([`Counters`]). Runs on its own thread; stops on drop.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, TryStreamExt};

/// One quota: requests allowed per window.
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    pub api: u64,
    pub resolvers: u64,
    pub pages: u64,
    /// The fixed window, in whole seconds as the headers say it.
    pub window: Duration,
}

impl Quotas {
    /// Quotas no test reaches.
    pub fn unlimited() -> Quotas {
        Quotas {
            api: u64::MAX / 2,
            resolvers: u64::MAX / 2,
            pages: u64::MAX / 2,
            window: Duration::from_secs(300),
        }
    }
}

/// How the proxy misbehaves.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub quotas: Quotas,
    /// Share of requests (0.0–1.0) answered `503`, drawn from `seed`.
    pub unavailable_share: f64,
    pub seed: u64,
    /// Listings re-paged to this many entries per page (0: passed through as is).
    pub page_size: usize,
    /// LFS files' `/resolve/` answered with a `302` to the store stand-in.
    pub redirect_lfs: bool,
    /// The store stand-in cuts the first answer covering this offset there (once).
    pub store_drop_once_at: Option<u64>,
}

impl Default for Behaviour {
    fn default() -> Behaviour {
        Behaviour {
            quotas: Quotas::unlimited(),
            unavailable_share: 0.0,
            seed: 1,
            page_size: 0,
            redirect_lfs: false,
            store_drop_once_at: None,
        }
    }
}

/// What the proxy did, for tests to assert on.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests received by the Hub side (the store's not included).
    pub requests: AtomicUsize,
    pub too_many: AtomicUsize,
    pub unavailable: AtomicUsize,
    /// Listing pages served.
    pub pages: AtomicUsize,
    /// `302`s to the store.
    pub redirects: AtomicUsize,
    /// Requests the store received.
    pub store_requests: AtomicUsize,
    /// Store requests refused for carrying `Authorization`.
    pub store_refused: AtomicUsize,
    /// Store requests with a `Range` header.
    pub store_ranges: AtomicUsize,
    /// Store answers cut mid-body.
    pub store_drops: AtomicUsize,
}

impl Counters {
    pub fn get(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::SeqCst)
    }
}

/// The three buckets of the Hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    Api,
    Resolvers,
    Pages,
}

impl Bucket {
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Api => "api",
            Bucket::Resolvers => "resolvers",
            Bucket::Pages => "pages",
        }
    }

    /// The bucket of a request path.
    pub fn of(path: &str) -> Bucket {
        if path.contains("/resolve/") {
            Bucket::Resolvers
        } else if path == "/api/models" {
            Bucket::Pages
        } else {
            Bucket::Api
        }
    }

    fn quota(self, q: &Quotas) -> u64 {
        match self {
            Bucket::Api => q.api,
            Bucket::Resolvers => q.resolvers,
            Bucket::Pages => q.pages,
        }
    }
}

/// A whole listing kept for its cursors.
struct Listing {
    items: Arc<Vec<serde_json::Value>>,
}

struct Windows {
    /// Per bucket: the window index and the requests counted in it.
    used: HashMap<Bucket, (u64, u64)>,
    rng: u64,
    listings: Vec<Listing>,
    /// Presigned "signatures" and the Authorization the Hub request carried.
    grants: HashMap<String, Option<HeaderValue>>,
    store_dropped: bool,
}

#[derive(Clone)]
struct Shared {
    upstream: String,
    public: String,
    store: String,
    client: reqwest::Client,
    behaviour: Behaviour,
    started: Instant,
    state: Arc<Mutex<Windows>>,
    counters: Arc<Counters>,
}

/// A running proxy and its store stand-in.
pub struct HfProxy {
    addr: SocketAddr,
    store_addr: SocketAddr,
    pub counters: Arc<Counters>,
    store_log: Arc<Mutex<Vec<crate::recording_proxy::Recorded>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "host",
];

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Counts the request in its bucket: `(left, seconds to reset, over quota)`.
    fn count(&self, bucket: Bucket) -> (u64, u64, bool) {
        let w = self.behaviour.quotas.window.as_secs().max(1);
        let elapsed = self.started.elapsed();
        let index = elapsed.as_secs() / w;
        let into = elapsed.as_secs_f64() - (index * w) as f64;
        let reset = ((w as f64 - into).ceil() as u64).max(1);
        let quota = bucket.quota(&self.behaviour.quotas);
        let mut state = lock(&self.state);
        let slot = state.used.entry(bucket).or_insert((index, 0));
        if slot.0 != index {
            *slot = (index, 0);
        }
        slot.1 += 1;
        let over = slot.1 > quota;
        (quota.saturating_sub(slot.1), reset, over)
    }

    /// Whether this request draws a `503`.
    fn draw_unavailable(&self) -> bool {
        if self.behaviour.unavailable_share <= 0.0 {
            return false;
        }
        let mut state = lock(&self.state);
        // xorshift64*: deterministic for a seed.
        let mut x = state.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.rng = x;
        let r = x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        (r as f64 / (1u64 << 53) as f64) < self.behaviour.unavailable_share
    }

    fn limit_headers(&self, bucket: Bucket, left: u64, reset: u64) -> Vec<(&'static str, String)> {
        let q = &self.behaviour.quotas;
        vec![
            (
                "ratelimit",
                format!("\"{}\";r={left};t={reset}", bucket.name()),
            ),
            (
                "ratelimit-policy",
                format!(
                    "\"fixed window\";\"{}\";q={};w={}",
                    bucket.name(),
                    bucket.quota(q).min(u32::MAX as u64),
                    q.window.as_secs().max(1)
                ),
            ),
        ]
    }
}

fn with_headers(mut response: Response, headers: &[(&'static str, String)]) -> Response {
    for (n, v) in headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            response.headers_mut().insert(*n, v);
        }
    }
    response
}

fn forwarded_headers(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (n, v) in headers {
        if !HOP_BY_HOP.contains(&n.as_str()) {
            out.append(n.clone(), v.clone());
        }
    }
    out
}

async fn hub_side(State(shared): State<Shared>, req: Request) -> Response {
    shared.counters.requests.fetch_add(1, Ordering::SeqCst);
    let path = req.uri().path().to_owned();
    let bucket = Bucket::of(&path);
    let (left, reset, over) = shared.count(bucket);
    let limits = shared.limit_headers(bucket, left, reset);
    if over {
        shared.counters.too_many.fetch_add(1, Ordering::SeqCst);
        // The Hub's way: the limit headers, no Retry-After.
        let r = (StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded").into_response();
        return with_headers(r, &limits);
    }
    if shared.draw_unavailable() {
        shared.counters.unavailable.fetch_add(1, Ordering::SeqCst);
        let r = (StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response();
        return with_headers(r, &limits);
    }
    let answer = match bucket {
        Bucket::Pages if shared.behaviour.page_size > 0 && req.method() == "GET" => {
            listing_page(&shared, req).await
        }
        Bucket::Resolvers if shared.behaviour.redirect_lfs => resolve(&shared, req).await,
        _ => forward(&shared, req).await,
    };
    with_headers(answer, &limits)
}

async fn forward(shared: &Shared, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let sent = shared
        .client
        .request(parts.method, format!("{}{target}", shared.upstream))
        .headers(forwarded_headers(&parts.headers))
        .body(reqwest::Body::wrap_stream(body.into_data_stream()))
        .send()
        .await;
    match sent {
        Ok(resp) => crate::recording_proxy::stream_response(resp),
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

/// A listing page: the first request reads the whole listing from upstream (following
/// its own `Link`s) and serves `page_size` entries; the rest come by opaque cursor.
async fn listing_page(shared: &Shared, req: Request) -> Response {
    let query = req.uri().query().unwrap_or("").to_owned();
    let cursor = form_pairs(&query)
        .into_iter()
        .find(|(k, _)| k == "cursor")
        .map(|(_, v)| v);
    let (id, offset, items) = match cursor {
        Some(c) => {
            let Some((id, offset)) = decode_cursor(&c) else {
                return (StatusCode::BAD_REQUEST, "invalid cursor").into_response();
            };
            let state = lock(&shared.state);
            let Some(l) = state.listings.get(id) else {
                return (StatusCode::BAD_REQUEST, "unknown cursor").into_response();
            };
            (id, offset, l.items.clone())
        }
        None => {
            let mut items = Vec::new();
            let mut next = Some(format!("{}/api/models?{query}", shared.upstream));
            while let Some(url) = next.take() {
                let resp = match shared
                    .client
                    .get(&url)
                    .headers(forwarded_headers(req.headers()))
                    .send()
                    .await
                {
                    Ok(r) => r,
                    Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
                };
                if !resp.status().is_success() {
                    return crate::recording_proxy::stream_response(resp);
                }
                next = resp
                    .headers()
                    .get("link")
                    .and_then(|v| v.to_str().ok())
                    .and_then(rskill_hub_client::listing::next_link);
                match resp.json::<Vec<serde_json::Value>>().await {
                    Ok(page) if page.is_empty() => next = None,
                    Ok(page) => items.extend(page),
                    Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
                }
            }
            let mut state = lock(&shared.state);
            state.listings.push(Listing {
                items: Arc::new(items),
            });
            let id = state.listings.len() - 1;
            (id, 0, state.listings[id].items.clone())
        }
    };
    shared.counters.pages.fetch_add(1, Ordering::SeqCst);
    let end = (offset + shared.behaviour.page_size).min(items.len());
    let page = items.get(offset..end).unwrap_or(&[]);
    let mut out = Response::builder()
        .status(200)
        .header("content-type", "application/json");
    if end < items.len() {
        let public = &shared.public;
        out = out.header(
            "link",
            format!(
                "<{public}/api/models?cursor={}>; rel=\"next\"",
                encode_cursor(id, end)
            ),
        );
    }
    out.body(Body::from(serde_json::to_vec(page).unwrap_or_default()))
        .unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, e.to_string()).into_response())
}

/// An opaque cursor: hex of `listing:offset` (a client must not make sense of it).
fn encode_cursor(id: usize, offset: usize) -> String {
    hex::encode(format!("{id}:{offset}"))
}

fn decode_cursor(c: &str) -> Option<(usize, usize)> {
    let text = String::from_utf8(hex::decode(c).ok()?).ok()?;
    let (a, b) = text.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// `/resolve/`: an LFS file (upstream says `X-Linked-Etag`) is answered with a `302` to
/// the store; everything else is forwarded.
async fn resolve(shared: &Shared, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let mut headers = forwarded_headers(&parts.headers);
    headers.remove("range");
    let head = shared
        .client
        .head(format!("{}{target}", shared.upstream))
        .headers(headers)
        .send()
        .await;
    let head = match head {
        Ok(h) => h,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let lfs = head.headers().contains_key("x-linked-etag")
        && (head.status().is_success() || head.status() == StatusCode::FOUND);
    if !lfs {
        let (parts2, body) = (parts, Body::empty());
        return forward(shared, Request::from_parts(parts2, body)).await;
    }
    let grant = {
        let mut state = lock(&shared.state);
        let n = state.grants.len();
        let sig = hex::encode(format!("grant-{n}-{}", shared.behaviour.seed));
        state
            .grants
            .insert(sig.clone(), parts.headers.get("authorization").cloned());
        sig
    };
    shared.counters.redirects.fetch_add(1, Ordering::SeqCst);
    let store = &shared.store;
    let mut out = Response::builder()
        .status(StatusCode::FOUND)
        .header(
            "location",
            format!("{store}/blob{target}?X-Amz-Signature={grant}"),
        )
        .header("content-length", "0");
    for name in ["x-repo-commit", "etag", "x-linked-etag", "x-linked-size"] {
        if let Some(v) = head.headers().get(name) {
            out = out.header(name, v.as_bytes());
        }
    }
    out.body(Body::empty())
        .unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, e.to_string()).into_response())
}

/// The store stand-in: refuses `Authorization` (as presigned stores do), checks the
/// grant, and serves the bytes from upstream with ranges.
async fn store_side(
    State((shared, log)): State<(Shared, Arc<Mutex<Vec<crate::recording_proxy::Recorded>>>)>,
    req: Request,
) -> Response {
    shared
        .counters
        .store_requests
        .fetch_add(1, Ordering::SeqCst);
    let (parts, _) = req.into_parts();
    lock(&log).push(crate::recording_proxy::Recorded {
        method: parts.method.to_string(),
        target: parts.uri.to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
            .collect(),
    });
    if parts.headers.contains_key("authorization") {
        shared.counters.store_refused.fetch_add(1, Ordering::SeqCst);
        return (
            StatusCode::BAD_REQUEST,
            "InvalidArgument: Only one auth mechanism allowed",
        )
            .into_response();
    }
    let Some(target) = parts.uri.path().strip_prefix("/blob") else {
        return (StatusCode::NOT_FOUND, "no such key").into_response();
    };
    let sig = form_pairs(parts.uri.query().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "X-Amz-Signature")
        .map(|(_, v)| v);
    let Some(auth) = sig.and_then(|s| lock(&shared.state).grants.get(&s).cloned()) else {
        return (StatusCode::FORBIDDEN, "SignatureDoesNotMatch").into_response();
    };
    let mut request = shared
        .client
        .request(parts.method.clone(), format!("{}{target}", shared.upstream));
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let range = parts.headers.get("range").cloned();
    if let Some(r) = &range {
        shared.counters.store_ranges.fetch_add(1, Ordering::SeqCst);
        request = request.header("range", r.clone());
    }
    let resp = match request.send().await {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let start = resp
        .headers()
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes "))
        .and_then(|v| v.split('-').next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let cut = shared.behaviour.store_drop_once_at.filter(|&at| {
        let len = resp.content_length().unwrap_or(0);
        (start..start + len).contains(&at) && {
            let mut state = lock(&shared.state);
            !std::mem::replace(&mut state.store_dropped, true)
        }
    });
    let Some(at) = cut else {
        let mut r = crate::recording_proxy::stream_response(resp);
        for n in ["x-linked-etag", "x-linked-size", "x-repo-commit"] {
            r.headers_mut().remove(n);
        }
        return r;
    };
    shared.counters.store_drops.fetch_add(1, Ordering::SeqCst);
    // The body stops at `at` and the connection breaks (a reset mid-transfer).
    let mut out = Response::builder().status(resp.status().as_u16());
    for (n, v) in resp.headers() {
        if !HOP_BY_HOP.contains(&n.as_str()) {
            out = out.header(n.as_str(), v.as_bytes());
        }
    }
    let mut remaining = at - start;
    let stream = resp
        .bytes_stream()
        .map_err(std::io::Error::other)
        .map(move |chunk| {
            let chunk = chunk?;
            if remaining == 0 {
                return Err(std::io::Error::other("connection reset"));
            }
            let take = (chunk.len() as u64).min(remaining);
            remaining -= take;
            Ok(chunk.slice(..take as usize))
        })
        .chain(futures_util::stream::once(async {
            Err(std::io::Error::other("connection reset"))
        }));
    out.body(Body::from_stream(stream))
        .unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, e.to_string()).into_response())
}

impl HfProxy {
    /// Starts the proxy (and its store) on free 127.0.0.1 ports in front of `upstream`
    /// (`http://host:port`).
    pub fn start(upstream: &str, behaviour: Behaviour) -> HfProxy {
        let bind = || {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.set_nonblocking(true).expect("nonblocking");
            l
        };
        let (hub, store) = (bind(), bind());
        let addr = hub.local_addr().expect("address");
        let store_addr = store.local_addr().expect("address");
        let counters = Arc::new(Counters::default());
        let shared = Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            public: format!("http://{addr}"),
            store: format!("http://{store_addr}"),
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
            state: Arc::new(Mutex::new(Windows {
                used: HashMap::new(),
                rng: behaviour.seed.max(1),
                listings: Vec::new(),
                grants: HashMap::new(),
                store_dropped: false,
            })),
            behaviour,
            started: Instant::now(),
            counters: counters.clone(),
        };
        let store_log = Arc::new(Mutex::new(Vec::new()));
        let log = store_log.clone();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(async move {
                let hub = tokio::net::TcpListener::from_std(hub).expect("listener");
                let store = tokio::net::TcpListener::from_std(store).expect("listener");
                let store_app = axum::Router::new()
                    .fallback(store_side)
                    .with_state((shared.clone(), log));
                let hub_app = axum::Router::new().fallback(hub_side).with_state(shared);
                let (stop_a, stop_b) = tokio::sync::broadcast::channel::<()>(1);
                let mut stop_c = stop_a.subscribe();
                let mut stop_b = stop_b;
                tokio::spawn(async move {
                    let _ = stop_rx.await;
                    let _ = stop_a.send(());
                });
                let a = axum::serve(hub, hub_app).with_graceful_shutdown(async move {
                    let _ = stop_b.recv().await;
                });
                let b = axum::serve(store, store_app).with_graceful_shutdown(async move {
                    let _ = stop_c.recv().await;
                });
                let _ = tokio::join!(a, b);
            });
        });
        HfProxy {
            addr,
            store_addr,
            counters,
            store_log,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT` of the Hub side.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT` of the store stand-in.
    pub fn store_url(&self) -> String {
        format!("http://{}", self.store_addr)
    }

    /// Every request the store received.
    pub fn store_requests(&self) -> Vec<crate::recording_proxy::Recorded> {
        lock(&self.store_log).clone()
    }
}

impl Drop for HfProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_opaque_and_round_trip() {
        let c = encode_cursor(3, 40);
        assert!(!c.contains(':'));
        assert_eq!(decode_cursor(&c), Some((3, 40)));
        assert_eq!(decode_cursor("zz"), None);
    }

    #[test]
    fn buckets_follow_the_hub() {
        assert_eq!(Bucket::of("/org/x/resolve/main/a.bin"), Bucket::Resolvers);
        assert_eq!(Bucket::of("/api/models"), Bucket::Pages);
        assert_eq!(Bucket::of("/api/models/org/x"), Bucket::Api);
    }
}

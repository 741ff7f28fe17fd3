//! The one Hub client of rskill: the `hf-hub` crate for what it covers (repo
//! creation, settings, commits, tags, refs), and the few calls it lacks (multi-filter
//! listings, repo info with file metadata, collections, resumable verified downloads)
//! written on the same `reqwest` client, with the same token and retry policy.

use std::time::{Duration, Instant};

use futures::StreamExt;
use hf_hub::{HFClient, HFError, RepoTypeModel};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use super::env::{HubEnv, TokenSource};
use super::error::HubError;
use super::ratelimit::{self, Pacer, Wait, WaitCause};
use rskill_hub_protocol::repo_id::RepoId;

/// Attempts for a request that fails transiently (408, 429 without limits, 5xx, a
/// reset connection): five retries, as huggingface_hub makes.
const MAX_ATTEMPTS: usize = 6;
/// Attempts when the server never answers: each one already waited the whole
/// `HF_HUB_DOWNLOAD_TIMEOUT`, so a silent server is given up on sooner than a flaky one.
const MAX_SILENT_ATTEMPTS: usize = 3;
/// Longest wait between attempts of a transient failure, whatever Retry-After says
/// (waits for a rate-limit window are bounded by the pacer's budget instead).
const MAX_BACKOFF: Duration = Duration::from_secs(20);
/// The first retry's delay, doubled each time up to [`BACKOFF_CAP`], jittered.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(8);
/// Most waits for a window one request makes (each bounded by the budget too): a Hub
/// that says `t=0` forever cannot hold a request.
const MAX_WINDOW_WAITS: usize = 20;

/// Largest JSON API answer read (repo info, a listing page, a collection).
pub const MAX_JSON_BYTES: u64 = 8 << 20;
/// Largest small file read whole (a manifest, a card): the limit of local manifests.
pub const MAX_SMALL_FILE_BYTES: u64 = crate::validate::MAX_MANIFEST_BYTES;
/// Largest error body read (only its first words are shown).
const MAX_ERROR_BYTES: u64 = 64 << 10;
/// Slowest transfer accepted, in bytes per second, averaged over each window of
/// `HF_HUB_DOWNLOAD_TIMEOUT` seconds (like curl's `--speed-limit`/`--speed-time`).
pub const LOW_SPEED_BYTES_PER_SEC: u64 = 1024;

/// `limit` in words ("1 MiB", "64 KiB").
pub fn format_limit(limit: u64) -> String {
    if limit >= 1 << 20 && limit.is_multiple_of(1 << 20) {
        format!("{} MiB", limit >> 20)
    } else if limit >= 1 << 10 && limit.is_multiple_of(1 << 10) {
        format!("{} KiB", limit >> 10)
    } else {
        format!("{limit} bytes")
    }
}

/// The low-speed limit of one body: fails when fewer than
/// [`LOW_SPEED_BYTES_PER_SEC`] × window bytes arrived during a whole window, so a
/// server that stalls, or trickles a byte now and then, cannot hold a read forever;
/// the total time is bounded by progress, not by size.
#[derive(Debug)]
pub struct LowSpeed {
    window: Duration,
    min_bytes: u64,
    start: Instant,
    got: u64,
}

impl LowSpeed {
    pub fn new(window: Duration) -> LowSpeed {
        LowSpeed {
            window,
            min_bytes: (LOW_SPEED_BYTES_PER_SEC as f64 * window.as_secs_f64()).ceil() as u64,
            start: Instant::now(),
            got: 0,
        }
    }

    fn deadline(&self) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.start + self.window)
    }

    /// Accounts for `n` bytes; `Err` (the reason) when the window closed too slow.
    fn check(&mut self, n: u64) -> Result<(), String> {
        self.got += n;
        if self.start.elapsed() >= self.window {
            if self.got < self.min_bytes {
                return Err(format!(
                    "{} bytes in {:.0} s, below {LOW_SPEED_BYTES_PER_SEC} bytes/s \
                     (HF_HUB_DOWNLOAD_TIMEOUT={})",
                    self.got,
                    self.window.as_secs_f64(),
                    self.window.as_secs()
                ));
            }
            self.start = Instant::now();
            self.got = 0;
        }
        Ok(())
    }

    /// The next chunk of `stream`, or why the transfer is too slow.
    pub async fn next<S, E>(
        &mut self,
        stream: &mut S,
    ) -> Result<Option<Result<bytes::Bytes, E>>, String>
    where
        S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    {
        loop {
            match tokio::time::timeout_at(self.deadline(), stream.next()).await {
                Ok(Some(Ok(chunk))) => {
                    self.check(chunk.len() as u64)?;
                    return Ok(Some(Ok(chunk)));
                }
                Ok(other) => return Ok(other),
                Err(_) => self.check(0)?,
            }
        }
    }
}

/// Where a request goes, and so whether it carries the token and follows redirects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The Hub, with the token; redirects followed by reqwest (API calls).
    Hub,
    /// The Hub, with the token; a redirect is returned, not followed (downloads).
    HubNoFollow,
    /// Another origin (a presigned object-store URL): no token, no cookies, redirects
    /// returned.
    Elsewhere,
}

/// What a request is about, to turn a failure into the right error.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// What the request does, in words ("read rskill.yaml", "create the repo").
    pub action: String,
    pub repo: Option<String>,
    pub revision: Option<String>,
    pub path: Option<String>,
    /// The request may have had an effect even when its answer was lost or a 5xx
    /// (creating a collection makes a new one each time): it is then never sent again.
    pub not_idempotent: bool,
}

impl Ctx {
    pub fn new(action: impl Into<String>) -> Ctx {
        Ctx {
            action: action.into(),
            ..Ctx::default()
        }
    }
    pub fn repo(mut self, repo: &RepoId) -> Ctx {
        self.repo = Some(repo.to_string());
        self
    }
    pub fn revision(mut self, rev: impl Into<String>) -> Ctx {
        self.revision = Some(rev.into());
        self
    }
    pub fn path(mut self, path: impl Into<String>) -> Ctx {
        self.path = Some(path.into());
        self
    }
    /// Marks a request that must not be repeated once it may have reached the server.
    pub fn not_idempotent(mut self) -> Ctx {
        self.not_idempotent = true;
        self
    }
}

/// A connection to one Hub.
#[derive(Clone, Debug)]
pub struct HubClient {
    env: HubEnv,
    http: reqwest::Client,
    /// The same settings, following no redirect: downloads follow theirs themselves,
    /// so the token never goes to another origin ([`crate::redirect`]).
    nofollow: reqwest::Client,
    hf: HFClient,
    /// How big files are split over parallel ranged requests ([`crate::ranged`]).
    parallel: crate::ranged::Parallel,
    /// The Hub's quotas as its answers said them, and the waiting budget: shared by
    /// every clone, so concurrent requests pace together ([`crate::ratelimit`]).
    pacer: std::sync::Arc<Pacer>,
}

impl HubClient {
    /// A client for the Hub the environment names.
    pub fn new(env: HubEnv) -> Result<HubClient, HubError> {
        let (tls, _) = crate::tls::client_config()
            .map_err(|e| HubError::Other(format!("cannot set up TLS: {e}")))?;
        let builder = || {
            reqwest::Client::builder()
                .tls_backend_preconfigured(tls.clone())
                .user_agent(concat!("rskill/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(10))
        };
        let built = |b: reqwest::ClientBuilder| {
            b.build()
                .map_err(|e| HubError::Other(format!("cannot build the HTTP client: {e}")))
        };
        let http = built(builder())?;
        let nofollow = built(builder().redirect(reqwest::redirect::Policy::none()))?;
        let mut builder = HFClient::builder()
            .endpoint(env.endpoint.clone())
            .cache_dir(env.hub_cache.clone())
            .client(http.clone());
        if let Some((token, _)) = &env.token {
            builder = builder.token(token.expose());
        }
        let hf = builder.build().map_err(|e| {
            HubError::Other(format!(
                "invalid Hub endpoint {}: {e}",
                redact_url(&env.endpoint)
            ))
        })?;
        Ok(HubClient {
            env,
            http,
            nofollow,
            hf,
            parallel: crate::ranged::Parallel::from_env(),
            pacer: std::sync::Arc::new(Pacer::new(ratelimit::DEFAULT_MAX_WAIT, None)),
        })
    }

    /// The same client with its own pacer (a waiting budget, a reporter of waits).
    pub fn with_pacer(mut self, pacer: Pacer) -> HubClient {
        self.pacer = std::sync::Arc::new(pacer);
        self
    }

    pub fn pacer(&self) -> &Pacer {
        &self.pacer
    }

    /// The same client, splitting big downloads as `parallel` says (instead of the
    /// `RSKILL_DOWNLOAD_*` environment).
    pub fn with_parallel(mut self, parallel: crate::ranged::Parallel) -> HubClient {
        self.parallel = parallel;
        self
    }

    pub fn parallel(&self) -> &crate::ranged::Parallel {
        &self.parallel
    }

    /// The same Hub, asked without a token (to see what anonymous users see).
    pub fn anonymous(&self) -> Result<HubClient, HubError> {
        let mut env = self.env.clone();
        env.token = None;
        let mut client = HubClient::new(env)?.with_parallel(self.parallel.clone());
        client.pacer = self.pacer.clone();
        Ok(client)
    }

    pub fn env(&self) -> &HubEnv {
        &self.env
    }

    pub fn endpoint(&self) -> &str {
        &self.env.endpoint
    }

    /// The endpoint as it may be shown (messages, JSON, bundles): without credentials.
    pub fn shown_endpoint(&self) -> String {
        redact_url(&self.env.endpoint)
    }

    /// The hf-hub handle of a model repo.
    pub fn model(&self, repo: &RepoId) -> hf_hub::HFRepository<RepoTypeModel> {
        self.hf.model(repo.org(), repo.name())
    }

    /// The underlying HTTP client (shared connection pool).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.env.endpoint)
    }

    /// Fails at once in offline mode: no HTTP at all.
    pub fn ensure_online(&self, what: &str) -> Result<(), HubError> {
        if self.env.offline {
            return Err(HubError::Offline { what: what.into() });
        }
        Ok(())
    }

    fn token_source(&self) -> Option<&TokenSource> {
        self.env.token.as_ref().map(|(_, s)| s)
    }

    /// Adds the `Authorization` header when there is a token.
    pub fn authorize(&self, req: RequestBuilder) -> RequestBuilder {
        match &self.env.token {
            Some((t, _)) => req.bearer_auth(t.expose()),
            None => req,
        }
    }

    /// Sends a request (built anew for each attempt) and maps failures to
    /// [`HubError`]. Rate limits are honoured the Hub's way ([`crate::ratelimit`]): a
    /// bucket known to be empty is waited out before sending, a 429 with `r=0` waits
    /// `t+1` s, else `Retry-After`, else a jittered backoff; all waits for windows are
    /// bounded by the pacer's budget (`--max-wait`). 408, 5xx and failed connections are
    /// retried with jittered backoff. A request marked [`Ctx::not_idempotent`] is
    /// retried only when it cannot have reached the server (a refused connection, a
    /// 429), never after a timeout or a 5xx.
    pub async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
        ctx: &Ctx,
    ) -> Result<Response, HubError> {
        self.send_via(Via::Hub, build, ctx).await
    }

    /// Waits as the pacer says before a request of `class` to `url`.
    async fn wait_for_window(&self, class: &'static str, url: &str) -> Result<(), HubError> {
        let mut waits = 0;
        while let Some(wait) = self.pacer.reserve(class) {
            waits += 1;
            let bucket = wait.bucket.clone().unwrap_or_else(|| class.to_string());
            let admitted = if waits > MAX_WINDOW_WAITS {
                Err(None)
            } else {
                self.pacer.admit(wait).map_err(Some)
            };
            match admitted {
                Ok(d) => tokio::time::sleep(d).await,
                Err(over) => {
                    let (wait_secs, waited) = over
                        .map(|o| (o.wait.as_secs_f64().ceil() as u64, o.waited))
                        .unwrap_or((0, self.pacer.waited()));
                    return Err(HubError::RateLimited {
                        bucket,
                        wait_secs,
                        waited_secs: waited.as_secs(),
                        max_wait_secs: self.pacer.max_wait().as_secs(),
                        url: redact_url(url),
                    });
                }
            }
        }
        Ok(())
    }

    /// Reads the rate-limit headers of an answer of `class` into the pacer; the limit
    /// it says, if any.
    fn observe_limits(
        &self,
        class: &'static str,
        response: &Response,
    ) -> Option<ratelimit::RateLimit> {
        let limit = header(response, "ratelimit").and_then(|v| ratelimit::parse_ratelimit(&v))?;
        let policy = header(response, "ratelimit-policy").and_then(|v| ratelimit::parse_policy(&v));
        self.pacer.observe(class, &limit, policy);
        Some(limit)
    }

    /// [`HubClient::send`] through `via`: to the Hub (with the token, following
    /// redirects), to the Hub or to another origin without following redirects (a
    /// `3xx` is then an answer, for [`crate::redirect`] to judge). Only
    /// [`Via::Hub`] and [`Via::HubNoFollow`] carry the token, and only the Hub's
    /// answers are paced.
    pub async fn send_via(
        &self,
        via: Via,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
        ctx: &Ctx,
    ) -> Result<Response, HubError> {
        self.ensure_online(&ctx.action)?;
        let (http, authorized) = match via {
            Via::Hub => (&self.http, true),
            Via::HubNoFollow => (&self.nofollow, true),
            Via::Elsewhere => (&self.nofollow, false),
        };
        let mut attempt = 0;
        let mut silent = 0;
        loop {
            attempt += 1;
            let timeout = self.env.download_timeout;
            let request = build(http);
            let request = if authorized {
                self.authorize(request)
            } else {
                request
            };
            let request = request
                .build()
                .map_err(|e| HubError::Other(format!("{}: {e}", ctx.action)))?;
            let url = request.url().to_string();
            let class =
                (via != Via::Elsewhere).then(|| ratelimit::route_class(request.url().path()));
            if let Some(class) = class {
                self.wait_for_window(class, &url).await?;
            }
            let sent = http.execute(request);
            let result = match tokio::time::timeout(timeout, sent).await {
                Ok(r) => r.map_err(|e| {
                    silent += usize::from(e.is_timeout());
                    (
                        e.is_connect() || (!ctx.not_idempotent && silent < MAX_SILENT_ATTEMPTS),
                        describe_transport_error(&e),
                    )
                }),
                Err(_) => {
                    silent += 1;
                    Err((
                        !ctx.not_idempotent && silent < MAX_SILENT_ATTEMPTS,
                        format!(
                            "no answer within {} s (HF_HUB_DOWNLOAD_TIMEOUT)",
                            timeout.as_secs_f64()
                        ),
                    ))
                }
            };
            let response = match result {
                Ok(r) => r,
                Err((true, _)) if attempt < MAX_ATTEMPTS => {
                    tokio::time::sleep(ratelimit::jittered(attempt, BACKOFF_BASE, BACKOFF_CAP))
                        .await;
                    continue;
                }
                Err((_, reason)) => {
                    return Err(HubError::Unreachable {
                        endpoint: self.shown_endpoint(),
                        reason,
                    });
                }
            };
            let limit = class.and_then(|c| self.observe_limits(c, &response));
            let status = response.status();
            if status.is_success() || (status.is_redirection() && via != Via::Hub) {
                return Ok(response);
            }
            let retry_after = header(&response, "retry-after")
                .and_then(|v| ratelimit::parse_retry_after(&v, std::time::SystemTime::now()));
            if status == StatusCode::TOO_MANY_REQUESTS {
                // The Hub's way: r=0 means wait for the window (the pacer now holds it
                // empty until `t`); that wait is bounded by the budget, not by attempts.
                if limit.as_ref().is_some_and(|l| l.remaining == 0) {
                    attempt -= 1;
                    continue;
                }
                if attempt < MAX_ATTEMPTS {
                    let wait = Wait {
                        cause: WaitCause::RateLimited,
                        duration: retry_after.unwrap_or_else(|| {
                            ratelimit::jittered(attempt, BACKOFF_BASE, BACKOFF_CAP)
                        }),
                        bucket: limit.map(|l| l.bucket),
                        policy: None,
                    };
                    let bucket = wait.bucket.clone().unwrap_or_else(|| "api".into());
                    match self.pacer.admit(wait) {
                        Ok(d) => {
                            tokio::time::sleep(d).await;
                            continue;
                        }
                        Err(over) => {
                            return Err(HubError::RateLimited {
                                bucket,
                                wait_secs: over.wait.as_secs_f64().ceil() as u64,
                                waited_secs: over.waited.as_secs(),
                                max_wait_secs: over.max_wait.as_secs(),
                                url: redact_url(&url),
                            });
                        }
                    }
                }
            }
            let transient = status == StatusCode::REQUEST_TIMEOUT || status.is_server_error();
            if transient && !ctx.not_idempotent && attempt < MAX_ATTEMPTS {
                let delay = retry_after
                    .unwrap_or_else(|| ratelimit::jittered(attempt, BACKOFF_BASE, BACKOFF_CAP))
                    .min(MAX_BACKOFF);
                tokio::time::sleep(delay).await;
                continue;
            }
            if !authorized {
                // Not the Hub: its 401/403 say nothing about the Hub token.
                let url = redact_url(response.url().as_str());
                let body = self
                    .read_body(response, MAX_ERROR_BYTES, "error answers")
                    .await
                    .map(|b| String::from_utf8_lossy(&b).chars().take(200).collect())
                    .unwrap_or_default();
                return Err(HubError::Status {
                    status: status.as_u16(),
                    url,
                    message: body,
                });
            }
            return Err(self.error_from_response(response, ctx).await);
        }
    }

    /// Sends and parses a JSON answer.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
        ctx: &Ctx,
    ) -> Result<T, HubError> {
        let response = self.send(build, ctx).await?;
        let url = response.url().to_string();
        let bytes = self
            .read_body(response, MAX_JSON_BYTES, "JSON API answers")
            .await?;
        parse_json(&bytes, &url)
    }

    /// Reads a whole body, refusing more than `limit` bytes (from Content-Length up
    /// front, then while streaming) and failing when it makes too little progress
    /// ([`LowSpeed`]). `what` names the kind of body in the error.
    pub async fn read_body(
        &self,
        response: Response,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>, HubError> {
        let url = redact_url(response.url().as_str());
        let too_large = || HubError::Protocol {
            url: url.clone(),
            message: format!(
                "answer larger than {} (the limit for {what}); refused",
                format_limit(limit)
            ),
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        let mut speed = LowSpeed::new(self.env.download_timeout);
        loop {
            let chunk = speed
                .next(&mut stream)
                .await
                .map_err(|reason| self.stalled(&url, &reason))?;
            match chunk {
                None => return Ok(body),
                Some(Err(e)) => {
                    return Err(HubError::Unreachable {
                        endpoint: self.shown_endpoint(),
                        reason: format!("reading {url}: {}", describe_transport_error(&e)),
                    });
                }
                Some(Ok(c)) => {
                    if body.len() as u64 + c.len() as u64 > limit {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&c);
                }
            }
        }
    }

    /// The retryable error of a body that made too little progress.
    pub fn stalled(&self, url: &str, reason: &str) -> HubError {
        HubError::Unreachable {
            endpoint: self.shown_endpoint(),
            reason: format!("{url} stalled: {reason}; run again to resume"),
        }
    }

    async fn error_from_response(&self, response: Response, ctx: &Ctx) -> HubError {
        let status = response.status();
        let url = redact_url(response.url().as_str());
        let code = header(&response, "x-error-code");
        let header_message = header(&response, "x-error-message");
        let body = self
            .read_body(response, MAX_ERROR_BYTES, "error answers")
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let message = header_message
            .or_else(|| {
                serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            })
            .unwrap_or_else(|| body.chars().take(200).collect());
        self.classify(status.as_u16(), code.as_deref(), message, url, ctx)
    }

    fn classify(
        &self,
        status: u16,
        code: Option<&str>,
        message: String,
        url: String,
        ctx: &Ctx,
    ) -> HubError {
        let repo = ctx.repo.clone().unwrap_or_default();
        let revision = ctx.revision.clone().unwrap_or_else(|| "main".into());
        match (status, code) {
            (_, Some("RepoNotFound")) => HubError::RepoNotFound { repo },
            (_, Some("RevisionNotFound")) => HubError::RevisionNotFound { repo, revision },
            (_, Some("EntryNotFound")) => HubError::EntryNotFound {
                repo,
                revision,
                path: ctx.path.clone().unwrap_or_default(),
            },
            (401, _) => match self.token_source() {
                Some(source) => HubError::TokenInvalid {
                    token_source: source.clone(),
                    endpoint: self.shown_endpoint(),
                },
                None => HubError::TokenMissing {
                    action: ctx.action.clone(),
                },
            },
            (403, _) => match self.token_source() {
                Some(source) => HubError::Forbidden {
                    token_source: source.clone(),
                    action: ctx.action.clone(),
                    message,
                },
                None => HubError::TokenMissing {
                    action: ctx.action.clone(),
                },
            },
            (404, _) if ctx.path.is_some() => HubError::EntryNotFound {
                repo,
                revision,
                path: ctx.path.clone().unwrap_or_default(),
            },
            (404, _) if ctx.repo.is_some() => HubError::RepoNotFound { repo },
            (409 | 412, _) => HubError::Conflict { message },
            (408 | 429 | 500..=599, _) => HubError::Overloaded { status, url },
            _ => HubError::Status {
                status,
                url,
                message,
            },
        }
    }

    /// Maps an error of the hf-hub crate to ours.
    pub fn map_hf_error(&self, e: HFError, ctx: &Ctx) -> HubError {
        match e {
            HFError::Http { context }
            | HFError::AuthRequired { context }
            | HFError::Forbidden { context }
            | HFError::Conflict { context }
            | HFError::RateLimited { context, .. } => {
                let message = context
                    .server_message
                    .clone()
                    .unwrap_or_else(|| context.body.chars().take(200).collect());
                self.classify(
                    context.status.as_u16(),
                    context.error_code.as_deref(),
                    message,
                    redact_url(&context.url),
                    ctx,
                )
            }
            HFError::RepoNotFound { .. } => HubError::RepoNotFound {
                repo: ctx.repo.clone().unwrap_or_default(),
            },
            HFError::RevisionNotFound { revision, .. } => HubError::RevisionNotFound {
                repo: ctx.repo.clone().unwrap_or_default(),
                revision,
            },
            HFError::EntryNotFound { path, .. } => HubError::EntryNotFound {
                repo: ctx.repo.clone().unwrap_or_default(),
                revision: ctx.revision.clone().unwrap_or_else(|| "main".into()),
                path,
            },
            HFError::Request { source, .. } => HubError::Unreachable {
                endpoint: self.shown_endpoint(),
                reason: describe_transport_error(&source),
            },
            other => HubError::Other(format!("{}: {other}", ctx.action)),
        }
    }
}

/// Parses a JSON answer; a value the protocol forbids (a path where a hash belongs)
/// is refused naming the field, the value (truncated) and the server.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], url: &str) -> Result<T, HubError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| HubError::Protocol {
        url: redact_url(url),
        message: format!("invalid answer at `{}`: {}", e.path(), e.inner()),
    })
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A transport error in words, without the URL's query (which never holds a token,
/// but may be long).
fn describe_transport_error(e: &reqwest::Error) -> String {
    let mut msg = if e.is_connect() {
        "connection failed".to_string()
    } else if e.is_timeout() {
        "timed out".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// A URL fit for an error message: no credentials, no query string.
pub use rskill_hub_protocol::redact::redact_url;

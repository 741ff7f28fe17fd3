//! Reading what clients send: request bodies under a size limit (an oversized body is
//! answered 413 after draining what the client is still sending, so that it reads the
//! answer instead of a reset), JSON and form bodies, query strings with repeated keys,
//! and NDJSON bodies line by line. Bodies are read only after the caller's token and
//! rights were checked from the headers; anonymous bodies are capped small, a declared
//! `Content-Length` over the cap is refused before a byte of the body is read, and every
//! body reserves its bytes in a server-wide [`Budget`] while it is held.

use axum::body::{Body, BodyDataStream, Bytes};
use axum::http::{HeaderMap, StatusCode, header::CONTENT_LENGTH, header::CONTENT_TYPE};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::errors::ApiError;

/// Largest body accepted from a request without a token, on every route.
pub const ANONYMOUS_BODY_LIMIT: u64 = 64 * 1024;

/// At most this much of an oversized body is read and discarded before answering 413.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLarge",
        format!("request body is larger than the server's limit of {limit} bytes"),
    )
}

/// The bytes all request bodies in flight may hold together. Reservations are made in
/// KiB, without waiting: a body that does not fit now is answered 503 at once (the client
/// retries), one that could never fit is answered 413.
#[derive(Clone)]
pub struct Budget {
    sem: Arc<Semaphore>,
    total_kib: u64,
}

/// Bytes reserved in the [`Budget`] for one request, released on drop.
#[derive(Default)]
pub struct Held {
    permit: Option<OwnedSemaphorePermit>,
    bytes: u64,
}

/// Reservations grow by at least this much, so small chunks do not each round up.
const RESERVE_STEP: u64 = 64 * 1024;

impl Budget {
    pub fn new(bytes: u64) -> Self {
        let total_kib = bytes.div_ceil(1024).min(Semaphore::MAX_PERMITS as u64);
        Budget {
            sem: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
        }
    }

    /// Makes `held` cover at least `bytes` bytes.
    pub fn ensure(&self, held: &mut Held, bytes: u64) -> Result<(), ApiError> {
        if bytes <= held.bytes {
            return Ok(());
        }
        if bytes.div_ceil(1024) > self.total_kib {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLarge",
                format!(
                    "a request body of {bytes} bytes is larger than the server's in-flight \
                     cap of {} bytes",
                    self.total_kib * 1024
                ),
            ));
        }
        let want_kib = bytes
            .max(held.bytes + RESERVE_STEP)
            .div_ceil(1024)
            .min(self.total_kib);
        self.acquire(held, want_kib - held.bytes / 1024, want_kib * 1024)
    }

    fn acquire(&self, held: &mut Held, kib: u64, want: u64) -> Result<(), ApiError> {
        let busy = || {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServerBusy",
                format!(
                    "the server is receiving {} bytes of request bodies already; retry shortly",
                    self.total_kib * 1024
                ),
            )
            .with_header(axum::http::header::RETRY_AFTER, "1")
        };
        let n = u32::try_from(kib).map_err(|_| busy())?;
        let permit = self
            .sem
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| busy())?;
        match &mut held.permit {
            Some(p) => p.merge(permit),
            None => held.permit = Some(permit),
        }
        held.bytes = want;
        Ok(())
    }
}

/// A body read whole, holding its reservation in the [`Budget`] until dropped.
pub struct ReadBody {
    bytes: Bytes,
    _held: Held,
}

impl std::ops::Deref for ReadBody {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

/// The declared `Content-Length`, if any.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

async fn drain(stream: &mut BodyDataStream) {
    let mut drained = 0u64;
    while let Some(Ok(chunk)) = stream.next().await {
        drained += chunk.len() as u64;
        if drained > DRAIN_LIMIT {
            break;
        }
    }
}

/// Reads and discards what the client still sends of a refused body (up to a bound), in
/// the background: the answer goes out at once, and a client that keeps writing its
/// body is not cut off mid-write (it would see a broken pipe instead of the answer).
pub fn discard(body: Body) {
    use axum::body::HttpBody as _;
    if body.is_end_stream() {
        return;
    }
    tokio::spawn(async move {
        drain(&mut body.into_data_stream()).await;
    });
}

/// A request body not read yet. Dropped unread (the request was refused from its
/// headers), it is discarded in the background by [`discard`].
pub struct RequestBody(Option<Body>);

impl RequestBody {
    pub fn new(body: Body) -> Self {
        RequestBody(Some(body))
    }

    pub fn take(mut self) -> Body {
        self.0.take().unwrap_or_default()
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        if let Some(body) = self.0.take() {
            discard(body);
        }
    }
}

/// Refuses a declared `Content-Length` over `limit` at once (nothing is read, the rest
/// is discarded) and reserves the declared length in `budget`.
fn reserve_declared(
    body: Body,
    headers: &HeaderMap,
    limit: u64,
    budget: &Budget,
) -> Result<(Body, Held), ApiError> {
    let mut held = Held::default();
    if let Some(n) = declared_length(headers) {
        let reserved = if n > limit {
            Err(too_large(limit))
        } else {
            budget.ensure(&mut held, n)
        };
        if let Err(e) = reserved {
            discard(body);
            return Err(e);
        }
    }
    Ok((body, held))
}

/// Reads a whole body of at most `limit` bytes. A declared length over the limit is
/// refused at once, before any of the body is read.
pub async fn read_limited(
    body: Body,
    headers: &HeaderMap,
    limit: u64,
    budget: &Budget,
) -> Result<ReadBody, ApiError> {
    let (body, mut held) = reserve_declared(body, headers, limit, budget)?;
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("BadRequest", format!("reading the request body: {e}"))
        })?;
        let total = (buf.len() + chunk.len()) as u64;
        if total > limit {
            drain(&mut stream).await;
            return Err(too_large(limit));
        }
        budget.ensure(&mut held, total)?;
        buf.extend_from_slice(&chunk);
    }
    Ok(ReadBody {
        bytes: Bytes::from(buf),
        _held: held,
    })
}

/// Parses a JSON body (an empty body reads as `{}`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request("MalformedJson", format!("invalid JSON body: {e}")))
}

/// Whether the body is `application/x-www-form-urlencoded`.
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Decoded `key=value` pairs of a query string or form body, repeated keys kept in order.
pub fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw).into_owned().collect()
}

/// Query parameters, with helpers for the shapes the Hub API uses.
#[derive(Debug, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        Query(raw.map(|q| pairs(q.as_bytes())).unwrap_or_default())
    }

    /// The last value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key` (also written `key[]`).
    pub fn all(&self, key: &str) -> Vec<&str> {
        let bracketed = format!("{key}[]");
        self.0
            .iter()
            .filter(|(k, _)| k == key || *k == bracketed)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A boolean flag: present and not `false` / `0` / empty.
    pub fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(is_true)
    }

    /// The `limit` a page may hold: `max` when absent or empty, else a positive integer
    /// capped at `max`; anything else is refused.
    pub fn limit(&self, max: usize) -> Result<usize, ApiError> {
        match self.get("limit") {
            None | Some("") => Ok(max),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n.min(max)),
                _ => Err(ApiError::bad_request(
                    "InvalidLimit",
                    format!("limit must be a positive integer, not `{v}`"),
                )),
            },
        }
    }
}

/// How the Hub clients spell `true` in queries and forms.
pub fn is_true(v: &str) -> bool {
    !matches!(
        v.to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "no" | "off"
    )
}

/// Splits a streamed body into lines (without the `\n`), enforcing a total size limit.
pub struct LineReader {
    stream: BodyDataStream,
    buf: Vec<u8>,
    scanned: usize,
    total: u64,
    limit: u64,
    done: bool,
    budget: Budget,
    held: Held,
}

impl LineReader {
    /// A reader over `body`. A declared `Content-Length` above `limit` is refused at once
    /// (nothing is read), and the declared length is reserved in `budget`.
    pub fn new(
        body: Body,
        headers: &HeaderMap,
        limit: u64,
        budget: &Budget,
    ) -> Result<Self, ApiError> {
        let (body, held) = reserve_declared(body, headers, limit, budget)?;
        Ok(LineReader {
            stream: body.into_data_stream(),
            buf: Vec::new(),
            scanned: 0,
            total: 0,
            limit,
            done: false,
            budget: budget.clone(),
            held,
        })
    }

    /// Discards the rest of the body (up to a bound), so that an error answer is read.
    pub async fn drain(mut self) {
        drain(&mut self.stream).await;
    }

    /// The next line, or `None` at the end of the body.
    pub async fn next_line(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        if self.total > self.limit {
            return Err(too_large(self.limit));
        }
        loop {
            if let Some(i) = self.buf[self.scanned..].iter().position(|b| *b == b'\n') {
                let end = self.scanned + i;
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.scanned = 0;
                return Ok(Some(line));
            }
            self.scanned = self.buf.len();
            if self.done {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                self.scanned = 0;
                return Ok(Some(std::mem::take(&mut self.buf)));
            }
            match self.stream.next().await {
                Some(Ok(chunk)) => {
                    self.total += chunk.len() as u64;
                    if self.total > self.limit {
                        return Err(too_large(self.limit));
                    }
                    self.budget.ensure(&mut self.held, self.total)?;
                    self.buf.extend_from_slice(&chunk);
                }
                Some(Err(e)) => {
                    return Err(ApiError::bad_request(
                        "BadRequest",
                        format!("reading the request body: {e}"),
                    ));
                }
                None => self.done = true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_limits() {
        let limit = |raw: &str| Query::parse(Some(raw)).limit(100);
        assert_eq!(Query::parse(None).limit(100).unwrap(), 100);
        assert_eq!(limit("limit=").unwrap(), 100);
        assert_eq!(limit("limit=7").unwrap(), 7);
        assert_eq!(limit("limit=5000").unwrap(), 100);
        for bad in ["limit=0", "limit=-1", "limit=x"] {
            assert!(limit(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn lines_and_limits() {
        let body = Body::from("a\r\n\nbb\nccc");
        let budget = Budget::new(1 << 20);
        let mut r = LineReader::new(body, &HeaderMap::new(), 100, &budget).unwrap();
        let mut lines = Vec::new();
        while let Some(l) = r.next_line().await.unwrap() {
            lines.push(String::from_utf8(l).unwrap());
        }
        assert_eq!(lines, vec!["a", "", "bb", "ccc"]);

        let mut r =
            LineReader::new(Body::from("x".repeat(20)), &HeaderMap::new(), 10, &budget).unwrap();
        assert_eq!(
            r.next_line().await.unwrap_err().status,
            StatusCode::PAYLOAD_TOO_LARGE
        );

        let err = read_limited(Body::from("x".repeat(20)), &HeaderMap::new(), 10, &budget)
            .await
            .err()
            .unwrap();
        assert_eq!(err.code, "PayloadTooLarge");
        assert_eq!(
            &read_limited(Body::from("ok"), &HeaderMap::new(), 10, &budget)
                .await
                .ok()
                .unwrap()[..],
            b"ok"
        );
    }

    #[test]
    fn queries() {
        let q = Query::parse(Some(
            "filter=a&filter=b%20c&expand[]=x&full=true&cardData=False&x=1&x=2",
        ));
        assert_eq!(q.all("filter"), vec!["a", "b c"]);
        assert_eq!(q.all("expand"), vec!["x"]);
        assert!(q.flag("full") && !q.flag("cardData") && !q.flag("missing"));
        assert_eq!(q.get("x"), Some("2"));
    }
}

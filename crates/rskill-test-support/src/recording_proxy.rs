//! A recording HTTP reverse proxy for tests: every request is forwarded as is (method,
//! path, query, headers including `Host`, streamed body) to one upstream, and its
//! request line and headers are recorded, so a test can check what a client sent to the
//! upstream, e.g. that no `Authorization` header carrying the Hub token reached the
//! object store behind a presigned URL. It can also replay: after [`RecordingProxy::capture`]
//! it keeps the whole answer to every `GET`, and after [`RecordingProxy::replay`] it
//! serves those answers again instead of asking the upstream — a Hub (or a man in the
//! middle) that replays genuine old data, every answer once true. Runs on its own
//! thread; stops on drop.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;

/// One request as the proxy received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Recorded {
    /// The value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the proxy does with `GET` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Mode {
    #[default]
    Forward,
    /// Forward, and keep each whole answer by target.
    Capture,
    /// Serve kept answers; forward what was never kept.
    Replay,
}

#[derive(Clone)]
struct Kept {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: bytes::Bytes,
}

#[derive(Default)]
struct Replays {
    mode: Mode,
    kept: HashMap<String, Kept>,
}

#[derive(Clone)]
struct Shared {
    upstream: String,
    client: reqwest::Client,
    log: Arc<Mutex<Vec<Recorded>>>,
    replays: Arc<Mutex<Replays>>,
}

/// A running proxy.
pub struct RecordingProxy {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Recorded>>>,
    replays: Arc<Mutex<Replays>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const HOP_BY_HOP: &[&str] = &["connection", "keep-alive", "transfer-encoding", "upgrade"];

async fn forward(State(shared): State<Shared>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    shared
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Recorded {
            method: parts.method.to_string(),
            target: target.clone(),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                .collect(),
        });
    let mode = shared
        .replays
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .mode;
    let get = parts.method == axum::http::Method::GET;
    if mode == Mode::Replay && get {
        let kept = shared
            .replays
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .kept
            .get(&target)
            .cloned();
        if let Some(k) = kept {
            return kept_response(k);
        }
    }
    let mut headers = HeaderMap::new();
    for (n, v) in &parts.headers {
        if !HOP_BY_HOP.contains(&n.as_str()) {
            headers.append(n.clone(), v.clone());
        }
    }
    let url = format!("{}{target}", shared.upstream);
    let sent = shared
        .client
        .request(parts.method, url)
        .headers(headers)
        .body(reqwest::Body::wrap_stream(body.into_data_stream()))
        .send()
        .await;
    match sent {
        Ok(resp) if mode == Mode::Capture && get => {
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .filter(|(n, _)| !HOP_BY_HOP.contains(&n.as_str()))
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect();
            match resp.bytes().await {
                Ok(body) => {
                    let k = Kept {
                        status,
                        headers,
                        body,
                    };
                    shared
                        .replays
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .kept
                        .insert(target, k.clone());
                    kept_response(k)
                }
                Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
            }
        }
        Ok(resp) => stream_response(resp),
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

/// An upstream answer passed on as it streams in (its status and end-to-end headers).
pub(crate) fn stream_response(resp: reqwest::Response) -> Response {
    let mut out = Response::builder().status(resp.status().as_u16());
    for (n, v) in resp.headers() {
        if !HOP_BY_HOP.contains(&n.as_str()) {
            out = out.header(n.as_str(), v.as_bytes());
        }
    }
    let stream = resp.bytes_stream().map_err(std::io::Error::other);
    out.body(Body::from_stream(stream))
        .unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, e.to_string()).into_response())
}

fn kept_response(k: Kept) -> Response {
    let mut out = Response::builder().status(k.status);
    for (n, v) in &k.headers {
        out = out.header(n.as_str(), v.as_slice());
    }
    out.body(Body::from(k.body))
        .unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, e.to_string()).into_response())
}

impl RecordingProxy {
    /// Starts a proxy on a free 127.0.0.1 port in front of `upstream`
    /// (`http://host:port`).
    pub fn start(upstream: &str) -> Self {
        let shared = Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
            log: Arc::new(Mutex::new(Vec::new())),
            replays: Arc::new(Mutex::new(Replays::default())),
        };
        let log = shared.log.clone();
        let replays = shared.replays.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("proxy address");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new().fallback(forward).with_state(shared);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop_rx.await;
                    })
                    .await;
            });
        });
        RecordingProxy {
            addr,
            log,
            replays,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Forgets the requests recorded so far.
    pub fn clear(&self) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// From now on, keeps the whole answer to every `GET` (the newest per target).
    pub fn capture(&self) {
        self.replays.lock().unwrap_or_else(|e| e.into_inner()).mode = Mode::Capture;
    }

    /// From now on, answers every `GET` it kept with the kept answer.
    pub fn replay(&self) {
        self.replays.lock().unwrap_or_else(|e| e.into_inner()).mode = Mode::Replay;
    }

    /// From now on, forwards everything again (kept answers stay kept).
    pub fn forward(&self) {
        self.replays.lock().unwrap_or_else(|e| e.into_inner()).mode = Mode::Forward;
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

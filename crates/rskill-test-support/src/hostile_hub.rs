//! A minimal hostile Hub for the client's security tests: a raw tokio HTTP/1.1 server
//! on 127.0.0.1 whose answers a test scripts per path (hostile ids in repo info, bodies
//! that stall, trickle, or never end, manifests pointing at `local://` files, redirects
//! anywhere), recording every request's head. It is
//! deliberately not `rskill-hub`: it answers what no honest server would.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Longest any scripted answer keeps a connection open (the server stops by itself).
const MAX_HOLD: Duration = Duration::from_secs(60);
/// Most bytes an endless body sends before giving up.
const MAX_ENDLESS: u64 = 1 << 30;

/// What the server answers to one request.
pub enum Reply {
    /// 200 with a JSON body.
    Json(serde_json::Value),
    /// 200 with these headers and body (Content-Length set).
    Bytes {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Reads the request and never answers.
    Silent,
    /// Headers announcing `len` bytes, then one byte every `every`.
    Trickle {
        len: u64,
        every: Duration,
    },
    /// Headers without a length, then zeros until the client hangs up.
    Endless {
        headers: Vec<(String, String)>,
    },
    NotFound,
    /// `302 Found` to `location`, with these headers (the Hub's `X-Linked-*` ones).
    Redirect {
        location: String,
        headers: Vec<(String, String)>,
    },
    /// This status with an empty body, then the connection closes.
    Status(u16),
}

pub type Route = dyn Fn(&str) -> Reply + Send + Sync;

/// A list of what requests said, shared with the test.
type Log = Arc<std::sync::Mutex<Vec<String>>>;

pub struct HostileHub {
    pub url: String,
    /// Body bytes sent by `Endless` answers so far.
    pub endless_sent: Arc<AtomicU64>,
    /// Requests received (path without query), in order.
    pub requests: Arc<std::sync::Mutex<Vec<String>>>,
    /// The heads of those requests (request line and headers), in order.
    pub heads: Arc<std::sync::Mutex<Vec<String>>>,
}

impl HostileHub {
    /// Starts on the current tokio runtime; runs until the runtime ends.
    pub async fn start(route: impl Fn(&str) -> Reply + Send + Sync + 'static) -> HostileHub {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let route: Arc<Route> = Arc::new(route);
        let endless_sent = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (sent, reqs, hds) = (endless_sent.clone(), requests.clone(), heads.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (route, sent) = (route.clone(), sent.clone());
                let seen = (reqs.clone(), hds.clone());
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(MAX_HOLD, serve(socket, route, sent, seen)).await;
                });
            }
        });
        HostileHub {
            url,
            endless_sent,
            requests,
            heads,
        }
    }
}

async fn serve(
    mut socket: TcpStream,
    route: Arc<Route>,
    sent: Arc<AtomicU64>,
    (reqs, heads): (Log, Log),
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        // Read one request head.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end);
        let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        let path = target.split('?').next().unwrap_or("/").to_string();
        reqs.lock().unwrap().push(path.clone());
        heads.lock().unwrap().push(head.clone());
        match route(&path) {
            Reply::Json(v) => {
                let body = serde_json::to_vec(&v).unwrap();
                let ct = [("content-type".to_string(), "application/json".to_string())];
                write_full(&mut socket, 200, &ct, &body).await?;
            }
            Reply::Bytes { headers, body } => write_full(&mut socket, 200, &headers, &body).await?,
            Reply::NotFound => write_full(&mut socket, 404, &[], b"not found").await?,
            Reply::Redirect {
                location,
                mut headers,
            } => {
                headers.push(("location".to_string(), location));
                write_full(&mut socket, 302, &headers, b"").await?;
            }
            Reply::Status(code) => {
                let close = [("connection".to_string(), "close".to_string())];
                write_full(&mut socket, code, &close, b"").await?;
                return Ok(());
            }
            Reply::Silent => {
                tokio::time::sleep(MAX_HOLD).await;
                return Ok(());
            }
            Reply::Trickle { len, every } => {
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {len}\r\n\r\n");
                socket.write_all(head.as_bytes()).await?;
                for _ in 0..len {
                    socket.write_all(b"x").await?;
                    socket.flush().await?;
                    tokio::time::sleep(every).await;
                }
                return Ok(());
            }
            Reply::Endless { headers } => {
                let mut head = "HTTP/1.1 200 OK\r\nconnection: close\r\n".to_string();
                for (k, v) in &headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                socket.write_all(head.as_bytes()).await?;
                let block = vec![0u8; 64 << 10];
                while sent.load(Ordering::Relaxed) < MAX_ENDLESS {
                    socket.write_all(&block).await?;
                    sent.fetch_add(block.len() as u64, Ordering::Relaxed);
                }
                return Ok(());
            }
        }
    }
}

async fn write_full(
    socket: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        302 => "Found",
        _ => "Not Found",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body).await?;
    socket.flush().await
}

/// A valid manifest for `repo` (derived from a corpus skill) with `weights_uri`.
pub fn manifest(repo: &str, weights_uri: &str) -> String {
    crate::paths::manifest_from_corpus(
        "rtdetr-coco-detector",
        &[
            ("name: ", repo),
            ("runtime: ", "pytorch"),
            ("  backend: ", "pytorch"),
            ("weights_uri: ", weights_uri),
        ],
    )
}

/// The git blob id of `bytes` (what the Hub reports as `blobId` and ETag).
pub fn git_blob_id(bytes: &[u8]) -> String {
    rskill_hub_protocol::digest::git_blob_sha1(bytes)
}

/// A sibling entry of repo info.
pub fn sibling(path: &str, bytes: &[u8]) -> serde_json::Value {
    serde_json::json!({"rfilename": path, "size": bytes.len(), "blobId": git_blob_id(bytes)})
}

/// Repo info for `id` at `sha` with `siblings`.
pub fn info(id: &str, sha: &str, siblings: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({"id": id, "sha": sha, "private": false, "siblings": siblings})
}

/// A resolve answer for a small file: its bytes with the ETag the Hub gives.
pub fn file(bytes: &[u8]) -> Reply {
    Reply::Bytes {
        headers: vec![(
            "x-linked-etag".to_string(),
            format!("\"{}\"", git_blob_id(bytes)),
        )],
        body: bytes.to_vec(),
    }
}

//! A stand-in for an object store's presigned-URL endpoint, for the client's redirect
//! and ranged-download tests: a raw HTTP/1.1 server on 127.0.0.1 serving one file at
//! any path, with single `bytes=` ranges (206, `Content-Range`) or without range
//! support, recording every request's head (so a test can check that no token reached
//! it), and scripted faults: a connection dropped mid-body once, a flipped byte. The real
//! S3 server's tests live elsewhere; this is deliberately small and scriptable.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Longest a connection is served.
const MAX_HOLD: Duration = Duration::from_secs(120);

/// What the stand-in does wrong, if anything.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Ignore `Range` (answer 200 with the whole file, no `Accept-Ranges`).
    pub no_ranges: bool,
    /// The first answer whose body covers this offset stops just before it and the
    /// connection closes (once).
    pub drop_once_at: Option<u64>,
    /// The byte at this offset is sent flipped, in every answer covering it.
    pub flip_at: Option<u64>,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The request target (path and query).
    pub target: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub struct StoreStandin {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Seen>>>,
    /// Connections whose body was cut by `drop_once_at`.
    pub drops: Arc<AtomicUsize>,
}

impl StoreStandin {
    /// Serves `body` at every path on the current tokio runtime.
    pub async fn start(body: Vec<u8>, faults: Faults) -> StoreStandin {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let drops = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicBool::new(false));
        let body = Arc::new(body);
        let (reqs, drops2) = (requests.clone(), drops.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = Conn {
                    body: body.clone(),
                    faults: faults.clone(),
                    requests: reqs.clone(),
                    drops: drops2.clone(),
                    dropped: dropped.clone(),
                };
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(MAX_HOLD, state.serve(socket)).await;
                });
            }
        });
        StoreStandin {
            url,
            requests,
            drops,
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.requests.lock().unwrap().clone()
    }
}

struct Conn {
    body: Arc<Vec<u8>>,
    faults: Faults,
    requests: Arc<Mutex<Vec<Seen>>>,
    drops: Arc<AtomicUsize>,
    dropped: Arc<AtomicBool>,
}

impl Conn {
    async fn serve(self, mut socket: TcpStream) -> std::io::Result<()> {
        let mut buf = Vec::new();
        loop {
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
            let mut lines = head.split("\r\n");
            let target = lines
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("/")
                .to_string();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            let seen = Seen { target, headers };
            let range = seen.header("range").map(str::to_owned);
            self.requests.lock().unwrap().push(seen);
            let size = self.body.len() as u64;
            let (status, start, end) = match range.as_deref().and_then(|r| parse(r, size)) {
                Some((a, b)) if !self.faults.no_ranges => (206, a, b + 1),
                _ => (200, 0, size),
            };
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\n",
                if status == 206 {
                    "Partial Content"
                } else {
                    "OK"
                },
                end - start
            );
            if !self.faults.no_ranges {
                head.push_str("accept-ranges: bytes\r\n");
            }
            if status == 206 {
                head.push_str(&format!(
                    "content-range: bytes {start}-{}/{size}\r\n",
                    end - 1
                ));
            }
            head.push_str("\r\n");
            socket.write_all(head.as_bytes()).await?;
            let mut stop = end;
            if let Some(at) = self.faults.drop_once_at
                && (start..end).contains(&at)
                && !self.dropped.swap(true, Ordering::SeqCst)
            {
                stop = at;
            }
            let mut part = self.body[start as usize..stop as usize].to_vec();
            if let Some(at) = self.faults.flip_at
                && (start..stop).contains(&at)
            {
                part[(at - start) as usize] ^= 0xff;
            }
            for c in part.chunks(64 << 10) {
                socket.write_all(c).await?;
            }
            socket.flush().await?;
            if stop != end {
                self.drops.fetch_add(1, Ordering::SeqCst);
                return Ok(()); // closes the connection mid-body
            }
        }
    }
}

/// A single `bytes=a-b` / `bytes=a-` range within `size`, inclusive.
fn parse(header: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let a: u64 = a.trim().parse().ok()?;
    let b: u64 = match b.trim() {
        "" => size.checked_sub(1)?,
        b => b.parse::<u64>().ok()?.min(size.checked_sub(1)?),
    };
    (a <= b).then_some((a, b))
}

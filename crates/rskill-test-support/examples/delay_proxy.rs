//! A TCP proxy that adds latency, for benchmarks on loopback: real Hubs are tens of
//! milliseconds away, and a search that is fast on loopback can still pay that latency
//! once per request. `scripts/bench-search.sh --latency MS` puts it between the clients
//! and `rskill-hub`.
//!
//! `cargo run --release --example delay_proxy -- --upstream 127.0.0.1:PORT [--delay-ms 20]
//! [--listen 127.0.0.1:0] [--max-seconds 3600]` prints `listening on http://ADDR` and then
//! forwards every connection to the upstream. Opening a connection costs one delay (a
//! handshake's round trip); every chunk the client sends reaches the upstream one delay
//! after it was sent (chunks sent back to back are not delayed one after the other), so a
//! request costs about one delay more than on loopback, and a request on a fresh
//! connection about two. Answers flow back at once. The proxy exits by itself after
//! `--max-seconds`, so a benchmark that dies cannot leave it running.
//!
//! With `--log FILE` it also appends one line per HTTP/1 request it forwards (`METHOD
//! TARGET`, written when the request's head has arrived, before it goes upstream), so a
//! benchmark counts the requests a run made with `wc -l` and groups them by route. Heads
//! are found by following each request's `Content-Length`; a connection that sends a
//! chunked body is logged `UNCOUNTED chunked` once and not followed further (searches
//! send no bodies).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

#[derive(Parser)]
struct Args {
    /// The server to forward to (loopback only).
    #[arg(long)]
    upstream: SocketAddr,
    /// Address to listen on (loopback only); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Latency added to each request and to each connection set-up, in milliseconds.
    #[arg(long = "delay-ms", default_value_t = 20)]
    delay_ms: u64,
    /// Exit after this many seconds, whatever is in flight.
    #[arg(long = "max-seconds", default_value_t = 3600)]
    max_seconds: u64,
    /// Append `METHOD TARGET` for every request forwarded to this file.
    #[arg(long)]
    log: Option<PathBuf>,
}

/// The request log, shared by every connection.
type Log = Option<Arc<Mutex<std::fs::File>>>;

/// Follows one connection's client-to-server bytes request by request.
#[derive(Default)]
struct Requests {
    /// Bytes not consumed yet (a head not complete, or body bytes to skip).
    buf: Vec<u8>,
    /// Body bytes still to skip before the next head.
    body_left: u64,
    /// A chunked body or an oversize head was seen: the rest is not followed.
    lost: bool,
}

/// The longest request head followed (a longer one stops the count for its connection).
const MAX_HEAD: usize = 64 * 1024;

impl Requests {
    /// Feeds `bytes`; returns the request lines of the heads completed.
    fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        if self.lost {
            return lines;
        }
        self.buf.extend_from_slice(bytes);
        loop {
            if self.body_left > 0 {
                let n = (self.buf.len() as u64).min(self.body_left);
                self.body_left -= n;
                self.buf.drain(..n as usize);
            }
            if self.buf.is_empty() || self.body_left > 0 {
                return lines;
            }
            let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                if self.buf.len() > MAX_HEAD {
                    lines.push("UNCOUNTED oversize-head".to_string());
                    self.lost = true;
                }
                return lines;
            };
            let head: Vec<u8> = self.buf.drain(..end + 4).collect();
            let head = String::from_utf8_lossy(&head);
            let mut head_lines = head.split("\r\n");
            let mut parts = head_lines.next().unwrap_or_default().split(' ');
            let method = parts.next().unwrap_or_default();
            lines.push(format!("{method} {}", parts.next().unwrap_or_default()));
            for h in head_lines {
                let Some((name, value)) = h.split_once(':') else {
                    continue;
                };
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    self.body_left = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("transfer-encoding")
                    && value.to_ascii_lowercase().contains("chunked")
                {
                    lines.push("UNCOUNTED chunked".to_string());
                    self.lost = true;
                    return lines;
                }
            }
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    for (what, addr) in [("--upstream", args.upstream), ("--listen", args.listen)] {
        if !addr.ip().is_loopback() {
            eprintln!("delay_proxy: {what} {addr} is not a loopback address (use 127.0.0.1)");
            std::process::exit(2);
        }
    }
    let listener = TcpListener::bind(args.listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let delay = Duration::from_millis(args.delay_ms);
    let upstream = args.upstream;
    let log: Log = match &args.log {
        Some(path) => Some(Arc::new(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        ))),
        None => None,
    };
    let serve = async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let _ = forward(client, upstream, delay, log).await;
            });
        }
    };
    tokio::select! {
        () = serve => {}
        () = tokio::time::sleep(Duration::from_secs(args.max_seconds)) => {}
    }
    Ok(())
}

async fn forward(
    client: TcpStream,
    upstream: SocketAddr,
    delay: Duration,
    log: Log,
) -> std::io::Result<()> {
    tokio::time::sleep(delay).await;
    let server = TcpStream::connect(upstream).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (mut client_rd, mut client_wr) = client.into_split();
    let (mut server_rd, mut server_wr) = server.into_split();

    // Client to server: each chunk is released one delay after it arrived.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        let mut requests = Requests::default();
        loop {
            let n = client_rd.read(&mut buf).await?;
            if let Some(log) = &log {
                let lines = requests.feed(&buf[..n]);
                if !lines.is_empty() {
                    let mut file = log.lock().expect("the log lock");
                    for line in lines {
                        writeln!(file, "{line}")?;
                    }
                }
            }
            if n == 0
                || tx
                    .send((Instant::now() + delay, buf[..n].to_vec()))
                    .is_err()
            {
                return Ok::<(), std::io::Error>(());
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            server_wr.write_all(&chunk).await?;
        }
        server_wr.shutdown().await
    };
    let back = async move {
        tokio::io::copy(&mut server_rd, &mut client_wr).await?;
        client_wr.shutdown().await
    };
    // Each side ends when its source closes and then closes its destination, so the
    // other side ends too.
    let (up, back) = tokio::join!(async { tokio::try_join!(reader, writer) }, back);
    up.map(|_| ())?;
    back
}

//! A per-connection throttling TCP proxy on 127.0.0.1: each accepted connection is
//! forwarded to one target, and the bytes coming back from the target are capped at a
//! rate per connection (what a CDN edge, a shaped uplink or a long fat pipe does to a
//! single stream), with an optional latency added to every request. It shows whether a
//! client uses several connections (it counts them) and is the benchmark's throttle
//! (`rskill-throttle-proxy`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Largest piece forwarded at once (small enough for a smooth rate).
const CHUNK: usize = 64 << 10;

/// How the proxy shapes each connection.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Bytes per second from the target to the client, per connection (0: no cap).
    pub bytes_per_sec: u64,
    /// Added before the client's bytes reach the target (each request waits this long).
    pub latency: Duration,
}

/// A running proxy. It stops when its runtime ends.
pub struct ThrottleProxy {
    pub addr: SocketAddr,
    /// Connections accepted so far.
    pub connections: Arc<AtomicUsize>,
    /// Most connections open at the same time.
    pub max_open: Arc<AtomicUsize>,
}

impl ThrottleProxy {
    /// Listens on `listen` (use 127.0.0.1:0) and forwards to `target`.
    pub async fn start(
        listen: SocketAddr,
        target: SocketAddr,
        shape: Shape,
    ) -> std::io::Result<ThrottleProxy> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let max_open = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let (count, max) = (connections.clone(), max_open.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(now, Ordering::SeqCst);
                let open = open.clone();
                tokio::spawn(async move {
                    let _ = forward(client, target, shape).await;
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(ThrottleProxy {
            addr,
            connections,
            max_open,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn forward(client: TcpStream, target: SocketAddr, shape: Shape) -> std::io::Result<()> {
    let server = TcpStream::connect(target).await?;
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let upstream = async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = client_rx.read(&mut buf).await?;
            if n == 0 {
                return server_tx.shutdown().await;
            }
            if !shape.latency.is_zero() {
                tokio::time::sleep(shape.latency).await;
            }
            server_tx.write_all(&buf[..n]).await?;
        }
    };
    let downstream = async move {
        let mut buf = vec![0u8; CHUNK];
        // A token bucket of one second: a connection never sends faster than the cap
        // averaged since it started (after an idle gap, at most one second's worth).
        let mut start = Instant::now();
        let mut sent = 0u64;
        loop {
            let n = server_rx.read(&mut buf).await?;
            if n == 0 {
                return client_tx.shutdown().await;
            }
            if shape.bytes_per_sec > 0 {
                let behind =
                    start.elapsed().as_secs_f64() - sent as f64 / shape.bytes_per_sec as f64;
                if behind > 1.0 {
                    start = Instant::now();
                    sent = 0;
                }
                sent += n as u64;
                let due = start + Duration::from_secs_f64(sent as f64 / shape.bytes_per_sec as f64);
                tokio::time::sleep_until(due.into()).await;
            }
            client_tx.write_all(&buf[..n]).await?;
        }
    };
    // The connection lasts as long as answers flow back: a client that stops sending
    // (half-close) still gets the rest of its answer.
    let upstream = async move {
        upstream.await?;
        std::future::pending::<std::io::Result<()>>().await
    };
    tokio::select! {
        r = upstream => r,
        r = downstream => r,
    }
}

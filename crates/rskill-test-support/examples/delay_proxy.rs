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

use std::net::SocketAddr;
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
    let serve = async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            tokio::spawn(async move {
                let _ = forward(client, upstream, delay).await;
            });
        }
    };
    tokio::select! {
        () = serve => {}
        () = tokio::time::sleep(Duration::from_secs(args.max_seconds)) => {}
    }
    Ok(())
}

async fn forward(client: TcpStream, upstream: SocketAddr, delay: Duration) -> std::io::Result<()> {
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
        loop {
            let n = client_rd.read(&mut buf).await?;
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

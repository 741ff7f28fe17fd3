//! `rskill-throttle-proxy`: a TCP proxy on 127.0.0.1 that caps each connection's
//! bytes/s (and may add latency), for benchmarks of downloads over capped links
//! (`scripts/bench-ranged.sh`). Prints `listening on http://ADDR` first, then runs until
//! killed. A thin clap front over `rskill_test_support::throttle_proxy`.
//!
//! Exit codes: 0 ok, 1 failure, 2 usage error.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rskill_test_support::throttle_proxy::{Shape, ThrottleProxy};

/// Forward connections to TARGET, capping each one's download rate.
#[derive(Parser)]
#[command(name = "rskill-throttle-proxy", version)]
struct Cli {
    /// Where connections go (HOST:PORT, e.g. 127.0.0.1:8080).
    #[arg(long)]
    target: SocketAddr,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Cap per connection, in MiB/s (target to client); 0 for none.
    #[arg(long, default_value_t = 50.0)]
    rate_mib: f64,
    /// Latency added to each request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !(cli.rate_mib.is_finite() && cli.rate_mib >= 0.0) {
        eprintln!(
            "error: --rate-mib must be a number >= 0, got {}",
            cli.rate_mib
        );
        return ExitCode::from(2);
    }
    let shape = Shape {
        bytes_per_sec: (cli.rate_mib * (1 << 20) as f64) as u64,
        latency: Duration::from_millis(cli.latency_ms),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match ThrottleProxy::start(cli.listen, cli.target, shape).await {
            Ok(proxy) => {
                println!("listening on {}", proxy.url());
                std::future::pending::<()>().await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", cli.listen);
                ExitCode::FAILURE
            }
        }
    })
}

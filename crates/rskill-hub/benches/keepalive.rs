//! Benchmark of kept-alive requests to `rskill-hub` (run with `cargo bench --bench
//! keepalive`): the Nagle plus delayed-ACK stall (issue #12, point 1).
//!
//! Seeds one repo holding a small `rskill.yaml` and a 1 MiB file, starts the release
//! `rskill-hub` twice on it — as shipped (`TCP_NODELAY` on accepted sockets) and with the
//! hidden `--no-nodelay` switch (the server before the fix) — and times sequential
//! requests over one kept-alive connection: resolve of the small file, resolve of the
//! 1 MiB file, and the JSON route `/api/models/{repo}`. Each is measured with a `reqwest`
//! client as rskill builds it (`tcp_nodelay` on, reqwest's default), with one that turns
//! Nagle back on at the client, and on a fresh connection per request. Prints the median
//! and p99 of each; target: small-file median under 2 ms on loopback with the fixed server.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rskill_hub::catalog::{Catalog, CommitOp, CommitRequest, Content};
use rskill_hub::{RepoId, RepoKind, Store, StoreOptions};

const REPO: &str = "bench/keepalive";
const SMALL_REQUESTS: usize = 200;
const BIG_REQUESTS: usize = 40;
const JSON_REQUESTS: usize = 100;
const MIB: usize = 1024 * 1024;

fn seed(dir: &std::path::Path) {
    let store = Store::open(
        dir,
        StoreOptions {
            durable: false,
            fail_blob_write_at: None,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let (catalog, _) = Catalog::open(store).unwrap();
    let id = RepoId::parse(REPO).unwrap();
    catalog
        .create_repo(RepoKind::Model, &id, false, "bench")
        .unwrap();
    let manifest = format!(
        "name: {REPO}\nversion: 0.1.0\nkind: vla\nrole: policy\nlicense: apache-2.0\nembodiment_tags: [franka_panda]\nruntime: lerobot\ndescription: A small manifest, as search reads it.\n"
    );
    let big: Vec<u8> = (0..MIB).map(|i| (i * 31 % 251) as u8).collect();
    let put = |path: &str, bytes: &[u8]| CommitOp::Put {
        path: path.into(),
        content: Content::Staged(catalog.store().stage_bytes(bytes).unwrap()),
    };
    let ops = vec![
        put("rskill.yaml", manifest.as_bytes()),
        put("model.safetensors", &big),
    ];
    catalog
        .apply_commit(
            RepoKind::Model,
            &id,
            CommitRequest {
                branch: "main".into(),
                parent: None,
                author: "bench".into(),
                summary: "seed".into(),
                description: String::new(),
                ops,
            },
        )
        .expect("seed commit");
}

fn start(dir: &std::path::Path, nodelay: bool) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rskill-hub"));
    cmd.args(["serve", "--data"])
        .arg(dir)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped());
    if !nodelay {
        cmd.arg("--no-nodelay");
    }
    let mut child = cmd.spawn().expect("rskill-hub starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("URL line")
        .to_owned();
    (child, url)
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[derive(Clone, Copy)]
enum ClientKind {
    /// As rskill builds it: reqwest's default (`TCP_NODELAY` on).
    Rskill,
    /// Nagle left on at the client too.
    ClientNagle,
    /// A new connection for every request (no pool).
    Fresh,
}

impl ClientKind {
    fn label(self) -> &'static str {
        match self {
            ClientKind::Rskill => "kept-alive, client nodelay (rskill)",
            ClientKind::ClientNagle => "kept-alive, client Nagle on",
            ClientKind::Fresh => "fresh connection per request",
        }
    }

    fn build(self) -> reqwest::Client {
        let b = reqwest::Client::builder();
        match self {
            ClientKind::Rskill => b,
            ClientKind::ClientNagle => b.tcp_nodelay(false),
            ClientKind::Fresh => b.pool_max_idle_per_host(0),
        }
        .build()
        .unwrap()
    }
}

/// Median, p99 and the number over 20 ms (stalled) of `n` sequential GETs of `url`,
/// each body read to the end.
async fn time_gets(http: &reqwest::Client, url: &str, n: usize, len: usize) -> (f64, f64, usize) {
    // One request first so the kept-alive cases start on an open connection.
    let first = http.get(url).send().await.unwrap().bytes().await.unwrap();
    assert!(
        len == 0 || first.len() == len,
        "{url}: {} bytes",
        first.len()
    );
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = http.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        let body = r.bytes().await.unwrap();
        times.push(t.elapsed());
        assert!(!body.is_empty());
    }
    times.sort();
    let stalled = times.iter().filter(|t| ms(**t) > 20.0).count();
    (
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        stalled,
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    seed(dir.path());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    println!(
        "rskill-hub kept-alive requests, sequential, release build, loopback (median / p99 in ms, and how many took over 20 ms)"
    );
    println!(
        "{:<22} {:<38} {:>22} {:>22} {:>22}",
        "server",
        "client",
        format!("rskill.yaml ×{SMALL_REQUESTS}"),
        format!("1 MiB file ×{BIG_REQUESTS}"),
        format!("/api/models ×{JSON_REQUESTS}")
    );
    let mut small_fixed = f64::MAX;
    for (server, nodelay) in [("before (Nagle on)", false), ("after (TCP_NODELAY)", true)] {
        let (child, url) = start(dir.path(), nodelay);
        for kind in [
            ClientKind::Rskill,
            ClientKind::ClientNagle,
            ClientKind::Fresh,
        ] {
            let (small, big, json) = runtime.block_on(async {
                let http = kind.build();
                let small = time_gets(
                    &http,
                    &format!("{url}/{REPO}/resolve/main/rskill.yaml"),
                    SMALL_REQUESTS,
                    0,
                )
                .await;
                let big = time_gets(
                    &http,
                    &format!("{url}/{REPO}/resolve/main/model.safetensors"),
                    BIG_REQUESTS,
                    MIB,
                )
                .await;
                let json =
                    time_gets(&http, &format!("{url}/api/models/{REPO}"), JSON_REQUESTS, 0).await;
                (small, big, json)
            });
            if nodelay && matches!(kind, ClientKind::Rskill) {
                small_fixed = small.0;
            }
            let cell = |(m, p, s): (f64, f64, usize)| format!("{m:.2} / {p:.2} ({s})");
            println!(
                "{server:<22} {:<38} {:>22} {:>22} {:>22}",
                kind.label(),
                cell(small),
                cell(big),
                cell(json)
            );
        }
        stop(child);
    }
    println!(
        "target: kept-alive small-file median < 2 ms with the fixed server and rskill's client: {small_fixed:.2} ms {}",
        if small_fixed < 2.0 { "OK" } else { "MISSED" }
    );
}

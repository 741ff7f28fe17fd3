//! Benchmark of `rskill-hub` (run with `scripts/bench-hub.sh` or `cargo bench --bench hub`).
//!
//! 1. Seeds 10,000 model repos (each a README with tags, and an `rskill.yaml`) through
//!    the library's storage API, plus one repo holding a 1 GiB file, in a temp directory.
//! 2. Starts the release `rskill-hub` binary on it and times its startup.
//! 3. Listing: 200 × `GET /api/models?filter=<tag>&limit=100`; median and p95 latency
//!    (target: median < 50 ms).
//! 4. Serving: downloads the 1 GiB file to a client that discards the bytes; throughput,
//!    and the server's peak RSS (`VmHWM` in /proc/PID/status) before and after
//!    (target: growth < 32 MiB).
//!
//! Large inputs are generated here at run time and deleted afterwards.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rskill_hub::catalog::{Catalog, CommitOp, CommitRequest, Content};
use rskill_hub::{RepoId, RepoKind, Store, StoreOptions};

const REPOS: usize = 10_000;
const LIST_REQUESTS: usize = 200;
const BIG: u64 = 1024 * 1024 * 1024;
const EMBODIMENTS: [&str; 10] = [
    "franka_panda",
    "aloha",
    "so100_follower",
    "so101_follower",
    "ur5e",
    "ur10e",
    "widowx",
    "g1",
    "h1",
    "google_robot",
];
const KINDS: [&str; 5] = ["vla", "wam", "detector", "vlm", "reward"];

/// A reader of `len` deterministic pseudo-random bytes.
struct Noise {
    left: u64,
    x: u64,
}

impl Read for Noise {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for chunk in buf[..n].chunks_mut(8) {
            self.x ^= self.x << 13;
            self.x ^= self.x >> 7;
            self.x ^= self.x << 17;
            let bytes = self.x.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn put(path: &str, content: Content) -> CommitOp {
    CommitOp::Put {
        path: path.into(),
        content,
    }
}

fn commit(catalog: &Catalog, id: &RepoId, ops: Vec<CommitOp>) {
    catalog
        .apply_commit(
            RepoKind::Model,
            id,
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
    let started = Instant::now();
    for i in 0..REPOS {
        let id = RepoId::parse(&format!("org{:02}/rskill-skill-{i:05}", i % 50)).unwrap();
        catalog
            .create_repo(RepoKind::Model, &id, false, "bench")
            .unwrap();
        let readme = format!(
            "---\nlicense: apache-2.0\ntags:\n- rskill\n- embodiment:{}\n- kind:{}\n- action:pick\n---\n# Skill {i}\n\nA benchmark skill.\n",
            EMBODIMENTS[i % EMBODIMENTS.len()],
            KINDS[i % KINDS.len()]
        );
        let manifest = format!("name: {id}\nversion: 0.1.{i}\nkind: vla\n");
        let readme = catalog.store().stage_bytes(readme.as_bytes()).unwrap();
        let manifest = catalog.store().stage_bytes(manifest.as_bytes()).unwrap();
        commit(
            &catalog,
            &id,
            vec![
                put("README.md", Content::Staged(readme)),
                put("rskill.yaml", Content::Staged(manifest)),
            ],
        );
    }
    eprintln!(
        "seeded {REPOS} repos in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let id = RepoId::parse("weights/big").unwrap();
    catalog
        .create_repo(RepoKind::Model, &id, false, "bench")
        .unwrap();
    let blob = catalog
        .store()
        .stage_reader(
            Noise {
                left: BIG,
                x: 0x9E37_79B9_7F4A_7C15,
            },
            BIG,
        )
        .unwrap();
    commit(
        &catalog,
        &id,
        vec![put("model.safetensors", Content::Staged(blob))],
    );
    eprintln!(
        "wrote the 1 GiB file in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// `VmHWM` (peak resident set) and `VmRSS` of a process, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn listing(http: &reqwest::Client, url: &str, filter: &str) -> (Duration, Duration, usize) {
    let target = format!("{url}/api/models?filter={filter}&limit=100");
    let first: Vec<serde_json::Value> = http
        .get(&target)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let page = first.len();
    let mut times = Vec::with_capacity(LIST_REQUESTS);
    for _ in 0..LIST_REQUESTS {
        let t = Instant::now();
        let r = http.get(&target).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body = r.bytes().await.unwrap();
        times.push(t.elapsed());
        assert!(!body.is_empty());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.95), page)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    seed(dir.path());

    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rskill-hub"))
        .args(["serve", "--data"])
        .arg(dir.path())
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("rskill-hub starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("URL line")
        .to_owned();
    let startup = started.elapsed();
    let pid = child.id();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (list_a, list_b, hwm_before, rss_before, hwm_after, rss_peak, throughput) = runtime
        .block_on(async {
            let http = reqwest::Client::new();
            let list_a = listing(&http, &url, "embodiment:franka_panda").await;
            let list_b = listing(&http, &url, "rskill").await;

            let (hwm_before, rss_before) = memory_kib(pid);
            let sampler = std::thread::spawn(move || {
                let mut peak = 0;
                while !SAMPLING_DONE.load(std::sync::atomic::Ordering::SeqCst) {
                    peak = peak.max(memory_kib(pid).1);
                    std::thread::sleep(Duration::from_millis(20));
                }
                peak
            });
            let t = Instant::now();
            let r = http
                .get(format!("{url}/weights/big/resolve/main/model.safetensors"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let mut stream = r.bytes_stream();
            let mut received = 0u64;
            while let Some(chunk) = stream.next().await {
                received += chunk.unwrap().len() as u64;
            }
            let elapsed = t.elapsed();
            assert_eq!(received, BIG);
            SAMPLING_DONE.store(true, std::sync::atomic::Ordering::SeqCst);
            let rss_peak = sampler.join().unwrap();
            let (hwm_after, _) = memory_kib(pid);
            let throughput = BIG as f64 / (1024.0 * 1024.0) / elapsed.as_secs_f64();
            (
                list_a, list_b, hwm_before, rss_before, hwm_after, rss_peak, throughput,
            )
        });
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();

    println!("rskill-hub benchmark ({REPOS} repos, release build)");
    println!("  server startup (loads the index): {:.0} ms", ms(startup));
    for (filter, (median, p95, page)) in [("embodiment:franka_panda", list_a), ("rskill", list_b)] {
        let matches = if filter == "rskill" {
            REPOS
        } else {
            REPOS / EMBODIMENTS.len()
        };
        println!(
            "  GET /api/models?filter={filter}&limit=100 ({matches} matches, {page} per page, {LIST_REQUESTS} requests): median {:.2} ms, p95 {:.2} ms (target: median < 50 ms) {}",
            ms(median),
            ms(p95),
            if ms(median) < 50.0 { "OK" } else { "MISSED" }
        );
    }
    let growth_mib = (hwm_after.saturating_sub(hwm_before)) as f64 / 1024.0;
    println!("  1 GiB download: {throughput:.0} MiB/s");
    println!(
        "  server memory: VmHWM {:.1} MiB before, {:.1} MiB after (growth {growth_mib:.1} MiB, target < 32 MiB) {}; VmRSS {:.1} MiB before, sampled peak {:.1} MiB during",
        hwm_before as f64 / 1024.0,
        hwm_after as f64 / 1024.0,
        if growth_mib < 32.0 { "OK" } else { "MISSED" },
        rss_before as f64 / 1024.0,
        rss_peak as f64 / 1024.0
    );
}

static SAMPLING_DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

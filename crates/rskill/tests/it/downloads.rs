//! Downloads that leave the Hub and downloads split over several connections (issue
//! 18, points 2 and 5): a scripted Hub (`hostile_hub`) answers the resolve with a `302`
//! to an object-store stand-in (`store_standin`), both on 127.0.0.1. The token must
//! never reach the store; bad `Location`s are refused; a big file comes over ranged
//! requests that resume their own piece after a drop, are hashed as they land, fall
//! back to one stream where ranges are not served, and use several connections behind
//! a per-connection throttle (`throttle_proxy`).

use std::path::Path;
use std::time::{Duration, Instant};

use rskill_hub_client::download::FileSpec;
use rskill_hub_client::ranged::Parallel;
use rskill_hub_client::{HubClient, HubEnv, HubError, Token, TokenSource};
use rskill_test_support::hostile_hub::{HostileHub, Reply};
use rskill_test_support::store_standin::{Faults, StoreStandin};
use rskill_test_support::test_hub::{noise, sha256_hex};
use rskill_test_support::throttle_proxy::{Shape, ThrottleProxy};
use tempfile::TempDir;

const REPO: &str = "acme/weights";
const SHA: &str = "dddddddddddddddddddddddddddddddddddddddd";
const PATH: &str = "model.safetensors";
const SECRET: &str = "hf_hubonlysecret0123456789";
const MIB: u64 = 1 << 20;

/// Files from 1 MiB on are split into 512 KiB pieces over 4 connections.
fn small_pieces() -> Parallel {
    Parallel {
        connections: 4,
        split_threshold: MIB,
        piece_size: 512 << 10,
        split_below: None,
    }
}

fn client(url: &str, home: &Path, parallel: Parallel) -> HubClient {
    HubClient::new(HubEnv {
        endpoint: url.to_string(),
        token: Some((Token::new(SECRET).unwrap(), TokenSource::EnvVar)),
        hf_home: home.to_path_buf(),
        hub_cache: home.join("hub"),
        offline: false,
        disable_progress_bars: true,
        download_timeout: Duration::from_secs(3),
    })
    .unwrap()
    .with_parallel(parallel)
}

fn spec(bytes: &[u8]) -> FileSpec {
    FileSpec {
        repo: REPO.parse().unwrap(),
        commit: SHA.parse().unwrap(),
        path: PATH.parse().unwrap(),
        size: Some(bytes.len() as u64),
        lfs: true,
        sha256: Some(sha256_hex(bytes).parse().unwrap()),
        git_sha1: None,
        verify_cached: false,
    }
}

/// Where the scripted Hub redirects a resolve of `path` to.
type Locate = dyn Fn(&str) -> String + Send + Sync;

/// A Hub whose resolve of the file answers `302` to `location` with the headers
/// huggingface.co sends.
async fn hub_redirecting(
    location: impl Fn(&str) -> String + Send + Sync + 'static,
    bytes: &[u8],
) -> HostileHub {
    let (size, sha) = (bytes.len(), sha256_hex(bytes));
    HostileHub::start(move |path| {
        if path.contains("/resolve/") {
            Reply::Redirect {
                location: location(path),
                headers: vec![
                    ("x-repo-commit".into(), SHA.into()),
                    ("x-linked-etag".into(), format!("\"{sha}\"")),
                    ("x-linked-size".into(), size.to_string()),
                    ("etag".into(), format!("\"{sha}\"")),
                ],
            }
        } else {
            Reply::NotFound
        }
    })
    .await
}

/// The Hub redirecting to a presigned URL of `store`.
async fn hub_to_store(store: &str, bytes: &[u8]) -> HostileHub {
    let target = format!(
        "{store}/bucket/blobs/{}?X-Amz-Signature=abc123",
        sha256_hex(bytes)
    );
    hub_redirecting(move |_| target.clone(), bytes).await
}

async fn download(
    c: &HubClient,
    bytes: &[u8],
) -> Result<rskill_hub_client::download::Downloaded, HubError> {
    c.download(&spec(bytes), &|_| {}).await
}

fn blobs(home: &Path) -> Vec<String> {
    let dir = home.join("hub/models--acme--weights/blobs");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The Hub gets the token; the store (redirected to, single stream and split) sees no
/// Authorization and no Cookie header, and the file arrives whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_followed_and_the_token_stays_with_the_hub() {
    for (label, len) in [("one stream", 300 << 10), ("split", 3 * MIB as usize)] {
        let bytes = noise(len, 7);
        let store = StoreStandin::start(bytes.clone(), Faults::default()).await;
        let hub = hub_to_store(&store.url, &bytes).await;
        let home = TempDir::new().unwrap();
        let d = download(&client(&hub.url, home.path(), small_pieces()), &bytes)
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(d.sha256, sha256_hex(&bytes), "{label}");
        assert_eq!(std::fs::read(&d.path).unwrap(), bytes, "{label}");
        let hub_heads = hub.heads.lock().unwrap().clone();
        assert!(!hub_heads.is_empty());
        assert!(
            hub_heads.iter().all(|h| h
                .to_ascii_lowercase()
                .contains(&format!("authorization: bearer {SECRET}").to_ascii_lowercase())),
            "{label}: the Hub is asked with the token"
        );
        let seen = store.seen();
        let expected = if label == "split" { 6 } else { 1 };
        assert_eq!(seen.len(), expected, "{label}: requests at the store");
        for s in &seen {
            assert!(
                s.target.contains("X-Amz-Signature=abc123"),
                "{label}: {}",
                s.target
            );
            assert_eq!(
                s.header("authorization"),
                None,
                "{label}: token sent to the store"
            );
            assert_eq!(s.header("cookie"), None, "{label}");
            assert!(
                !s.headers.iter().any(|(_, v)| v.contains(SECRET)),
                "{label}: the secret in a header at the store"
            );
        }
    }
}

/// A `Location` with another scheme, an overlong one, credentials in it, a loop and too
/// many hops are refused with an error saying why, and nothing is fetched from them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_redirects_are_refused() {
    let bytes = noise(100 << 10, 3);
    let long = format!("http://127.0.0.1:9/{}", "a".repeat(9000));
    let cases: Vec<(&str, Box<Locate>, &str)> = vec![
        (
            "file scheme",
            Box::new(|_| "file:///etc/passwd".into()),
            "scheme is `file`",
        ),
        (
            "ftp scheme",
            Box::new(|_| "ftp://127.0.0.1/x".into()),
            "scheme is `ftp`",
        ),
        (
            "overlong",
            Box::new(move |_| long.clone()),
            "more than the 8192 accepted",
        ),
        (
            "credentials",
            Box::new(|_| "http://user:pw@127.0.0.1:9/x".into()),
            "credentials",
        ),
        ("loop", Box::new(|p| p.to_string()), "redirect loop"),
        (
            "too many hops",
            Box::new(|p| format!("{p}x")), // a new address each time
            "more than 5 redirects",
        ),
    ];
    for (label, location, expect) in cases {
        let hub = hub_redirecting(location, &bytes).await;
        let home = TempDir::new().unwrap();
        let e = download(&client(&hub.url, home.path(), small_pieces()), &bytes)
            .await
            .expect_err(label);
        assert!(matches!(e, HubError::Protocol { .. }), "{label}: {e}");
        let text = e.to_string();
        assert!(text.contains(expect), "{label}: {text}");
        assert!(!text.contains(SECRET), "{label}");
        let hops = hub.requests.lock().unwrap().len();
        assert!(hops <= 6, "{label}: {hops} requests");
        assert!(
            blobs(home.path())
                .iter()
                .all(|b| !b.ends_with(&sha256_hex(&bytes)))
        );
    }
}

/// One connection drops in the middle of its piece: only the rest of that piece is
/// asked again, and the file's digest is right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_resumes_only_its_piece() {
    let bytes = noise(4 * MIB as usize, 11);
    let cut = 3 * (512 << 10) + 1000; // inside the fourth piece
    let store = StoreStandin::start(
        bytes.clone(),
        Faults {
            drop_once_at: Some(cut),
            ..Faults::default()
        },
    )
    .await;
    let hub = hub_to_store(&store.url, &bytes).await;
    let home = TempDir::new().unwrap();
    let d = download(&client(&hub.url, home.path(), small_pieces()), &bytes)
        .await
        .unwrap();
    assert_eq!(d.sha256, sha256_hex(&bytes));
    assert_eq!(store.drops.load(std::sync::atomic::Ordering::SeqCst), 1);
    let ranges: Vec<String> = store
        .seen()
        .iter()
        .filter_map(|s| s.header("range").map(str::to_owned))
        .collect();
    assert_eq!(
        ranges.len(),
        8 + 1,
        "eight pieces and one resumption: {ranges:?}"
    );
    let piece_end = 4 * (512 << 10) - 1;
    assert!(
        ranges.contains(&format!("bytes={cut}-{piece_end}")),
        "the dropped piece resumes where it stopped: {ranges:?}"
    );
    assert_eq!(d.transferred, bytes.len() as u64, "no byte fetched twice");
    assert_eq!(blobs(home.path()), vec![sha256_hex(&bytes)], "no leftovers");
}

/// A store that flips one byte in one piece: the download fails the hash check and
/// leaves no blob (and no partial file) in the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_piece_fails_the_hash_check_and_leaves_nothing() {
    let bytes = noise(4 * MIB as usize, 13);
    let store = StoreStandin::start(
        bytes.clone(),
        Faults {
            flip_at: Some(5 * (512 << 10) + 17),
            ..Faults::default()
        },
    )
    .await;
    let hub = hub_to_store(&store.url, &bytes).await;
    let home = TempDir::new().unwrap();
    let e = download(&client(&hub.url, home.path(), small_pieces()), &bytes)
        .await
        .expect_err("a flipped byte is caught");
    assert!(matches!(e, HubError::Integrity { .. }), "{e}");
    assert_eq!(
        blobs(home.path()),
        Vec::<String>::new(),
        "nothing left in the cache"
    );
    assert!(
        !home
            .path()
            .join("hub/models--acme--weights/snapshots")
            .join(SHA)
            .join(PATH)
            .exists()
    );
}

/// A store that ignores `Range` gets one request and the file comes as one stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_without_ranges_gets_one_stream() {
    let bytes = noise(3 * MIB as usize, 17);
    let store = StoreStandin::start(
        bytes.clone(),
        Faults {
            no_ranges: true,
            ..Faults::default()
        },
    )
    .await;
    let hub = hub_to_store(&store.url, &bytes).await;
    let home = TempDir::new().unwrap();
    let d = download(&client(&hub.url, home.path(), small_pieces()), &bytes)
        .await
        .unwrap();
    assert_eq!(d.sha256, sha256_hex(&bytes));
    assert_eq!(store.seen().len(), 1);
    assert_eq!(d.transferred, bytes.len() as u64);
}

/// A split download whose process died: the pieces beyond the recorded hashed prefix
/// are not trusted; the next run fetches from that prefix on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_crash_a_split_download_resumes_from_its_hashed_prefix() {
    let bytes = noise(4 * MIB as usize, 19);
    let store = StoreStandin::start(bytes.clone(), Faults::default()).await;
    let hub = hub_to_store(&store.url, &bytes).await;
    let home = TempDir::new().unwrap();
    let blobs_dir = home.path().join("hub/models--acme--weights/blobs");
    std::fs::create_dir_all(&blobs_dir).unwrap();
    let name = sha256_hex(&bytes);
    // What a killed run leaves: 1 MiB hashed, a later piece written, garbage between.
    let mut parts = bytes[..MIB as usize].to_vec();
    parts.extend(std::iter::repeat_n(0xAAu8, 2 * MIB as usize));
    std::fs::write(blobs_dir.join(format!("{name}.parts")), &parts).unwrap();
    std::fs::write(
        blobs_dir.join(format!("{name}.parts-prefix")),
        MIB.to_string(),
    )
    .unwrap();
    let d = download(&client(&hub.url, home.path(), small_pieces()), &bytes)
        .await
        .unwrap();
    assert_eq!(d.sha256, name);
    assert_eq!(d.resumed_from, MIB);
    assert_eq!(d.transferred, 3 * MIB);
    let first = store.seen()[0].header("range").unwrap_or("").to_string();
    assert!(first.starts_with(&format!("bytes={MIB}-")), "{first}");
    assert_eq!(blobs(home.path()), vec![name]);
}

/// Behind a proxy capping each connection, a split download opens several and beats
/// what one capped stream could do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_connections_outrun_a_per_connection_cap() {
    let bytes = noise(4 * MIB as usize, 23);
    let store = StoreStandin::start(bytes.clone(), Faults::default()).await;
    let rate = 2 * MIB; // one stream: 2 s for the file
    let proxy = ThrottleProxy::start(
        "127.0.0.1:0".parse().unwrap(),
        store.url.trim_start_matches("http://").parse().unwrap(),
        Shape {
            bytes_per_sec: rate,
            latency: Duration::ZERO,
        },
    )
    .await
    .unwrap();
    let hub = hub_to_store(&proxy.url(), &bytes).await;
    let home = TempDir::new().unwrap();
    let started = Instant::now();
    // The default rule: the first piece comes slowly (2 MiB/s, well under the 300 MiB/s
    // of `DEFAULT_SPLIT_BELOW`), so the other connections open.
    let adaptive = Parallel {
        split_below: Some(rskill_hub_client::ranged::DEFAULT_SPLIT_BELOW),
        ..small_pieces()
    };
    let d = download(&client(&hub.url, home.path(), adaptive), &bytes)
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(d.sha256, sha256_hex(&bytes));
    let open = proxy.max_open.load(std::sync::atomic::Ordering::SeqCst);
    assert!(open >= 2, "at most {open} connection(s) open at once");
    let ranges: Vec<String> = store
        .seen()
        .iter()
        .filter_map(|r| r.header("range").map(str::to_owned))
        .collect();
    assert_eq!(
        ranges.first().map(String::as_str),
        Some("bytes=0-"),
        "it started as one open-ended request: {ranges:?}"
    );
    assert!(ranges.len() > 2, "then the rest in pieces: {ranges:?}");
    let one_stream = Duration::from_secs_f64(bytes.len() as f64 / rate as f64);
    assert!(
        took < one_stream.mul_f64(0.75),
        "{took:?} with {open} connections; one capped stream takes {one_stream:?}"
    );
}

/// A slow start with one piece or less left: the rest comes as one more ranged stream
/// from where the first request stopped, not split.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_start_with_little_left_finishes_as_one_stream() {
    let bytes = noise(MIB as usize, 37); // two 512 KiB pieces
    let store = StoreStandin::start(bytes.clone(), Faults::default()).await;
    let proxy = ThrottleProxy::start(
        "127.0.0.1:0".parse().unwrap(),
        store.url.trim_start_matches("http://").parse().unwrap(),
        Shape {
            bytes_per_sec: 4 * MIB,
            latency: Duration::ZERO,
        },
    )
    .await
    .unwrap();
    let hub = hub_to_store(&proxy.url(), &bytes).await;
    let home = TempDir::new().unwrap();
    let adaptive = Parallel {
        split_below: Some(rskill_hub_client::ranged::DEFAULT_SPLIT_BELOW),
        ..small_pieces()
    };
    let d = download(&client(&hub.url, home.path(), adaptive), &bytes)
        .await
        .unwrap();
    assert_eq!(d.sha256, sha256_hex(&bytes));
    let ranges: Vec<String> = store
        .seen()
        .iter()
        .filter_map(|r| r.header("range").map(str::to_owned))
        .collect();
    assert_eq!(
        ranges.first().map(String::as_str),
        Some("bytes=0-"),
        "{ranges:?}"
    );
    assert_eq!(ranges.len(), 2, "then the rest in one request: {ranges:?}");
    assert!(
        ranges[1].ends_with('-') && ranges[1] != "bytes=0-",
        "the second request resumes where the first stopped: {ranges:?}"
    );
}

/// A store whose first piece comes fast enough keeps the download on its one open-ended
/// request: where one stream already fills the link, more only cost writes, a read-back
/// and buffers. (The proxy here is not capping: 1 GiB/s.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_first_piece_keeps_one_connection() {
    let bytes = noise(4 * MIB as usize, 31);
    let store = StoreStandin::start(bytes.clone(), Faults::default()).await;
    let proxy = ThrottleProxy::start(
        "127.0.0.1:0".parse().unwrap(),
        store.url.trim_start_matches("http://").parse().unwrap(),
        Shape {
            bytes_per_sec: 1 << 30,
            latency: Duration::ZERO,
        },
    )
    .await
    .unwrap();
    let hub = hub_to_store(&proxy.url(), &bytes).await;
    let home = TempDir::new().unwrap();
    let fast = Parallel {
        split_below: Some(1 << 10), // any first piece is faster than 1 KiB/s
        ..small_pieces()
    };
    let d = download(&client(&hub.url, home.path(), fast), &bytes)
        .await
        .unwrap();
    assert_eq!(d.sha256, sha256_hex(&bytes));
    let open = proxy.max_open.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(open, 1, "one connection (4 or more with the rule off)");
    let ranges: Vec<String> = store
        .seen()
        .iter()
        .filter_map(|r| r.header("range").map(str::to_owned))
        .collect();
    assert_eq!(
        ranges,
        ["bytes=0-"],
        "one open-ended request, read to the end"
    );
}

/// A Hub redirect whose `X-Linked-Size` or `X-Linked-Etag` disagrees with the Hub's own
/// listing is refused before the store is asked anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_contradicting_the_listing_is_refused() {
    let bytes = noise(200 << 10, 29);
    let sha = sha256_hex(&bytes);
    let other = sha256_hex(b"other");
    let lies = [
        (
            "x-linked-size",
            (bytes.len() + 1).to_string(),
            "X-Linked-Size",
        ),
        ("x-linked-etag", format!("\"{other}\""), "X-Linked-Etag"),
    ];
    for (header, value, expect) in lies {
        let store = StoreStandin::start(bytes.clone(), Faults::default()).await;
        let location = format!("{}/bucket/{sha}?X-Amz-Signature=abc", store.url);
        let (header, value) = (header.to_string(), value.clone());
        let hub = HostileHub::start(move |_| Reply::Redirect {
            location: location.clone(),
            headers: vec![(header.clone(), value.clone())],
        })
        .await;
        let home = TempDir::new().unwrap();
        let e = download(&client(&hub.url, home.path(), small_pieces()), &bytes)
            .await
            .expect_err(expect);
        assert!(matches!(e, HubError::Protocol { .. }), "{expect}: {e}");
        assert!(e.to_string().contains(expect), "{e}");
        assert!(store.seen().is_empty(), "{expect}: the store was asked");
    }
}

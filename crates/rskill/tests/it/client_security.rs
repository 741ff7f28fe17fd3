//! A hostile Hub must not touch the installing machine: `rskill install` against the
//! scripted server of `hostile_hub` (127.0.0.1 only) that answers with paths in hashes
//! and commit ids, stalled, trickled, oversized and endless bodies, and manifests whose
//! `weights_uri` is `local://`. Each test checks that nothing outside the cache is
//! written, deleted or locked, that the install fails in bounded time with an error
//! naming the server or the value, and that refused bodies leave nothing in the cache.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rskill::install::{self, InstallError, InstallOptions, InstallUi};
use rskill_hub_client::{HubClient, HubEnv, HubError};
use rskill_test_support::hostile_hub::{HostileHub, Reply, file, info, manifest, sibling};
use serde_json::{Value, json};
use tempfile::TempDir;

const SKILL: &str = "evil/rskill-x";
const WEIGHTS: &str = "evil/weights";
const SKILL_SHA: &str = "cccccccccccccccccccccccccccccccccccccccc";
const WEIGHTS_SHA: &str = "dddddddddddddddddddddddddddddddddddddddd";
/// Longest any install here may take: past it, the client hangs.
const LIMIT: Duration = Duration::from_secs(30);
/// The client's download timeout in these tests (generous enough for a loaded CI machine).
const TIMEOUT: Duration = Duration::from_secs(3);

struct Quiet;

impl InstallUi for Quiet {
    fn say(&self, _: &str) {}
    fn confirm(&self, _: &str) -> bool {
        false
    }
    fn start_downloads(&self, _: usize, _: u64) -> Arc<dyn Fn(u64) + Send + Sync> {
        Arc::new(|_| {})
    }
}

fn client(url: &str, home: &Path) -> HubClient {
    HubClient::new(HubEnv {
        endpoint: url.to_string(),
        token: None,
        hf_home: home.to_path_buf(),
        hub_cache: home.join("hub"),
        offline: false,
        disable_progress_bars: true,
        download_timeout: TIMEOUT,
    })
    .unwrap()
}

/// The skill repo's answers: repo info (at `main` and at its commit) and its manifest.
fn skill_reply(path: &str, manifest: &[u8], info_value: &Value) -> Option<Reply> {
    if path.starts_with(&format!("/api/models/{SKILL}")) {
        return Some(Reply::Json(info_value.clone()));
    }
    if path.starts_with(&format!("/{SKILL}/resolve/")) && path.ends_with("/rskill.yaml") {
        return Some(file(manifest));
    }
    None
}

fn skill_info(manifest: &[u8]) -> Value {
    info(SKILL, SKILL_SHA, vec![sibling("rskill.yaml", manifest)])
}

/// A Hub with one skill whose weights repo lists `weights_siblings`; the weights file
/// is answered by `weights_file`.
async fn hub_with_weights(
    weights_siblings: Vec<Value>,
    weights_file: impl Fn() -> Reply + Send + Sync + 'static,
) -> HostileHub {
    let m = manifest(SKILL, &format!("hf://{WEIGHTS}")).into_bytes();
    rskill_manifest::validate::parse_valid(&String::from_utf8_lossy(&m))
        .expect("valid test manifest");
    let skill = skill_info(&m);
    let weights = info(WEIGHTS, WEIGHTS_SHA, weights_siblings);
    HostileHub::start(move |path| {
        if let Some(r) = skill_reply(path, &m, &skill) {
            return r;
        }
        if path.starts_with(&format!("/api/models/{WEIGHTS}")) {
            return Reply::Json(weights.clone());
        }
        if path.starts_with(&format!("/{WEIGHTS}/resolve/")) {
            return weights_file();
        }
        Reply::NotFound
    })
    .await
}

/// Runs `rskill install evil/rskill-x` against `hub`, failing the test past [`LIMIT`].
async fn run_install(
    hub: &HostileHub,
    home: &Path,
) -> (Result<install::InstallReport, InstallError>, Duration) {
    let c = client(&hub.url, home);
    let id = install::id::parse(SKILL, &[]).unwrap();
    let opts = InstallOptions {
        registry_path: Some(home.join("registry.json")),
        ..InstallOptions::default()
    };
    let started = Instant::now();
    let result = tokio::time::timeout(LIMIT, install::install(&c, &id, &opts, &Quiet))
        .await
        .unwrap_or_else(|_| panic!("the install hung for more than {LIMIT:?}"));
    (result, started.elapsed())
}

/// Every regular file under `dir`, recursively (symlinks not followed).
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.filter_map(Result::ok) {
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            out.extend(files_under(&e.path()));
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
    out
}

fn protocol_error(r: Result<install::InstallReport, InstallError>) -> String {
    match r {
        Err(InstallError::Hub(e @ HubError::Protocol { .. })) => e.to_string(),
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lfs_sha256_naming_a_path_neither_deletes_nor_locks_it() {
    let tmp = TempDir::new().unwrap();
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    let v = victim.display().to_string();
    let hub = hub_with_weights(
        vec![json!({"rfilename": "model.safetensors", "size": 8,
                    "lfs": {"sha256": v, "size": 8}})],
        || Reply::Bytes {
            headers: vec![],
            body: b"12345678".to_vec(),
        },
    )
    .await;
    let (result, _) = run_install(&hub, &tmp.path().join("home")).await;
    assert_eq!(std::fs::read(&victim).ok(), Some(b"precious".to_vec()));
    assert!(!tmp.path().join("victim.txt.lock").exists());
    assert!(!tmp.path().join("victim.incomplete").exists());
    let message = protocol_error(result);
    assert!(message.contains("lfs.sha256"), "{message}");
    assert!(message.contains("victim"), "{message}");
    assert!(message.contains(&hub.url), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_id_naming_a_path_writes_nothing_there() {
    let tmp = TempDir::new().unwrap();
    let planted = tmp.path().join("planted");
    let p = planted.display().to_string();
    // No size: before the fix, no git digest could be checked either.
    let hub = hub_with_weights(
        vec![json!({"rfilename": "model.safetensors", "blobId": p})],
        || Reply::Bytes {
            headers: vec![],
            body: b"served by the hostile hub".to_vec(),
        },
    )
    .await;
    let (result, _) = run_install(&hub, &tmp.path().join("home")).await;
    for leftover in ["planted", "planted.lock", "planted.incomplete"] {
        assert!(
            !tmp.path().join(leftover).exists(),
            "{leftover} was written"
        );
    }
    let message = protocol_error(result);
    assert!(message.contains("blobId"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_id_with_a_path_is_refused_at_the_boundary() {
    let tmp = TempDir::new().unwrap();
    let m = manifest(SKILL, &format!("hf://{WEIGHTS}")).into_bytes();
    let hostile = info(
        SKILL,
        "../../../../outside",
        vec![sibling("rskill.yaml", &m)],
    );
    let hub =
        HostileHub::start(move |path| skill_reply(path, &m, &hostile).unwrap_or(Reply::NotFound))
            .await;
    let (result, _) = run_install(&hub, &tmp.path().join("home")).await;
    let message = protocol_error(result);
    assert!(message.contains("sha"), "{message}");
    assert!(message.contains("outside"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_times_out() {
    let tmp = TempDir::new().unwrap();
    let hub = HostileHub::start(|_| Reply::Silent).await;
    let (result, took) = run_install(&hub, &tmp.path().join("home")).await;
    match result {
        Err(InstallError::Hub(e @ HubError::Unreachable { .. })) => {
            let m = e.to_string();
            assert!(m.contains(&hub.url), "{m}");
            assert!(e.hint().is_some());
        }
        other => panic!("expected an unreachable error, got {other:?}"),
    }
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_times_out_and_the_next_run_resumes() {
    let tmp = TempDir::new().unwrap();
    let body = vec![b'x'; 4096];
    let hub = hub_with_weights(vec![sibling("model.safetensors", &body)], || {
        Reply::Trickle {
            len: 4096,
            every: Duration::from_millis(300),
        }
    })
    .await;
    let home = tmp.path().join("home");
    let (result, took) = run_install(&hub, &home).await;
    match result {
        Err(InstallError::Hub(e @ HubError::Unreachable { .. })) => {
            let m = e.to_string();
            assert!(m.contains(&hub.url), "{m}");
            assert!(m.contains("run again"), "{m}");
        }
        other => panic!("expected an unreachable error, got {other:?}"),
    }
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let partial: Vec<_> = files_under(&home.join("hub"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "incomplete"))
        .collect();
    assert_eq!(partial.len(), 1, "the received bytes are kept for a resume");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_hub_manifest_is_refused_and_not_cached() {
    let tmp = TempDir::new().unwrap();
    let mut m = manifest(SKILL, &format!("hf://{WEIGHTS}"));
    while m.len() < 3 << 20 {
        m.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    let m = m.into_bytes();
    let skill = skill_info(&m);
    let hub =
        HostileHub::start(move |path| skill_reply(path, &m, &skill).unwrap_or(Reply::NotFound))
            .await;
    let home = tmp.path().join("home");
    let (result, _) = run_install(&hub, &home).await;
    let message = match result {
        Err(e) => e.to_string(),
        Ok(_) => panic!("an oversized manifest was installed"),
    };
    assert!(message.contains("1 MiB"), "{message}");
    let repo_dir = home.join("hub/models--evil--rskill-x");
    let mut blobs = files_under(&repo_dir.join("blobs"));
    blobs.extend(files_under(&repo_dir.join("snapshots")));
    assert!(blobs.is_empty(), "left in the cache: {blobs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_repo_info_is_refused() {
    let tmp = TempDir::new().unwrap();
    let m = manifest(SKILL, &format!("hf://{WEIGHTS}")).into_bytes();
    let mut skill = skill_info(&m);
    skill["cardData"] = json!({"padding": "p".repeat(20 << 20)});
    let hub =
        HostileHub::start(move |path| skill_reply(path, &m, &skill).unwrap_or(Reply::NotFound))
            .await;
    let (result, _) = run_install(&hub, &tmp.path().join("home")).await;
    let message = protocol_error(result);
    assert!(message.contains("MiB"), "{message}");
    assert!(message.contains(&hub.url), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_longer_than_declared_is_cut_off_and_discarded() {
    let tmp = TempDir::new().unwrap();
    let declared = b"sixty-five bytes of a file that the hub says is exactly this long";
    assert_eq!(declared.len(), 65);
    let hub = hub_with_weights(vec![sibling("model.safetensors", declared)], || {
        Reply::Endless { headers: vec![] }
    })
    .await;
    let home = tmp.path().join("home");
    let (result, _) = run_install(&hub, &home).await;
    let message = match result {
        Err(e) => e.to_string(),
        Ok(_) => panic!("an endless body was installed"),
    };
    assert!(message.contains("65"), "{message}");
    let sent = hub.endless_sent.load(Ordering::Relaxed);
    assert!(
        sent < 64 << 20,
        "the client read {sent} bytes of a 65-byte file"
    );
    let partial: Vec<_> = files_under(&home.join("hub"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "incomplete"))
        .collect();
    assert!(partial.is_empty(), "left in the cache: {partial:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_manifest_with_local_weights_is_refused() {
    let tmp = TempDir::new().unwrap();
    let weights = tmp.path().join("w.safetensors");
    let tensors = [("w", rskill_test_support::fixtures::Dtype::F32, vec![4, 4])];
    std::fs::write(
        &weights,
        rskill_test_support::fixtures::safetensors_bytes(&tensors, 1),
    )
    .unwrap();
    let relative = format!("local://../../../../../../../..{}", weights.display());
    for uri in [format!("local://{}", weights.display()), relative] {
        let m = manifest(SKILL, &uri).into_bytes();
        rskill_manifest::validate::parse_valid(&String::from_utf8_lossy(&m))
            .expect("valid manifest");
        let skill = skill_info(&m);
        let hub =
            HostileHub::start(move |path| skill_reply(path, &m, &skill).unwrap_or(Reply::NotFound))
                .await;
        let home = tmp.path().join(format!("home-{}", uri.len()));
        let (result, _) = run_install(&hub, &home).await;
        let message = match result {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{uri}: weights from the installing machine were registered"),
        };
        assert!(message.contains("local://"), "{message}");
        assert!(message.contains("Hub"), "{message}");
        assert!(!home.join("registry.json").exists());
    }
}

#[tokio::test]
async fn a_collection_is_never_created_twice_after_a_5xx_or_a_timeout() {
    // Creating a collection makes a new one each time: once it may have reached the
    // server, it is not sent again. Before the fix, a 500 was retried 4 times.
    for reply in ["500", "silent"] {
        let hub = HostileHub::start(move |path| match (path, reply) {
            ("/api/collections", "500") => Reply::Status(500),
            ("/api/collections", _) => Reply::Silent,
            _ => Reply::NotFound,
        })
        .await;
        let home = tempfile::tempdir().unwrap();
        let c = client(&hub.url, home.path());
        let err = c
            .create_collection("acme", "Pick cell", "", false)
            .await
            .unwrap_err();
        let posts = hub
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|p| *p == "/api/collections")
            .count();
        assert_eq!(posts, 1, "{reply}: sent {posts} times ({err})");
    }
    // A read is still retried.
    let hub = HostileHub::start(|_| Reply::Status(503)).await;
    let home = tempfile::tempdir().unwrap();
    let c = client(&hub.url, home.path());
    let _ = c.collection("acme/x").await.unwrap_err();
    assert!(hub.requests.lock().unwrap().len() > 1, "reads are retried");
}

//! The server on an S3-compatible object store (issue 18, points 1, 2 and 4): a real
//! Garage node (`RSKILL_GARAGE_BIN`; each test prints SKIPPED and returns when it is
//! unset) behind a recording proxy that stands for the store's public endpoint. Round
//! trips (inline and LFS uploads, 302 presigned downloads, ranges on the presigned URL),
//! the redirect headers, no Hub token ever reaching the store, private repos never
//! redirected for outsiders, hf-hub through the redirect, the LFS checks of `lfs.rs`,
//! and a failed commit leaving the bucket and the previous state as they were.

use reqwest::{Method, StatusCode, header};
use rskill_test_support::object_store_server::ObjectStoreServer;
use rskill_test_support::recording_proxy::RecordingProxy;
use rskill_test_support::test_hub::{TestHub, card, noise, sha256_hex};
use serde_json::Value;

use super::lfs::{self, Lfs};

/// Garage, a proxy in front of it, and a Hub whose blobs live under `prefix`.
struct S3Hub {
    store: ObjectStoreServer,
    proxy: RecordingProxy,
    hub: TestHub,
    prefix: String,
}

impl S3Hub {
    fn start(test: &str, configure: impl FnOnce(&mut rskill_hub::Config)) -> Option<S3Hub> {
        let store = ObjectStoreServer::start_or_skip(test)?;
        let proxy = RecordingProxy::start(&store.endpoint);
        let prefix = format!("t/{test}");
        let blobs = store.blobs_config(&prefix, &proxy.url());
        let hub = TestHub::start_with(|c| {
            c.blobs = blobs;
            configure(c);
        });
        Some(S3Hub {
            store,
            proxy,
            hub,
            prefix,
        })
    }

    fn stored(&self) -> impl Fn() -> Vec<String> + '_ {
        move || self.store.list(&self.prefix)
    }
}

#[tokio::test]
async fn s3_round_trip_redirects_and_never_leaks_the_token() {
    let Some(s3) = S3Hub::start("round-trip", |_| {}) else {
        return;
    };
    let hub = &s3.hub;
    let api = Lfs::new(hub);
    let repo = "acme/s3-skill";
    api.create(&hub.alice, repo, false).await;
    let readme = card(&["rskill"]);
    let inline_weights = noise(70_000, 3);
    let r = api
        .commit_inline(
            &hub.alice,
            repo,
            &[("README.md", &readme), ("w.safetensors", &inline_weights)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let big = noise(12 * 1024 * 1024 + 5, 4);
    let big_oid = sha256_hex(&big);
    api.upload(&hub.alice, repo, &big).await;
    let r = api
        .commit_lfs(&hub.alice, repo, "big.bin", &big_oid, big.len() as u64)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let commit: Value = r.json().await.unwrap();
    let commit_id = commit["commitOid"].as_str().unwrap().to_owned();
    let stored = s3.stored()();
    for blob in [&big_oid, &sha256_hex(&readme), &sha256_hex(&inline_weights)] {
        assert!(stored.contains(blob), "{blob} is in the bucket");
    }
    assert!(
        !hub.dir
            .path()
            .join("blobs")
            .read_dir()
            .unwrap()
            .any(|_| true),
        "nothing in the data directory's blobs/"
    );

    // Small files stream from the store through the Hub.
    let r = api
        .req(
            Method::GET,
            Some(&hub.alice),
            &format!("/{repo}/resolve/main/README.md"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap(), readme);

    // LFS files: 302 to a presigned URL, with the Hub's headers, on HEAD and GET.
    for method in [Method::HEAD, Method::GET] {
        let r = api
            .req(
                method.clone(),
                Some(&hub.alice),
                &format!("/{repo}/resolve/main/big.bin"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FOUND, "{method}");
        let h = r.headers();
        let quoted = format!("\"{big_oid}\"");
        assert_eq!(h["x-repo-commit"], commit_id.as_str());
        assert_eq!(h["x-linked-etag"], quoted.as_str());
        assert_eq!(h[header::ETAG], quoted.as_str());
        assert_eq!(h["x-linked-size"], big.len().to_string().as_str());
        let location = h[header::LOCATION].to_str().unwrap();
        assert!(location.starts_with(&s3.proxy.url()), "{location}");
        assert!(location.contains("X-Amz-Expires=900"), "{location}");
    }

    // A client following the redirect with the Hub token: the store sees no token.
    s3.proxy.clear();
    let follow = reqwest::Client::new();
    let r = follow
        .get(format!("{}/{repo}/resolve/main/big.bin", api.url))
        .bearer_auth(&hub.alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sha256_hex(&r.bytes().await.unwrap()), big_oid);
    let r = follow
        .get(format!("{}/{repo}/resolve/main/w.safetensors", api.url))
        .bearer_auth(&hub.alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap(), inline_weights);

    // Range on the presigned URL (a resumed download).
    let r = api
        .req(
            Method::GET,
            Some(&hub.alice),
            &format!("/{repo}/resolve/main/big.bin"),
        )
        .send()
        .await
        .unwrap();
    let location = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let r = reqwest::Client::new()
        .get(&location)
        .header(header::RANGE, "bytes=1000000-1000099")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap(), big[1_000_000..1_000_100]);

    // hf-hub downloads through the redirect too.
    let cache = tempfile::tempdir().unwrap();
    let client = hf_hub::HFClient::builder()
        .endpoint(hub.url())
        .token(&hub.alice)
        .cache_dir(cache.path())
        .retry_max_attempts(0)
        .build()
        .unwrap();
    let (owner, name) = repo.split_once('/').unwrap();
    let path = client
        .model(owner, name)
        .download_file()
        .filename("big.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(sha256_hex(&std::fs::read(path).unwrap()), big_oid);

    let downloads: Vec<_> = s3
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert!(downloads.len() >= 3, "the clients fetched from the store");
    for token in [&hub.alice, &hub.bob, &hub.carol] {
        for r in s3.proxy.requests() {
            for (name, value) in &r.headers {
                assert!(
                    !value.contains(token.as_str()),
                    "the store saw the Hub token in `{name}` of {} {}",
                    r.method,
                    r.target
                );
            }
        }
    }
}

#[tokio::test]
async fn s3_private_repos_are_not_redirected_for_outsiders() {
    let Some(s3) = S3Hub::start("private", |_| {}) else {
        return;
    };
    let hub = &s3.hub;
    let api = Lfs::new(hub);
    let repo = "acme/s3-private";
    api.create(&hub.alice, repo, true).await;
    let secret = noise(50_000, 8);
    let r = api
        .commit_inline(&hub.alice, repo, &[("w.safetensors", &secret)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    for token in [None, Some(hub.carol.as_str())] {
        for method in [Method::HEAD, Method::GET] {
            let r = api
                .req(
                    method,
                    token,
                    &format!("/{repo}/resolve/main/w.safetensors"),
                )
                .send()
                .await
                .unwrap();
            assert!(
                matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED),
                "{}",
                r.status()
            );
            assert!(r.headers().get(header::LOCATION).is_none());
        }
    }
    let r = api
        .req(
            Method::GET,
            Some(&hub.bob),
            &format!("/{repo}/resolve/main/w.safetensors"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND, "members are redirected");
}

#[tokio::test]
async fn s3_lfs_upload_flow() {
    let Some(s3) = S3Hub::start("lfs-flow", |_| {}) else {
        return;
    };
    lfs::upload_flow(&s3.hub, s3.stored()).await;
}

#[tokio::test]
async fn s3_lfs_hostile_inputs() {
    let Some(s3) = S3Hub::start("lfs-hostile", |_| {}) else {
        return;
    };
    lfs::hostile_inputs(&s3.hub, s3.stored()).await;
}

#[tokio::test]
async fn s3_dropped_put_leaves_no_object() {
    let Some(s3) = S3Hub::start("lfs-dropped", |_| {}) else {
        return;
    };
    lfs::dropped_put(&s3.hub, s3.stored()).await;
}

#[tokio::test]
async fn s3_failed_commit_leaves_the_previous_state() {
    let Some(mut s3) = S3Hub::start("failed-commit", |_| {}) else {
        return;
    };
    let api = Lfs::new(&s3.hub);
    let repo = "acme/s3-atomic";
    api.create(&s3.hub.alice, repo, false).await;
    let a = noise(40_000, 1);
    let r = api
        .commit_inline(&s3.hub.alice, repo, &[("a.bin", &a)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let before: Value = api
        .req(
            Method::GET,
            Some(&s3.hub.alice),
            &format!("/api/models/{repo}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = s3.stored()();
    s3.hub.restart_with(|c| c.fail_blob_write_at = Some(2));
    let api = Lfs::new(&s3.hub);
    let (b, c) = (noise(30_000, 20), noise(30_000, 30));
    let r = api
        .commit_inline(&s3.hub.alice, repo, &[("b.bin", &b), ("c.bin", &c)])
        .await;
    let status = r.status();
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let after: Value = api
        .req(
            Method::GET,
            Some(&s3.hub.alice),
            &format!("/api/models/{repo}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["sha"], before["sha"], "the branch did not move");
    assert_eq!(s3.stored()(), listed, "the first blob was removed again");
}

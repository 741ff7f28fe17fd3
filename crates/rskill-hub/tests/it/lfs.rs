//! Streamed LFS uploads (issue 18, point 3) on the data-directory backend, and the same
//! checks run again on an object store by `s3.rs`: preupload's LFS rule, the batch API,
//! ticketed PUTs hashed while stored, verify, `lfsFile` commits of uploaded oids, the
//! tenant rule, hostile inputs (wrong size, wrong content, forged and expired tickets,
//! oversize batches, another tenant's oid) and a dropped PUT leaving no object.

use std::io::Write;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use rskill_test_support::test_hub::{TestHub, card, ndjson, noise, sha256_hex};
use serde_json::{Value, json};

pub struct Lfs {
    pub http: reqwest::Client,
    pub url: String,
}

impl Lfs {
    pub fn new(hub: &TestHub) -> Self {
        Lfs {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            url: hub.url(),
        }
    }

    pub fn req(&self, method: Method, token: Option<&str>, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r
    }

    pub async fn create(&self, token: &str, repo: &str, private: bool) {
        let (org, name) = repo.split_once('/').unwrap();
        let r = self
            .req(Method::POST, Some(token), "/api/repos/create")
            .json(&json!({"name": name, "organization": org, "type": "model", "private": private}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "create {repo}");
    }

    pub async fn batch(
        &self,
        token: Option<&str>,
        repo: &str,
        objects: &[(&str, u64)],
    ) -> reqwest::Response {
        let objects: Vec<Value> = objects
            .iter()
            .map(|(oid, size)| json!({"oid": oid, "size": size}))
            .collect();
        self.req(
            Method::POST,
            token,
            &format!("/{repo}.git/info/lfs/objects/batch"),
        )
        .header("accept", "application/vnd.git-lfs+json")
        .json(
            &json!({"operation": "upload", "transfers": ["basic", "multipart"],
                          "objects": objects, "hash_algo": "sha256"}),
        )
        .send()
        .await
        .unwrap()
    }

    /// The batch answer for one object: its upload href, if asked to upload.
    pub async fn upload_href(
        &self,
        token: &str,
        repo: &str,
        oid: &str,
        size: u64,
    ) -> Option<String> {
        let r = self.batch(Some(token), repo, &[(oid, size)]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["transfer"], "basic");
        let o = &v["objects"][0];
        assert_eq!(o["oid"], oid);
        o["actions"]["upload"]["href"].as_str().map(str::to_owned)
    }

    /// PUTs `body` to an upload href, without any Hub token (as huggingface_hub does).
    pub async fn put(&self, href: &str, body: Vec<u8>) -> reqwest::Response {
        self.http.put(href).body(body).send().await.unwrap()
    }

    /// Uploads `content` to `repo` through batch + PUT + verify.
    pub async fn upload(&self, token: &str, repo: &str, content: &[u8]) {
        let oid = sha256_hex(content);
        let href = self
            .upload_href(token, repo, &oid, content.len() as u64)
            .await
            .expect("an upload action");
        let r = self.put(&href, content.to_vec()).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let r = self
            .req(
                Method::POST,
                Some(token),
                &format!("/{repo}.git/info/lfs/objects/verify"),
            )
            .json(&json!({"oid": oid, "size": content.len()}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }

    /// Commits `path` as an `lfsFile` line naming `oid`.
    pub async fn commit_lfs(
        &self,
        token: &str,
        repo: &str,
        path: &str,
        oid: &str,
        size: u64,
    ) -> reqwest::Response {
        let body = format!(
            "{}\n{}\n",
            json!({"key": "header", "value": {"summary": "lfs", "description": ""}}),
            json!({"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": oid, "size": size}})
        );
        self.req(
            Method::POST,
            Some(token),
            &format!("/api/models/{repo}/commit/main"),
        )
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap()
    }

    pub async fn commit_inline(
        &self,
        token: &str,
        repo: &str,
        files: &[(&str, &[u8])],
    ) -> reqwest::Response {
        self.req(
            Method::POST,
            Some(token),
            &format!("/api/models/{repo}/commit/main"),
        )
        .header("content-type", "application/x-ndjson")
        .body(ndjson("inline", None, files, &[]))
        .send()
        .await
        .unwrap()
    }
}

async fn error_code(r: reqwest::Response) -> (StatusCode, String) {
    let status = r.status();
    let code = r
        .headers()
        .get("x-error-code")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, code)
}

/// The whole flow: preupload's rule, batch, PUT without the Hub token, verify, commit,
/// download, and a second batch that asks for nothing.
pub async fn upload_flow(hub: &TestHub, stored: impl Fn() -> Vec<String>) {
    let api = Lfs::new(hub);
    let repo = "acme/lfs-flow";
    api.create(&hub.alice, repo, false).await;
    let gitattributes = b"*.dat filter=lfs diff=lfs merge=lfs -text\n";
    let r = api
        .commit_inline(
            &hub.alice,
            repo,
            &[
                (".gitattributes", gitattributes),
                ("README.md", &card(&["rskill"])),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = api
        .req(
            Method::POST,
            Some(&hub.alice),
            &format!("/api/models/{repo}/preupload/main"),
        )
        .json(&json!({"files": [
            {"path": "big.json", "size": 11 * 1024 * 1024, "sample": ""},
            {"path": "w.safetensors", "size": 10, "sample": ""},
            {"path": "small.dat", "size": 10, "sample": ""},
            {"path": "notes.txt", "size": 10, "sample": ""},
            {"path": "empty.bin", "size": 0, "sample": ""},
        ]}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    let modes: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["uploadMode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["lfs", "lfs", "lfs", "regular", "regular"]);

    let content = noise(11 * 1024 * 1024 + 17, 7);
    let oid = sha256_hex(&content);
    api.upload(&hub.alice, repo, &content).await;
    assert!(stored().contains(&oid), "the blob is stored");
    let r = api
        .commit_lfs(&hub.alice, repo, "big.json", &oid, content.len() as u64)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // Nothing more to upload: the repo has the blob.
    assert_eq!(
        api.upload_href(&hub.alice, repo, &oid, content.len() as u64)
            .await,
        None
    );
    let full = reqwest::Client::new()
        .get(format!("{}/{repo}/resolve/main/big.json", api.url))
        .bearer_auth(&hub.alice)
        .send()
        .await
        .unwrap();
    assert_eq!(full.status(), StatusCode::OK);
    assert_eq!(sha256_hex(&full.bytes().await.unwrap()), oid);
}

/// Hostile inputs; `stored` lists the blob store.
pub async fn hostile_inputs(hub: &TestHub, stored: impl Fn() -> Vec<String>) {
    let api = Lfs::new(hub);
    let repo = "acme/lfs-hostile";
    api.create(&hub.alice, repo, false).await;
    let content = noise(300_000, 11);
    let oid = sha256_hex(&content);
    let size = content.len() as u64;

    // Rights: anonymous 401, read-only 403, before any body is read.
    let (s, _) = error_code(api.batch(None, repo, &[(&oid, size)]).await).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = error_code(api.batch(Some(&hub.bob), repo, &[(&oid, size)]).await).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Bad objects get per-object errors; too many objects or too big a body are refused.
    let r = api.batch(Some(&hub.alice), repo, &[("not-a-sha", 3)]).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["objects"][0]["error"]["code"], 422);
    let many: Vec<(String, u64)> = (0..1001).map(|i| (format!("{i:064x}"), 1)).collect();
    let many: Vec<(&str, u64)> = many.iter().map(|(o, s)| (o.as_str(), *s)).collect();
    let (s, code) = error_code(api.batch(Some(&hub.alice), repo, &many).await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "TooManyObjects")
    );
    let huge = format!(
        "{{\"operation\":\"upload\",\"objects\":[],\"pad\":\"{}\"}}",
        "x".repeat(2 << 20)
    );
    let r = api
        .req(
            Method::POST,
            Some(&hub.alice),
            &format!("/{repo}.git/info/lfs/objects/batch"),
        )
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = api
        .req(
            Method::POST,
            Some(&hub.alice),
            &format!("/{repo}.git/info/lfs/objects/batch"),
        )
        .json(&json!({"operation": "upload", "transfers": ["xet"], "objects": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Wrong size (short body, long body) and wrong content store nothing.
    let href = api.upload_href(&hub.alice, repo, &oid, size).await.unwrap();
    let (s, code) = error_code(api.put(&href, content[..1000].to_vec()).await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::BAD_REQUEST, "UploadMismatch")
    );
    let mut longer = content.clone();
    longer.extend_from_slice(b"more");
    let (s, code) = error_code(api.put(&href, longer).await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::BAD_REQUEST, "UploadMismatch")
    );
    let mut forged = content.clone();
    forged[5] ^= 1;
    let (s, code) = error_code(api.put(&href, forged).await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::BAD_REQUEST, "UploadMismatch")
    );
    // A chunked body longer than announced is refused too (no Content-Length to check).
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(content.clone()), Ok(b"tail".to_vec())];
    let r = api
        .http
        .put(&href)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    assert!(!stored().contains(&oid), "no object after refused uploads");
    let r = api.commit_lfs(&hub.alice, repo, "w.bin", &oid, size).await;
    assert_eq!(error_code(r).await.1, "MissingLfsObject");

    // Forged tickets.
    for bad in [
        format!("{}/api/lfs/upload/{}", api.url, "0".repeat(64)),
        format!("{}/api/lfs/upload/xyz", api.url),
    ] {
        let (s, code) = error_code(api.put(&bad, content.clone()).await).await;
        assert_eq!(
            (s, code.as_str()),
            (StatusCode::FORBIDDEN, "InvalidUploadTicket")
        );
    }

    // The right content lands; the ticket is spent.
    let (s, _) = error_code(api.put(&href, content.clone()).await).await;
    assert_eq!(s, StatusCode::OK);
    assert!(stored().contains(&oid));
    let (s, code) = error_code(api.put(&href, content.clone()).await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::FORBIDDEN, "InvalidUploadTicket")
    );
    // Another tenant: carol (org `other`) cannot verify or commit an oid uploaded to
    // alice's repo and not committed yet, and is asked to upload it herself.
    let theirs = "other/lfs-tenant";
    api.create(&hub.carol, theirs, false).await;
    let r = api
        .commit_lfs(&hub.carol, theirs, "stolen.bin", &oid, size)
        .await;
    assert_eq!(error_code(r).await.1, "MissingLfsObject");
    let r = api
        .req(
            Method::POST,
            Some(&hub.carol),
            &format!("/{theirs}.git/info/lfs/objects/verify"),
        )
        .json(&json!({"oid": oid, "size": size}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        api.upload_href(&hub.carol, theirs, &oid, size)
            .await
            .is_some()
    );
    let r = api.commit_lfs(&hub.alice, repo, "w.bin", &oid, size).await;
    assert_eq!(r.status(), StatusCode::OK);

    // Committed to a public repo, a blob is readable and may be attached (as before); a
    // private repo's blob may not.
    let private = "acme/lfs-private";
    api.create(&hub.alice, private, true).await;
    let secret = noise(5000, 99);
    let secret_oid = sha256_hex(&secret);
    api.upload(&hub.alice, private, &secret).await;
    let r = api
        .commit_lfs(&hub.alice, private, "s.bin", &secret_oid, 5000)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        api.upload_href(&hub.carol, theirs, &secret_oid, 5000)
            .await
            .is_some(),
        "the batch asks carol to upload a blob she cannot read: nothing leaks"
    );
    let r = api
        .commit_lfs(&hub.carol, theirs, "s.bin", &secret_oid, 5000)
        .await;
    assert_eq!(error_code(r).await.1, "MissingLfsObject");
    api.upload(&hub.carol, theirs, &secret).await;
    let r = api
        .commit_lfs(&hub.carol, theirs, "s.bin", &secret_oid, 5000)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "after her own upload");
}

/// A PUT whose connection drops half way leaves no object, and the server goes on.
pub async fn dropped_put(hub: &TestHub, stored: impl Fn() -> Vec<String>) {
    let api = Lfs::new(hub);
    let repo = "acme/lfs-dropped";
    api.create(&hub.alice, repo, false).await;
    let content = noise(20 * 1024 * 1024, 5);
    let oid = sha256_hex(&content);
    let href = api
        .upload_href(&hub.alice, repo, &oid, content.len() as u64)
        .await
        .unwrap();
    let path = href.strip_prefix(&api.url).unwrap().to_owned();
    let addr = hub.handle().addr();
    let half = content[..content.len() / 2].to_vec();
    let len = content.len();
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {len}\r\n\r\n"
        )
        .unwrap();
        s.write_all(&half).unwrap();
        s.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        drop(s);
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        !stored().contains(&oid),
        "a dropped upload leaves no object"
    );
    let r = api
        .commit_lfs(&hub.alice, repo, "w.bin", &oid, len as u64)
        .await;
    assert_eq!(error_code(r).await.1, "MissingLfsObject");
    // The ticket still works for a complete retry.
    let r = api.put(&href, content.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(stored().contains(&oid));
}

fn local_blobs(hub: &TestHub) -> impl Fn() -> Vec<String> + '_ {
    move || {
        let mut out = Vec::new();
        for d in std::fs::read_dir(hub.dir.path().join("blobs"))
            .unwrap()
            .flatten()
        {
            for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                out.push(f.file_name().to_string_lossy().into_owned());
            }
        }
        out
    }
}

#[tokio::test]
async fn lfs_upload_verify_commit_and_download() {
    let hub = TestHub::start();
    upload_flow(&hub, local_blobs(&hub)).await;
}

#[tokio::test]
async fn lfs_hostile_inputs_are_refused_and_store_nothing() {
    let hub = TestHub::start();
    hostile_inputs(&hub, local_blobs(&hub)).await;
}

#[tokio::test]
async fn lfs_dropped_put_leaves_no_object() {
    let hub = TestHub::start();
    dropped_put(&hub, local_blobs(&hub)).await;
    let tmp = std::fs::read_dir(hub.dir.path().join("tmp"))
        .unwrap()
        .count();
    assert_eq!(tmp, 0, "no staging file left");
}

#[tokio::test]
async fn lfs_expired_tickets_are_refused() {
    let hub = TestHub::start_with(|c| c.upload_ticket_ttl = Duration::from_millis(50));
    let api = Lfs::new(&hub);
    let repo = "acme/lfs-expiry";
    api.create(&hub.alice, repo, false).await;
    let content = b"weights".to_vec();
    let href = api
        .upload_href(
            &hub.alice,
            repo,
            &sha256_hex(&content),
            content.len() as u64,
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (s, code) = error_code(api.put(&href, content).await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::FORBIDDEN, "InvalidUploadTicket")
    );
}

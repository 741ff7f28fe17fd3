//! `rskill-hub` over raw HTTP: bad input answered 4xx with `X-Error-Code` and a JSON
//! `error`, private-repo invisibility, token rights, atomic commits under an injected
//! failure, serialized concurrent commits, restarts, listing and pagination, resolve
//! headers and ranges, and request counters.

use std::io::{Read, Write};

use reqwest::{Method, StatusCode};
use rskill_hub::{HubError, RouteLabel};
use rskill_test_support::test_hub::{TestHub, card, ndjson, noise, sha256_hex};
use serde_json::{Value, json};

struct Api {
    http: reqwest::Client,
    url: String,
}

impl Api {
    fn new(hub: &TestHub) -> Self {
        Api {
            http: reqwest::Client::new(),
            url: hub.url(),
        }
    }

    fn request(&self, method: Method, token: Option<&str>, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r
    }

    async fn get(&self, token: Option<&str>, path: &str) -> reqwest::Response {
        self.request(Method::GET, token, path).send().await.unwrap()
    }

    async fn json(&self, token: Option<&str>, path: &str) -> Value {
        let r = self.get(token, path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.unwrap()
    }

    async fn create(&self, token: &str, org: &str, name: &str, private: bool) -> reqwest::Response {
        self.request(Method::POST, Some(token), "/api/repos/create")
            .json(
                &json!({ "name": name, "organization": org, "type": "model", "private": private }),
            )
            .send()
            .await
            .unwrap()
    }

    async fn commit(
        &self,
        token: Option<&str>,
        repo: &str,
        rev: &str,
        body: String,
    ) -> reqwest::Response {
        self.request(
            Method::POST,
            token,
            &format!("/api/models/{repo}/commit/{rev}"),
        )
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap()
    }

    async fn head_sha(&self, token: Option<&str>, repo: &str) -> String {
        self.json(token, &format!("/api/models/{repo}")).await["sha"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn files(&self, token: Option<&str>, repo: &str) -> Vec<String> {
        let info = self.json(token, &format!("/api/models/{repo}")).await;
        info["siblings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["rfilename"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Asserts an error answer: status, `X-Error-Code`, `X-Error-Message` and a JSON `error`.
async fn expect_error(r: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status, "status for {}", r.url());
    assert_eq!(
        r.headers()["x-error-code"],
        code,
        "X-Error-Code for {}",
        r.url()
    );
    assert!(r.headers().contains_key("x-error-message"));
    let body: Value = r.json().await.expect("error bodies are JSON");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    body
}

/// Sends a request line byte for byte (reqwest normalizes `..` away) and returns the
/// status and the `X-Error-Code`.
fn raw_get(url: &str, path: &str) -> (u16, String) {
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split(' ').nth(1).unwrap().parse().unwrap();
    let code = out
        .lines()
        .find_map(|l| l.strip_prefix("x-error-code: "))
        .unwrap_or("")
        .to_owned();
    (status, code)
}

#[tokio::test]
async fn bad_input_is_answered_4xx_with_an_error_code() {
    let hub = TestHub::start_with(|c| c.max_body_bytes = 1024 * 1024);
    let api = Api::new(&hub);
    let alice = Some(hub.alice.as_str());
    assert_eq!(
        api.create(&hub.alice, "acme", "r", false).await.status(),
        StatusCode::OK
    );
    api.commit(
        alice,
        "acme/r",
        "main",
        ndjson("one", None, &[("README.md", b"hi")], &[]),
    )
    .await;
    let head = api.head_sha(alice, "acme/r").await;

    // Malformed NDJSON: not JSON, no header, unknown key, header not first, two headers.
    let header = ndjson("h", None, &[], &[]);
    for body in [
        "this is not json\n".to_owned(),
        String::new(),
        format!("{header}{{\"key\":\"nonsense\",\"value\":{{}}}}\n"),
        "{\"key\":\"deletedFile\",\"value\":{\"path\":\"README.md\"}}\n".to_owned(),
        format!("{header}{header}"),
        format!("{header}{{\"key\":\"file\",\"value\":{{\"path\":\"a\"}}}}\n"),
    ] {
        expect_error(
            api.commit(alice, "acme/r", "main", body).await,
            StatusCode::BAD_REQUEST,
            "MalformedNdjson",
        )
        .await;
    }
    // Bad base64.
    for content in ["!!!!", "abc", "YQ=x"] {
        let body = format!(
            "{header}{}\n",
            json!({"key":"file","value":{"path":"x.txt","content":content,"encoding":"base64"}})
        );
        expect_error(
            api.commit(alice, "acme/r", "main", body).await,
            StatusCode::BAD_REQUEST,
            "InvalidBase64",
        )
        .await;
    }
    // Path traversal and other bad paths in a commit.
    for path in [
        "../evil",
        "/etc/passwd",
        "a/../../b",
        ".git/config",
        "sub/.git/hooks/x",
        "a\\b",
        "a\0b",
        "a//b",
        "dir/",
    ] {
        let body = ndjson("bad", None, &[(path, b"x")], &[]);
        expect_error(
            api.commit(alice, "acme/r", "main", body).await,
            StatusCode::BAD_REQUEST,
            "InvalidPath",
        )
        .await;
    }
    // Path traversal in resolve URLs, sent byte for byte.
    let url = hub.url();
    for path in [
        "/acme/r/resolve/main/../../../etc/passwd",
        "/acme/r/resolve/main/%2e%2e/%2e%2e/x",
        "/acme/r/resolve/main/a%00b",
        "/acme/r/resolve/main/a%5Cb",
        "/acme/r/resolve/main/.git/config",
        "/acme/r/resolve/main//README.md",
    ] {
        assert_eq!(
            raw_get(&url, path),
            (400, "InvalidPath".to_owned()),
            "{path}"
        );
    }
    assert_eq!(raw_get(&url, "/acme/r/resolve/main/%FF").0, 400);
    // Malformed JSON bodies.
    for (method, path, body) in [
        (Method::POST, "/api/repos/create", "{not json"),
        (Method::POST, "/api/repos/create", "[1,2]"),
        (Method::PUT, "/api/models/acme/r/settings", "{\"private\":"),
        (Method::POST, "/api/models/acme/r/tag/main", "{\"tag\": 3}"),
        (
            Method::POST,
            "/api/models/acme/r/preupload/main",
            "{\"files\": \"x\"}",
        ),
        (Method::POST, "/api/collections", "nope"),
    ] {
        let r = api
            .request(method, alice, path)
            .body(body)
            .send()
            .await
            .unwrap();
        expect_error(r, StatusCode::BAD_REQUEST, "MalformedJson").await;
    }
    // Invalid repo ids, in a create body and in URLs.
    for name in ["bad name", "a--b", "..", "-x", "x.git", "ü", ""] {
        expect_error(
            api.create(&hub.alice, "acme", name, false).await,
            StatusCode::BAD_REQUEST,
            "InvalidRepoId",
        )
        .await;
    }
    expect_error(
        api.create(&hub.alice, "api", "x", false).await,
        StatusCode::BAD_REQUEST,
        "InvalidRepoId",
    )
    .await;
    expect_error(
        api.get(alice, "/api/models/acme/b--c").await,
        StatusCode::BAD_REQUEST,
        "InvalidRepoId",
    )
    .await;
    expect_error(
        api.get(alice, "/acme/bad%20name/resolve/main/x").await,
        StatusCode::BAD_REQUEST,
        "InvalidRepoId",
    )
    .await;
    // Unknown revisions and entries.
    expect_error(
        api.get(alice, "/acme/r/resolve/nope/README.md").await,
        StatusCode::NOT_FOUND,
        "RevisionNotFound",
    )
    .await;
    expect_error(
        api.get(alice, "/api/models/acme/r/revision/nope").await,
        StatusCode::NOT_FOUND,
        "RevisionNotFound",
    )
    .await;
    expect_error(
        api.get(
            alice,
            &format!("/acme/r/resolve/{}/README.md", "0".repeat(40)),
        )
        .await,
        StatusCode::NOT_FOUND,
        "RevisionNotFound",
    )
    .await;
    expect_error(
        api.get(alice, "/api/models/acme/r/tree/nope").await,
        StatusCode::NOT_FOUND,
        "RevisionNotFound",
    )
    .await;
    expect_error(
        api.commit(alice, "acme/r", "nope", ndjson("x", None, &[], &[]))
            .await,
        StatusCode::NOT_FOUND,
        "RevisionNotFound",
    )
    .await;
    let missing = api.get(alice, "/acme/r/resolve/main/missing.txt").await;
    assert_eq!(missing.headers()["x-repo-commit"], head.as_str());
    expect_error(missing, StatusCode::NOT_FOUND, "EntryNotFound").await;
    // Oversized bodies (limit 1 MiB here).
    let big = ndjson("big", None, &[("big.bin", &noise(2 * 1024 * 1024, 1))], &[]);
    expect_error(
        api.commit(alice, "acme/r", "main", big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLarge",
    )
    .await;
    let big_json = json!({ "name": "x".repeat(2 * 1024 * 1024) }).to_string();
    let r = api
        .request(Method::POST, alice, "/api/repos/create")
        .body(big_json)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge").await;
    // Missing or bad tokens.
    expect_error(
        api.commit(None, "acme/r", "main", ndjson("x", None, &[], &[]))
            .await,
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
    )
    .await;
    expect_error(
        api.get(Some("hf_not_a_token"), "/api/models/acme/r").await,
        StatusCode::UNAUTHORIZED,
        "InvalidCredentials",
    )
    .await;
    let r = api
        .http
        .get(format!("{}/api/models", hub.url()))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::UNAUTHORIZED, "InvalidCredentials").await;
    expect_error(
        api.get(None, "/api/whoami-v2").await,
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
    )
    .await;
    // Unknown endpoints, wrong methods, bad listing parameters.
    expect_error(
        api.get(None, "/api/nothing").await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    expect_error(
        api.request(Method::DELETE, alice, "/api/models")
            .send()
            .await
            .unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
    )
    .await;
    expect_error(
        api.get(None, "/api/models?limit=abc").await,
        StatusCode::BAD_REQUEST,
        "InvalidLimit",
    )
    .await;
    expect_error(
        api.get(None, "/api/models?cursor=%%%").await,
        StatusCode::BAD_REQUEST,
        "InvalidCursor",
    )
    .await;
    expect_error(
        api.get(None, "/api/models?sort=color").await,
        StatusCode::BAD_REQUEST,
        "InvalidSort",
    )
    .await;

    // None of it changed the repo.
    assert_eq!(api.head_sha(alice, "acme/r").await, head);
    assert_eq!(api.files(alice, "acme/r").await, vec!["README.md"]);
    assert_eq!(
        std::fs::read_dir(hub.dir.path().join("tmp"))
            .unwrap()
            .count(),
        0,
        "staging area is clean"
    );
}

#[tokio::test]
async fn private_repos_are_invisible_to_non_members() {
    let hub = TestHub::start();
    let api = Api::new(&hub);
    assert_eq!(
        api.create(&hub.alice, "acme", "secret", true)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        api.create(&hub.alice, "acme", "open", false).await.status(),
        StatusCode::OK
    );
    let readme = card(&["rskill"]);
    let files = [("README.md", readme.as_slice())];
    for repo in ["acme/secret", "acme/open"] {
        let r = api
            .commit(
                Some(&hub.alice),
                repo,
                "main",
                ndjson("c", None, &files, &[]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // Anonymous and non-member callers: the private repo answers exactly like a missing one.
    for (token, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(hub.carol.as_str()), StatusCode::NOT_FOUND),
    ] {
        for repo in ["acme/secret", "acme/does-not-exist"] {
            for path in [
                format!("/api/models/{repo}"),
                format!("/api/models/{repo}/revision/main"),
                format!("/{repo}/resolve/main/README.md"),
                format!("/api/models/{repo}/tree/main"),
                format!("/api/models/{repo}/refs"),
                format!("/api/models/{repo}/commits/main"),
            ] {
                let body = expect_error(api.get(token, &path).await, status, "RepoNotFound").await;
                assert!(!body.to_string().contains("private"), "{body}");
            }
        }
        let listed: Vec<Value> = api
            .json(token, "/api/models?filter=rskill")
            .await
            .as_array()
            .unwrap()
            .clone();
        let ids: Vec<&str> = listed.iter().map(|m| m["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec!["acme/open"], "listing omits private repos");
        let r = api
            .commit(token, "acme/secret", "main", ndjson("x", None, &[], &[]))
            .await;
        expect_error(r, status, "RepoNotFound").await;
    }
    // Members see it, read-only members included.
    for token in [&hub.alice, &hub.bob] {
        let info = api.json(Some(token), "/api/models/acme/secret").await;
        assert_eq!(info["private"], true);
        let listed = api.json(Some(token), "/api/models?author=acme").await;
        assert_eq!(listed.as_array().unwrap().len(), 2);
    }
    // Making it public shows it to everyone.
    let r = api
        .request(
            Method::PUT,
            Some(&hub.alice),
            "/api/models/acme/secret/settings",
        )
        .json(&json!({ "visibility": "public" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        api.json(None, "/api/models/acme/secret").await["private"],
        false
    );
    assert_eq!(
        api.get(None, "/acme/secret/resolve/main/README.md")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn tokens_carry_user_org_and_write_rights() {
    let hub = TestHub::start();
    let api = Api::new(&hub);
    let who: Value = api.json(Some(&hub.alice), "/api/whoami-v2").await;
    assert_eq!(who["name"], "alice");
    assert_eq!(who["orgs"][0]["name"], "acme");
    assert_eq!(who["auth"]["accessToken"]["role"], "write");
    assert_eq!(
        api.json(Some(&hub.bob), "/api/whoami-v2").await["auth"]["accessToken"]["role"],
        "read"
    );

    // Creating repos.
    let anon = api
        .http
        .post(format!("{}/api/repos/create", hub.url()))
        .json(&json!({"name":"x","organization":"acme"}))
        .send()
        .await
        .unwrap();
    expect_error(anon, StatusCode::UNAUTHORIZED, "Unauthorized").await;
    expect_error(
        api.create(&hub.bob, "acme", "x", false).await,
        StatusCode::FORBIDDEN,
        "Forbidden",
    )
    .await;
    expect_error(
        api.create(&hub.carol, "acme", "x", false).await,
        StatusCode::FORBIDDEN,
        "Forbidden",
    )
    .await;
    assert_eq!(
        api.create(&hub.alice, "acme", "x", false).await.status(),
        StatusCode::OK
    );
    expect_error(
        api.create(&hub.alice, "acme", "x", false).await,
        StatusCode::CONFLICT,
        "RepoExists",
    )
    .await;
    expect_error(
        api.create(&hub.alice, "acme", "X", false).await,
        StatusCode::CONFLICT,
        "RepoExists",
    )
    .await;
    let own = api
        .request(Method::POST, Some(&hub.alice), "/api/repos/create")
        .json(&json!({ "name": "mine" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        own.status(),
        StatusCode::OK,
        "a user writes their own namespace"
    );
    assert_eq!(
        api.json(None, "/api/models/alice/mine").await["author"],
        "alice"
    );

    // Writing to a public repo of acme.
    let body = || ndjson("c", None, &[("a.txt", b"a")], &[]);
    expect_error(
        api.commit(Some(&hub.bob), "acme/x", "main", body()).await,
        StatusCode::FORBIDDEN,
        "Forbidden",
    )
    .await;
    expect_error(
        api.commit(Some(&hub.carol), "acme/x", "main", body()).await,
        StatusCode::FORBIDDEN,
        "Forbidden",
    )
    .await;
    assert_eq!(
        api.commit(Some(&hub.alice), "acme/x", "main", body())
            .await
            .status(),
        StatusCode::OK
    );
    for (method, path, payload) in [
        (
            Method::POST,
            "/api/models/acme/x/tag/main",
            json!({"tag": "v1"}),
        ),
        (Method::POST, "/api/models/acme/x/branch/dev", json!({})),
        (
            Method::POST,
            "/api/models/acme/x/preupload/main",
            json!({"files": [{"path": "a.txt", "size": 1, "sample": ""}]}),
        ),
        // Last: it makes the repo private.
        (
            Method::PUT,
            "/api/models/acme/x/settings",
            json!({"private": true}),
        ),
    ] {
        for token in [&hub.bob, &hub.carol] {
            let r = api
                .request(method.clone(), Some(token), path)
                .json(&payload)
                .send()
                .await
                .unwrap();
            expect_error(r, StatusCode::FORBIDDEN, "Forbidden").await;
        }
        let r = api
            .request(method.clone(), None, path)
            .json(&payload)
            .send()
            .await
            .unwrap();
        expect_error(r, StatusCode::UNAUTHORIZED, "Unauthorized").await;
        let r = api
            .request(method, Some(&hub.alice), path)
            .json(&payload)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    // Collections: writing needs rights on the namespace.
    let c = json!({ "title": "Skills", "namespace": "acme" });
    expect_error(
        api.http
            .post(format!("{}/api/collections", hub.url()))
            .json(&c)
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
    )
    .await;
    let r = api
        .request(Method::POST, Some(&hub.carol), "/api/collections")
        .json(&c)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::FORBIDDEN, "Forbidden").await;
    let r = api
        .request(Method::POST, Some(&hub.alice), "/api/collections")
        .json(&c)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let slug = r.json::<Value>().await.unwrap()["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let dup = api
        .request(Method::POST, Some(&hub.alice), "/api/collections")
        .json(&c)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_error(dup, StatusCode::CONFLICT, "CollectionExists").await["slug"],
        slug.as_str()
    );
    let item = json!({ "item": { "id": "acme/x", "type": "model" }, "note": "n" });
    let r = api
        .request(
            Method::POST,
            Some(&hub.bob),
            &format!("/api/collections/{slug}/items"),
        )
        .json(&item)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::FORBIDDEN, "Forbidden").await;
    let missing = json!({ "item": { "id": "acme/nope", "type": "model" } });
    let r = api
        .request(
            Method::POST,
            Some(&hub.alice),
            &format!("/api/collections/{slug}/items"),
        )
        .json(&missing)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND, "RepoNotFound").await;
}

#[tokio::test]
async fn a_failed_commit_leaves_nothing_behind() {
    let mut hub = TestHub::start_with(|c| c.fail_blob_write_at = Some(2));
    let api = Api::new(&hub);
    let alice = Some(hub.alice.as_str());
    api.create(&hub.alice, "acme", "atomic", false).await;
    let ok = api
        .commit(
            alice,
            "acme/atomic",
            "main",
            ndjson("first", None, &[("keep.txt", b"keep")], &[]),
        )
        .await;
    assert_eq!(
        ok.status(),
        StatusCode::OK,
        "one new blob: the injected failure is not reached"
    );
    let head = api.head_sha(alice, "acme/atomic").await;

    let contents: Vec<Vec<u8>> = (0..3).map(|i| noise(100_000, 100 + i)).collect();
    let files: Vec<(&str, &[u8])> = vec![
        ("w/a.bin", &contents[0]),
        ("w/b.bin", &contents[1]),
        ("w/c.bin", &contents[2]),
    ];
    let r = api
        .commit(
            alice,
            "acme/atomic",
            "main",
            ndjson("three", None, &files, &["keep.txt"]),
        )
        .await;
    expect_error(r, StatusCode::INTERNAL_SERVER_ERROR, "StorageError").await;

    assert_eq!(
        api.head_sha(alice, "acme/atomic").await,
        head,
        "the branch did not move"
    );
    assert_eq!(api.files(alice, "acme/atomic").await, vec!["keep.txt"]);
    for c in &contents {
        let h = sha256_hex(c);
        assert!(
            !hub.dir.path().join("blobs").join(&h[..2]).join(&h).exists(),
            "no blob of the failed commit remains"
        );
    }
    let commits = std::fs::read_dir(hub.dir.path().join("repos/models/acme/atomic/commits"))
        .unwrap()
        .count();
    assert_eq!(
        commits, 2,
        "initial + first: no record of the failed commit"
    );
    assert_eq!(
        std::fs::read_dir(hub.dir.path().join("tmp"))
            .unwrap()
            .count(),
        0
    );

    // Without the injection the same commit lands whole.
    hub.restart_with(|_| {});
    let api = Api::new(&hub);
    let r = api
        .commit(
            Some(&hub.alice),
            "acme/atomic",
            "main",
            ndjson("three", None, &files, &["keep.txt"]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        api.files(Some(&hub.alice), "acme/atomic").await,
        vec!["w/a.bin", "w/b.bin", "w/c.bin"]
    );
}

#[tokio::test]
async fn concurrent_commits_are_serialized() {
    let hub = TestHub::start();
    let api = std::sync::Arc::new(Api::new(&hub));
    api.create(&hub.alice, "acme", "busy", false).await;
    let base = api.head_sha(Some(&hub.alice), "acme/busy").await;

    // Eight commits at once without a parent: all land, one after the other.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (api, token) = (api.clone(), hub.alice.clone());
        tasks.push(tokio::spawn(async move {
            let body = ndjson(
                &format!("c{i}"),
                None,
                &[(&format!("f{i}.txt"), format!("{i}").as_bytes())],
                &[],
            );
            api.commit(Some(&token), "acme/busy", "main", body)
                .await
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let files = api.files(Some(&hub.alice), "acme/busy").await;
    assert_eq!(files.len(), 8);
    let history: Vec<Value> = api
        .json(Some(&hub.alice), "/api/models/acme/busy/commits/main")
        .await
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(history.len(), 9);
    for pair in history.windows(2) {
        assert_eq!(pair[0]["parents"][0], pair[1]["id"], "a linear history");
    }

    // Eight commits at once from the same parent: exactly one wins, the others get 412.
    let head = api.head_sha(Some(&hub.alice), "acme/busy").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (api, token, parent) = (api.clone(), hub.alice.clone(), head.clone());
        tasks.push(tokio::spawn(async move {
            let body = ndjson(
                "race",
                Some(&parent),
                &[("race.txt", format!("{i}").as_bytes())],
                &[],
            );
            let r = api.commit(Some(&token), "acme/busy", "main", body).await;
            (
                r.status(),
                r.headers()
                    .get("x-error-code")
                    .map(|v| v.to_str().unwrap().to_owned()),
            )
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            (StatusCode::OK, _) => won += 1,
            (status, code) => {
                assert_eq!(status, StatusCode::PRECONDITION_FAILED);
                assert_eq!(code.as_deref(), Some("ParentCommitMismatch"));
            }
        }
    }
    assert_eq!(won, 1);
    let stale = api
        .commit(
            Some(&hub.alice),
            "acme/busy",
            "main",
            ndjson("late", Some(&base[..7]), &[], &[]),
        )
        .await;
    expect_error(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "ParentCommitMismatch",
    )
    .await;
}

#[tokio::test]
async fn state_survives_a_restart() {
    let mut hub = TestHub::start();
    let (alice, bob) = (hub.alice.clone(), hub.bob.clone());
    let api = Api::new(&hub);
    api.create(&alice, "acme", "kept", true).await;
    let weights = noise(3 * 1024 * 1024, 7);
    let body = ndjson(
        "w",
        None,
        &[
            ("README.md", &card(&["kind:vla", "rskill"])),
            ("model.safetensors", &weights),
        ],
        &[],
    );
    assert_eq!(
        api.commit(Some(&alice), "acme/kept", "main", body)
            .await
            .status(),
        StatusCode::OK
    );
    api.request(Method::POST, Some(&alice), "/api/models/acme/kept/tag/main")
        .json(&json!({"tag":"v1"}))
        .send()
        .await
        .unwrap();
    let slug = api
        .request(Method::POST, Some(&alice), "/api/collections")
        .json(&json!({"title":"Kept","namespace":"acme","private":true}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = api.json(Some(&alice), "/api/models/acme/kept").await;

    hub.restart_with(|_| {});
    let api = Api::new(&hub);
    let after = api.json(Some(&bob), "/api/models/acme/kept").await;
    for key in [
        "sha",
        "private",
        "tags",
        "siblings",
        "cardData",
        "createdAt",
        "lastModified",
    ] {
        assert_eq!(before[key], after[key], "{key}");
    }
    let refs = api.json(Some(&bob), "/api/models/acme/kept/refs").await;
    assert_eq!(refs["tags"][0]["name"], "v1");
    let bytes = api
        .get(Some(&bob), "/acme/kept/resolve/v1/model.safetensors")
        .await
        .bytes()
        .await
        .unwrap();
    assert!(bytes[..] == weights[..]);
    assert_eq!(
        api.json(Some(&bob), &format!("/api/collections/{slug}"))
            .await["title"],
        "Kept"
    );
    expect_error(
        api.get(None, &format!("/api/collections/{slug}")).await,
        StatusCode::NOT_FOUND,
        "CollectionNotFound",
    )
    .await;
    let listed = api
        .json(Some(&bob), "/api/models?filter=kind:vla&filter=rskill")
        .await;
    assert_eq!(listed[0]["id"], "acme/kept");

    // One server per data directory.
    let second = rskill_hub::spawn(rskill_hub::Config::new(hub.dir.path()));
    assert!(matches!(second, Err(HubError::DataDirLocked { .. })));
}

#[tokio::test]
async fn listing_filters_sorts_and_pages_with_absolute_links() {
    let hub = TestHub::start();
    let api = Api::new(&hub);
    let alice = Some(hub.alice.as_str());
    for i in 0..25 {
        let name = format!("Skill-{i:02}");
        api.create(
            &hub.alice,
            if i % 5 == 0 { "alice" } else { "acme" },
            &name,
            false,
        )
        .await;
        let mut tags = vec!["rskill"];
        if i % 2 == 0 {
            tags.push("embodiment:franka_panda");
        }
        if i % 3 == 0 {
            tags.push("kind:vla");
        }
        let owner = if i % 5 == 0 { "alice" } else { "acme" };
        let body = ndjson(
            "c",
            None,
            &[("README.md", &card(&tags)), ("rskill.yaml", b"name: x\n")],
            &[],
        );
        assert_eq!(
            api.commit(alice, &format!("{owner}/{name}"), "main", body)
                .await
                .status(),
            StatusCode::OK
        );
    }
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };

    // Filters are ANDed over the card's tags.
    let both = api
        .json(
            None,
            "/api/models?filter=embodiment:franka_panda&filter=kind:vla",
        )
        .await;
    let mut got = ids(&both);
    got.sort();
    assert_eq!(
        got,
        vec![
            "acme/Skill-06",
            "acme/Skill-12",
            "acme/Skill-18",
            "acme/Skill-24",
            "alice/Skill-00"
        ]
    );
    assert_eq!(
        ids(&api.json(None, "/api/models?author=alice").await).len(),
        5
    );
    assert_eq!(
        ids(&api.json(None, "/api/models?search=skill-1").await).len(),
        10,
        "search is a case-insensitive substring"
    );
    assert_eq!(
        ids(&api
            .json(None, "/api/models?search=SKILL-2&author=acme")
            .await),
        vec![
            "acme/Skill-21",
            "acme/Skill-22",
            "acme/Skill-23",
            "acme/Skill-24"
        ]
    );

    // Sorting.
    let by_id = ids(&api.json(None, "/api/models?sort=id").await);
    let mut sorted = by_id.clone();
    sorted.sort_by_key(|s| s.to_lowercase());
    assert_eq!(by_id, sorted);
    let recent = ids(&api
        .json(None, "/api/models?sort=lastModified&direction=-1&limit=3")
        .await);
    assert_eq!(
        recent,
        vec!["acme/Skill-24", "acme/Skill-23", "acme/Skill-22"]
    );
    let oldest = ids(&api
        .json(None, "/api/models?sort=createdAt&direction=1&limit=2")
        .await);
    assert_eq!(oldest, vec!["alice/Skill-00", "acme/Skill-01"]);

    // Pages of 10 through absolute Link headers, one request per page.
    let before = hub.handle().requests();
    let mut next = Some(format!(
        "{}/api/models?filter=rskill&limit=10&sort=lastModified",
        hub.url()
    ));
    let mut seen = Vec::new();
    while let Some(url) = next.take() {
        let r = api.http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        next = r.headers().get("link").map(|l| {
            let l = l.to_str().unwrap();
            assert!(l.ends_with("rel=\"next\""), "{l}");
            let target = &l[l.find('<').unwrap() + 1..l.find('>').unwrap()];
            assert!(target.starts_with(&hub.url()), "absolute: {target}");
            assert!(target.contains("limit=10") && target.contains("cursor="));
            target.to_owned()
        });
        seen.extend(ids(&r.json().await.unwrap()));
    }
    let delta = hub.handle().requests().since(&before);
    assert_eq!(
        (delta.total, delta.get("list")),
        (3, 3),
        "one request per page"
    );
    assert_eq!(seen.len(), 25);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), 25);

    // Fields: always the basics; siblings and cardData when asked; expand selects.
    let plain = &api.json(None, "/api/models?search=skill-03").await[0];
    for key in [
        "_id",
        "id",
        "modelId",
        "author",
        "sha",
        "private",
        "tags",
        "lastModified",
        "createdAt",
    ] {
        assert!(plain.get(key).is_some(), "{key} in {plain}");
    }
    assert!(plain.get("siblings").is_none() && plain.get("cardData").is_none());
    let full = &api
        .json(None, "/api/models?search=skill-03&full=true")
        .await[0];
    assert_eq!(
        full["siblings"],
        json!([{ "rfilename": "README.md" }, { "rfilename": "rskill.yaml" }])
    );
    assert_eq!(full["cardData"]["license"], "mit");
    let card_only = &api
        .json(None, "/api/models?search=skill-03&cardData=true")
        .await[0];
    assert!(card_only.get("cardData").is_some() && card_only.get("siblings").is_none());
    let expanded = &api
        .json(
            None,
            "/api/models?search=skill-03&expand[]=tags&expand[]=sha",
        )
        .await[0];
    let keys: Vec<&String> = expanded.as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["_id", "id", "sha", "tags"]);
}

#[tokio::test]
async fn resolve_serves_headers_ranges_and_revisions() {
    let hub = TestHub::start();
    let api = Api::new(&hub);
    let alice = Some(hub.alice.as_str());
    api.create(&hub.alice, "acme", "files", false).await;
    let weights = noise(2 * 1024 * 1024 + 3, 9);
    let text = b"0123456789".to_vec();
    let body = ndjson(
        "c",
        None,
        &[("model.safetensors", &weights), ("notes.txt", &text)],
        &[],
    );
    let first: Value = api
        .commit(alice, "acme/files", "main", body)
        .await
        .json()
        .await
        .unwrap();
    let first = first["commitOid"].as_str().unwrap().to_owned();
    assert_eq!(first.len(), 40);

    // HEAD: the same headers as GET, no body.
    let head = api
        .request(
            Method::HEAD,
            None,
            "/acme/files/resolve/main/model.safetensors",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let h = head.headers();
    let sha = sha256_hex(&weights);
    assert_eq!(h["x-repo-commit"], first.as_str());
    assert_eq!(
        h["etag"],
        format!("\"{sha}\"").as_str(),
        "LFS files carry their SHA-256"
    );
    assert_eq!(h["x-linked-etag"], format!("\"{sha}\"").as_str());
    assert_eq!(h["x-linked-size"], weights.len().to_string().as_str());
    assert_eq!(h["content-length"], weights.len().to_string().as_str());
    assert_eq!(h["accept-ranges"], "bytes");
    assert!(head.bytes().await.unwrap().is_empty());
    let small = api
        .request(Method::HEAD, None, "/acme/files/resolve/main/notes.txt")
        .send()
        .await
        .unwrap();
    let git_id = rskill_hub::objects::git_blob_id(&text);
    assert_eq!(
        small.headers()["etag"],
        format!("\"{git_id}\"").as_str(),
        "small files carry their git blob id"
    );
    assert!(small.headers().get("x-linked-etag").is_none());

    // Ranges.
    let part = api
        .request(Method::GET, None, "/acme/files/resolve/main/notes.txt")
        .header("range", "bytes=2-5")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-range"], "bytes 2-5/10");
    assert_eq!(&part.bytes().await.unwrap()[..], b"2345");
    let tail = api
        .request(
            Method::GET,
            None,
            "/acme/files/resolve/main/model.safetensors",
        )
        .header("range", "bytes=2097152-")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(&tail.bytes().await.unwrap()[..], &weights[2097152..]);
    let suffix = api
        .request(Method::GET, None, "/acme/files/resolve/main/notes.txt")
        .header("range", "bytes=-3")
        .send()
        .await
        .unwrap();
    assert_eq!(&suffix.bytes().await.unwrap()[..], b"789");
    let beyond = api
        .request(Method::GET, None, "/acme/files/resolve/main/notes.txt")
        .header("range", "bytes=10-")
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.headers()["content-range"], "bytes */10");
    expect_error(
        beyond,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "RangeNotSatisfiable",
    )
    .await;
    let cached = api
        .request(Method::GET, None, "/acme/files/resolve/main/notes.txt")
        .header("if-none-match", format!("\"{git_id}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    // Branch, tag and commit id all resolve; an old commit keeps its content.
    api.request(Method::POST, alice, "/api/models/acme/files/tag/main")
        .json(&json!({"tag": "v1"}))
        .send()
        .await
        .unwrap();
    api.commit(
        alice,
        "acme/files",
        "main",
        ndjson("c2", None, &[("notes.txt", b"changed")], &[]),
    )
    .await;
    for rev in ["v1", first.as_str(), "refs%2Ftags%2Fv1"] {
        let r = api
            .get(None, &format!("/acme/files/resolve/{rev}/notes.txt"))
            .await;
        assert_eq!(r.headers()["x-repo-commit"], first.as_str());
        assert_eq!(&r.bytes().await.unwrap()[..], &text[..], "{rev}");
    }
    assert_eq!(
        &api.get(None, "/acme/files/resolve/main/notes.txt")
            .await
            .bytes()
            .await
            .unwrap()[..],
        b"changed"
    );

    // Identical content in two repos is stored once.
    api.create(&hub.alice, "acme", "copy", false).await;
    api.commit(
        alice,
        "acme/copy",
        "main",
        ndjson("c", None, &[("other-name.safetensors", &weights)], &[]),
    )
    .await;
    let blob_dir = hub.dir.path().join("blobs").join(&sha[..2]);
    assert_eq!(
        std::fs::read_dir(&blob_dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name() == sha.as_str())
            .count(),
        1
    );
    let copy_info = api.json(None, "/api/models/acme/copy").await;
    assert_eq!(copy_info["siblings"][0]["lfs"]["sha256"], sha.as_str());
    assert_eq!(copy_info["siblings"][0]["size"], weights.len());

    // Datasets are served the same way under their prefix.
    let r = api
        .request(Method::POST, alice, "/api/repos/create")
        .json(&json!({"name":"data","organization":"acme","type":"dataset"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["url"],
        format!("{}/datasets/acme/data", hub.url())
    );
    let r = api
        .request(Method::POST, alice, "/api/datasets/acme/data/commit/main")
        .body(ndjson("d", None, &[("train.csv", b"a,b\n1,2\n")], &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        &api.get(None, "/datasets/acme/data/resolve/main/train.csv")
            .await
            .bytes()
            .await
            .unwrap()[..],
        b"a,b\n1,2\n"
    );
    assert_eq!(api.json(None, "/api/datasets").await[0]["id"], "acme/data");
}

#[tokio::test]
async fn counters_count_every_request_by_route() {
    let hub = TestHub::start();
    let api = Api::new(&hub);
    api.create(&hub.alice, "acme", "c", false).await;
    let h = hub.handle();
    h.reset_counts();
    api.get(None, "/api/models").await;
    api.get(None, "/api/models/acme/c").await;
    api.get(None, "/acme/c/resolve/main/missing").await;
    api.request(Method::HEAD, None, "/acme/c/resolve/main/missing")
        .send()
        .await
        .unwrap();
    api.get(None, "/no/such/thing").await;
    let counts = h.requests();
    assert_eq!(counts.total, 5);
    assert_eq!(h.request_count(), 5);
    assert_eq!(
        (
            counts.get("list"),
            counts.get("info"),
            counts.get("resolve"),
            counts.get("unknown")
        ),
        (1, 1, 2, 1)
    );
    assert_eq!(h.route_count(RouteLabel::Resolve), 2);
    assert_eq!(h.route_count(RouteLabel::Commit), 0);
}

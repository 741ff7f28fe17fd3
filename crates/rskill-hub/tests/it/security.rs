//! `rskill-hub` against hostile clients: blobs of other tenants named in `lfsFile` lines,
//! collections holding private repos, namespaces differing only in case, bodies sent
//! before (or instead of) credentials, the in-flight body budget, slow and idle sockets,
//! `TCP_NODELAY` on accepted sockets, and the manage right over the governance file.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use rskill_hub::{self, AcceptHook};
use rskill_test_support::test_hub::{TestHub, ndjson, sha256_hex};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn create(hub: &TestHub, token: &str, org: &str, name: &str, private: bool) -> StatusCode {
    http()
        .post(format!("{}/api/repos/create", hub.url()))
        .bearer_auth(token)
        .json(&json!({ "name": name, "organization": org, "type": "model", "private": private }))
        .send()
        .await
        .unwrap()
        .status()
}

async fn commit(hub: &TestHub, token: &str, repo: &str, body: String) -> reqwest::Response {
    http()
        .post(format!("{}/api/models/{repo}/commit/main", hub.url()))
        .bearer_auth(token)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn lfs_commit(path: &str, oid: &str, size: u64) -> String {
    let header = json!({ "key": "header", "value": { "summary": "attach" } });
    let line = json!({
        "key": "lfsFile",
        "value": { "path": path, "algo": "sha256", "oid": oid, "size": size }
    });
    format!("{header}\n{line}\n")
}

/// Status, `X-Error-Code` and the `error` message with `oid` replaced by `OID`.
async fn answer(r: reqwest::Response, oid: &str) -> (StatusCode, String, String) {
    let status = r.status();
    let code = r
        .headers()
        .get("x-error-code")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let message = body["error"]
        .as_str()
        .unwrap_or_default()
        .replace(oid, "OID");
    (status, code, message)
}

#[tokio::test]
async fn lfs_lines_attach_only_blobs_the_committer_can_read() {
    let hub = TestHub::start();
    let secret = b"the private weights of acme".to_vec();
    let oid = sha256_hex(&secret);
    assert_eq!(
        create(&hub, &hub.alice, "acme", "vault", true).await,
        StatusCode::OK
    );
    let r = commit(
        &hub,
        &hub.alice,
        "acme/vault",
        ndjson("add", None, &[("w.bin", &secret)], &[]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);

    // carol (org `other`) names the private blob in her own public repo.
    assert_eq!(
        create(&hub, &hub.carol, "other", "loot", false).await,
        StatusCode::OK
    );
    let stolen = commit(
        &hub,
        &hub.carol,
        "other/loot",
        lfs_commit("w.bin", &oid, secret.len() as u64),
    )
    .await;
    let stolen = answer(stolen, &oid).await;
    let unknown_oid = sha256_hex(b"never uploaded anywhere");
    let unknown = commit(
        &hub,
        &hub.carol,
        "other/loot",
        lfs_commit("w.bin", &unknown_oid, secret.len() as u64),
    )
    .await;
    let unknown = answer(unknown, &unknown_oid).await;
    assert_ne!(
        stolen.0,
        StatusCode::OK,
        "a foreign private blob was attached"
    );
    assert_eq!(stolen, unknown, "known and unknown oids must answer alike");
    // Without a size, too.
    let header = json!({ "key": "header", "value": { "summary": "attach" } });
    let no_size = |o: &str| {
        format!(
            "{header}\n{}\n",
            json!({ "key": "lfsFile", "value": { "path": "x.bin", "oid": o } })
        )
    };
    let a = answer(
        commit(&hub, &hub.carol, "other/loot", no_size(&oid)).await,
        &oid,
    )
    .await;
    let b = answer(
        commit(&hub, &hub.carol, "other/loot", no_size(&unknown_oid)).await,
        &unknown_oid,
    )
    .await;
    assert_eq!(a, b);
    let anon = http()
        .get(format!("{}/other/loot/resolve/main/w.bin", hub.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), StatusCode::NOT_FOUND);

    // A member of acme may reuse the blob in another acme repo (it can read it).
    assert_eq!(
        create(&hub, &hub.alice, "acme", "copy", false).await,
        StatusCode::OK
    );
    let r = commit(
        &hub,
        &hub.alice,
        "acme/copy",
        lfs_commit("w.bin", &oid, secret.len() as u64),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // Once acme/copy is public and references it, anyone writing may attach it too.
    let r = commit(
        &hub,
        &hub.carol,
        "other/loot",
        lfs_commit("w.bin", &oid, secret.len() as u64),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn collection_items(hub: &TestHub, token: Option<&str>, slug: &str) -> Vec<String> {
    let mut r = http().get(format!("{}/api/collections/{slug}", hub.url()));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let v: Value = r.send().await.unwrap().json().await.unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn collections_show_only_items_the_caller_may_read() {
    let hub = TestHub::start();
    for (name, private) in [("pub", false), ("priv", true), ("later", false)] {
        assert_eq!(
            create(&hub, &hub.alice, "acme", name, private).await,
            StatusCode::OK
        );
    }
    let c: Value = http()
        .post(format!("{}/api/collections", hub.url()))
        .bearer_auth(&hub.alice)
        .json(&json!({ "title": "Showcase", "namespace": "acme" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slug = c["slug"].as_str().unwrap().to_owned();
    for id in ["acme/pub", "acme/priv", "acme/later"] {
        let r = http()
            .post(format!("{}/api/collections/{slug}/items", hub.url()))
            .bearer_auth(&hub.alice)
            .json(
                &json!({ "item": { "id": id, "type": "model" }, "note": format!("note on {id}") }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = http()
        .put(format!("{}/api/models/acme/later/settings", hub.url()))
        .bearer_auth(&hub.alice)
        .json(&json!({ "private": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    assert_eq!(
        collection_items(&hub, Some(&hub.alice), &slug).await,
        ["acme/pub", "acme/priv", "acme/later"]
    );
    assert_eq!(collection_items(&hub, None, &slug).await, ["acme/pub"]);
    assert_eq!(
        collection_items(&hub, Some(&hub.carol), &slug).await,
        ["acme/pub"]
    );
    let listed: Value = http()
        .get(format!("{}/api/collections?owner=acme", hub.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = listed.to_string();
    assert!(text.contains("acme/pub"));
    for hidden in ["acme/priv", "acme/later", "note on acme/priv"] {
        assert!(!text.contains(hidden), "{hidden} leaked: {text}");
    }
}

#[tokio::test]
async fn namespaces_and_repo_names_are_unique_case_insensitively() {
    let hub = TestHub::start();
    // `token create` refuses names colliding with existing users or orgs.
    for (user, orgs) in [
        ("ACME", vec![]),
        ("mallory", vec!["Acme".to_owned()]),
        ("Alice", vec![]),
    ] {
        let e = rskill_hub::tokens::create(hub.dir.path(), user, &orgs, true)
            .expect_err("a colliding account name is refused");
        assert!(
            e.to_string().contains("acme") || e.to_string().contains("alice"),
            "{e}"
        );
    }
    // A data dir from before the rule may still hold a colliding org: its members get
    // the same answer whether or not a repo exists under the other spelling.
    let mallory = "hf_malloryMALLORYmallory0123456789ab";
    let path = hub.dir.path().join("tokens.json");
    let mut file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    file["tokens"].as_array_mut().unwrap().push(json!({
        "sha256": sha256_hex(mallory.as_bytes()),
        "user": "mallory",
        "orgs": ["ACME"],
        "write": true,
        "createdAt": "2024-01-01T00:00:00.000Z",
    }));
    std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();

    assert_eq!(
        create(&hub, &hub.alice, "acme", "secret-model", true).await,
        StatusCode::OK
    );
    let answer_for = |name: &'static str| {
        let url = hub.url();
        async move {
            let r = http()
                .post(format!("{url}/api/repos/create"))
                .bearer_auth(mallory)
                .json(&json!({ "name": name, "organization": "ACME", "type": "model" }))
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            (
                status,
                body["error"].as_str().unwrap_or("").replace(name, "NAME"),
            )
        }
    };
    let taken = answer_for("secret-model").await;
    let free = answer_for("nosuch-model").await;
    assert_eq!(taken, free, "creation must not reveal private repo names");
    assert_ne!(free.0, StatusCode::OK, "ACME is acme's namespace");
    // Same namespace, other case: one repo.
    assert_eq!(
        create(&hub, &hub.alice, "acme", "Secret-Model", false).await,
        StatusCode::CONFLICT
    );
}

/// Sends `head` (and `body_part`) on a fresh socket and reads the answer's status line,
/// without sending the rest of the declared body.
async fn early_status(addr: std::net::SocketAddr, head: &str, body_part: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body_part).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("answered before the body was sent")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn bodies_are_refused_before_they_are_read() {
    let hub = TestHub::start();
    let addr = hub.handle().addr();
    let big = 150 * 1024 * 1024;
    // Anonymous: capped small, refused by Content-Length at once.
    let head = format!(
        "POST /api/validate-yaml HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: {big}\r\n\r\n"
    );
    assert!(early_status(addr, &head, b"a: b\n").await.contains(" 413 "));
    // A route that needs a token answers 401 without waiting for the body.
    let head = "POST /api/repos/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    assert!(early_status(addr, head, b"{\"na").await.contains(" 401 "));
    // A read-only token is refused before its body, too.
    let head = format!(
        "POST /api/repos/create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 1000\r\n\r\n",
        hub.bob
    );
    assert!(early_status(addr, &head, b"{\"na").await.contains(" 403 "));
    let head = format!(
        "POST /api/models/acme/none/commit/main HTTP/1.1\r\nHost: x\r\nContent-Length: {big}\r\n\r\n"
    );
    assert!(early_status(addr, &head, b"{").await.contains(" 401 "));
    // Chunked anonymous bodies stop at the cap.
    let r = http()
        .post(format!("{}/api/validate-yaml", hub.url()))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            (0..64).map(|_| Ok::<_, std::io::Error>(vec![b'#'; 4096])),
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Small anonymous bodies still work.
    let r = http()
        .post(format!("{}/api/validate-yaml", hub.url()))
        .body("a: b\n")
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn in_flight_body_bytes_are_bounded() {
    let hub = TestHub::start_with(|c| {
        c.max_body_bytes = 8 * 1024 * 1024;
        c.max_inflight_body_bytes = 1024 * 1024;
    });
    let addr = hub.handle().addr();
    assert_eq!(
        create(&hub, &hub.alice, "acme", "m", false).await,
        StatusCode::OK
    );
    // Larger than the whole budget: it could never be read.
    let head = format!(
        "POST /api/models/acme/m/commit/main HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        hub.alice,
        2 * 1024 * 1024
    );
    assert!(early_status(addr, &head, b"{").await.contains(" 413 "));
    // One request holds most of the budget while it trickles in...
    let mut holder = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/models/acme/m/commit/main HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        hub.alice,
        800 * 1024
    );
    holder.write_all(head.as_bytes()).await.unwrap();
    holder.write_all(b"{\"key\":").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ...so another that does not fit is refused at once instead of piling up.
    let head = format!(
        "POST /api/models/acme/m/commit/main HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        hub.alice,
        400 * 1024
    );
    assert!(early_status(addr, &head, b"{").await.contains(" 503 "));
    drop(holder);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = commit(
        &hub,
        &hub.alice,
        "acme/m",
        ndjson("ok", None, &[("a.txt", b"a")], &[]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// Whether the server closes the socket within `within` (EOF or reset).
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = vec![0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn slow_headers_and_idle_sockets_are_timed_out() {
    let hub = TestHub::start_with(|c| {
        c.header_read_timeout = Duration::from_millis(500);
        c.idle_timeout = Duration::from_millis(1500);
    });
    let addr = hub.handle().addr();
    // Slow-loris: half a header, then nothing.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /api/models HTTP/1.1\r\nHo")
        .await
        .unwrap();
    // A socket that never says anything.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    // A body that stalls after the headers.
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/models/acme/x/commit/main HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 100\r\n\r\n{{",
        hub.alice
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    assert!(closed_within(&mut slow, Duration::from_secs(5)).await);
    assert!(closed_within(&mut silent, Duration::from_secs(5)).await);
    assert!(closed_within(&mut stalled, Duration::from_secs(6)).await);
    // Many idle sockets do not starve a new request.
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    let r = tokio::time::timeout(
        Duration::from_secs(5),
        http().get(format!("{}/api/models", hub.url())).send(),
    )
    .await
    .expect("served despite idle sockets")
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn accepted_sockets_have_nodelay() {
    let seen: Arc<Mutex<Vec<bool>>> = Arc::default();
    let record = seen.clone();
    let hub = TestHub::start_with(move |c| {
        c.on_accept = Some(AcceptHook::new(move |s| {
            record.lock().unwrap().push(s.nodelay().unwrap());
        }));
    });
    let client = http();
    for _ in 0..3 {
        let r = client
            .get(format!("{}/api/models", hub.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|n| *n),
        "TCP_NODELAY off on an accepted socket: {seen:?}"
    );
}

/// The hook sees the option as the server sets it: with the benchmark-only switch off,
/// accepted sockets keep Nagle on (so the test above would catch its return).
#[tokio::test]
async fn nodelay_switch_off_leaves_nagle_on() {
    let seen: Arc<Mutex<Vec<bool>>> = Arc::default();
    let record = seen.clone();
    let hub = TestHub::start_with(move |c| {
        c.nodelay = false;
        c.on_accept = Some(AcceptHook::new(move |s| {
            record.lock().unwrap().push(s.nodelay().unwrap());
        }));
    });
    let r = http()
        .get(format!("{}/api/models", hub.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty() && seen.iter().all(|n| !*n), "{seen:?}");
}

#[tokio::test]
async fn the_governance_file_needs_the_manage_right() {
    let hub = TestHub::start();
    let manager = rskill_hub::tokens::create_with(
        hub.dir.path(),
        "maria",
        &["acme".into()],
        rskill_hub::tokens::Rights {
            write: false,
            manage: true,
        },
    )
    .unwrap();
    assert_eq!(
        create(&hub, &hub.alice, "acme", "gov", false).await,
        StatusCode::OK
    );
    let file = rskill_hub_protocol::REGISTRY_FILE;
    let head = |hub: &TestHub| {
        let url = format!("{}/api/models/acme/gov", hub.url());
        async move {
            let v: Value = http().get(url).send().await.unwrap().json().await.unwrap();
            v["sha"].as_str().unwrap().to_owned()
        }
    };
    // A plain write token may commit anything else, not the governance file: adding,
    // deleting or deleting its folder (the root) are all refused, atomically.
    let r = commit(
        &hub,
        &hub.alice,
        "acme/gov",
        ndjson("card", None, &[("README.md", b"# x")], &[]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let before = head(&hub).await;
    let with_file = ndjson("set", None, &[("README.md", b"# y"), (file, b"{}")], &[]);
    let (status, code, message) = answer(
        commit(&hub, &hub.alice, "acme/gov", with_file.clone()).await,
        "no-oid",
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "ManageRightRequired")
    );
    assert!(
        message.contains("--manage") && message.contains("alice"),
        "{message}"
    );
    assert_eq!(
        head(&hub).await,
        before,
        "nothing of the refused commit landed"
    );
    // The manage token (which implies write) may.
    let r = commit(&hub, &manager, "acme/gov", with_file).await;
    assert_eq!(r.status(), StatusCode::OK);
    let after = head(&hub).await;
    let delete = ndjson("drop", None, &[], &[file]);
    let (status, code, _) = answer(
        commit(&hub, &hub.alice, "acme/gov", delete.clone()).await,
        "no-oid",
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "ManageRightRequired")
    );
    let folder = format!(
        "{}\n{}\n",
        json!({"key": "header", "value": {"summary": "drop all"}}),
        json!({"key": "deletedFolder", "value": {"path": ""}})
    );
    let r = commit(&hub, &hub.alice, "acme/gov", folder).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(head(&hub).await, after);
    // Nor the signed governance state beside it: writing, swapping or stripping it.
    let sig = rskill_signing::GOVERNANCE_SIGNATURE_FILE;
    let r = commit(
        &hub,
        &manager,
        "acme/gov",
        ndjson("sign", None, &[(sig, b"{}")], &[]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let signed = head(&hub).await;
    for body in [
        ndjson("swap", None, &[(sig, b"{\"other\": 1}")], &[]),
        ndjson("strip", None, &[], &[sig]),
    ] {
        let (status, code, message) =
            answer(commit(&hub, &hub.alice, "acme/gov", body).await, "no-oid").await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "ManageRightRequired"),
            "{message}"
        );
        assert!(message.contains(sig), "{message}");
    }
    assert_eq!(head(&hub).await, signed);
    // A read-only token is refused before its body is read, as for any commit.
    let (status, _, _) = answer(commit(&hub, &hub.bob, "acme/gov", delete).await, "no-oid").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

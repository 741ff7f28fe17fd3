//! `rskill-hub import` (issue 19, points 2 and 4): a bundle imports with the source's
//! commit ids and refs and the server serves it; then each fault — a truncated bundle, a
//! flipped byte (a blob, the metadata, the manifest, a tar header), a newer format, a
//! disk that fails mid-import, `kill -9` between any two steps, a conflicting tag, a
//! commit id held with other content, a missing parent, hostile members — leaves the data
//! directory exactly as before (files and their digests, `tmp/` aside), with a message
//! naming the problem. A re-import is a no-op.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rskill_bundle::{
    BundleCommit, BundleFile, BundleMeta, BundleRefs, BundleWriter, FORMAT_VERSION, Kind,
    RepoBundle,
};
use rskill_hub::import::{ImportOptions, import_bundle};
use rskill_hub::{Config, HubError, Store, StoreOptions};
use rskill_hub_protocol::ids::{CommitId, GitBlobId, Sha256};
use rskill_test_support::test_hub::{data_dir_listing, noise};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rskill-hub");

/// A commit id made from a label (the source Hub's ids are opaque to the importer).
pub(crate) fn cid(label: &str) -> CommitId {
    rskill_hub_protocol::digest::sha256_hex(label.as_bytes())[..40]
        .parse()
        .unwrap()
}

pub(crate) fn file(bytes: &[u8]) -> BundleFile {
    BundleFile {
        sha256: Sha256::of(bytes),
        size: bytes.len() as u64,
        git_sha1: Some(GitBlobId::of(bytes)),
    }
}

/// A commit with files `(path, content)`.
pub(crate) fn commit(label: &str, parents: &[&str], files: &[(&str, &[u8])]) -> BundleCommit {
    BundleCommit {
        id: cid(label),
        parents: parents.iter().map(|p| cid(p)).collect(),
        author: "alice".into(),
        date: "2026-01-02T03:04:05.000Z".into(),
        summary: format!("commit {label}"),
        description: String::new(),
        files: files
            .iter()
            .map(|(p, c)| (p.parse().unwrap(), file(c)))
            .collect(),
    }
}

pub(crate) fn repo(
    id: &str,
    commits: Vec<BundleCommit>,
    branches: &[(&str, &str)],
    tags: &[(&str, &str)],
) -> RepoBundle {
    RepoBundle {
        kind: Kind::Model,
        id: id.parse().unwrap(),
        private: false,
        refs: BundleRefs {
            branches: branches
                .iter()
                .map(|(n, c)| (n.to_string(), cid(c)))
                .collect(),
            tags: tags.iter().map(|(n, c)| (n.to_string(), cid(c))).collect(),
        },
        commits,
        governance: None,
    }
}

/// Writes a bundle of `repos` carrying every blob their commits name, except `skip`.
pub(crate) fn write(repos: Vec<RepoBundle>, contents: &[&[u8]], format: u32) -> Vec<u8> {
    let meta = BundleMeta {
        format,
        source: "http://127.0.0.1:1".into(),
        created: "2026-01-02T03:04:05Z".into(),
        since: None,
        repos,
    };
    let wanted = meta.blobs();
    let mut w = BundleWriter::new(Vec::new(), &meta).unwrap();
    for c in contents {
        let sha = Sha256::of(c);
        if wanted.contains_key(&sha) {
            w.append_blob(&sha, c.len() as u64, *c).unwrap();
        }
    }
    w.finish().unwrap().0
}

pub(crate) const README: &[u8] = b"---\ntags: [rskill]\n---\n# x\n";

fn weights() -> Vec<u8> {
    noise(300_000, 7)
}

/// Two repos: a skill with two commits and tags, and a weights repo.
fn first_bundle() -> Vec<u8> {
    let w = weights();
    let skill = repo(
        "acme/rskill-x",
        vec![
            commit("x1", &[], &[("README.md", README)]),
            commit(
                "x2",
                &["x1"],
                &[
                    ("README.md", README),
                    ("rskill.yaml", b"name: acme/rskill-x\n"),
                ],
            ),
        ],
        &[("main", "x2")],
        &[("v1.0.0", "x2")],
    );
    let up = repo(
        "upstream/weights",
        vec![commit(
            "w1",
            &[],
            &[("model.safetensors", &w), ("config.json", b"{}")],
        )],
        &[("main", "w1")],
        &[],
    );
    write(
        vec![skill, up],
        &[README, b"name: acme/rskill-x\n", &w, b"{}"],
        FORMAT_VERSION,
    )
}

/// A later bundle: a new version of the skill on top of the first.
fn second_bundle() -> Vec<u8> {
    let skill = repo(
        "acme/rskill-x",
        vec![commit(
            "x3",
            &["x2"],
            &[
                ("README.md", README),
                ("rskill.yaml", b"name: acme/rskill-x\nv: 2\n"),
            ],
        )],
        &[("main", "x3")],
        &[("v1.0.0", "x2"), ("v2.0.0", "x3")],
    );
    let other = repo(
        "acme/rskill-y",
        vec![commit("y1", &[], &[("README.md", b"y")])],
        &[("main", "y1")],
        &[("v0.1.0", "y1")],
    );
    write(
        vec![skill, other],
        &[README, b"name: acme/rskill-x\nv: 2\n", b"y"],
        FORMAT_VERSION,
    )
}

fn import(
    dir: &Path,
    bytes: &[u8],
    opts: StoreOptions,
) -> Result<rskill_hub::import::ImportReport, HubError> {
    let store = Store::open(dir, opts).unwrap();
    import_bundle(&store, bytes, &ImportOptions::default())
}

/// A data directory holding the first bundle.
fn target() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    import(dir.path(), &first_bundle(), StoreOptions::default()).unwrap();
    dir
}

/// Runs `import` of `bytes` into a target holding the first bundle and checks that it
/// fails with a message containing `expect`, leaving the directory as it was.
fn refused(bytes: &[u8], expect: &str) -> String {
    let dir = target();
    let before = data_dir_listing(dir.path());
    let e = import(dir.path(), bytes, StoreOptions::default())
        .expect_err("the import must fail")
        .to_string();
    assert!(e.contains(expect), "`{expect}` not in: {e}");
    assert_eq!(data_dir_listing(dir.path()), before, "after: {e}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
    e
}

pub(crate) async fn get(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_imports_with_the_source_ids_and_the_server_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = import(dir.path(), &first_bundle(), StoreOptions::default()).unwrap();
    assert_eq!(first.repos_created, ["acme/rskill-x", "upstream/weights"]);
    assert_eq!(first.commits_added, 3);
    let second = import(dir.path(), &second_bundle(), StoreOptions::default()).unwrap();
    assert_eq!(second.repos_created, ["acme/rskill-y"]);
    assert_eq!(second.repos_updated, ["acme/rskill-x"]);
    let server = rskill_hub::spawn(Config::new(dir.path())).unwrap();
    let url = server.url();
    let refs = get(&format!("{url}/api/models/acme/rskill-x/refs")).await;
    let tag = |name: &str| {
        refs["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["targetCommit"].as_str().unwrap().to_owned())
    };
    assert_eq!(tag("v1.0.0").unwrap(), cid("x2").as_str());
    assert_eq!(tag("v2.0.0").unwrap(), cid("x3").as_str());
    let log = get(&format!("{url}/api/models/acme/rskill-x/commits/main")).await;
    let ids: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [cid("x3").as_str(), cid("x2").as_str(), cid("x1").as_str()]
    );
    assert_eq!(log[0]["parents"][0], cid("x2").as_str());
    let info = get(&format!(
        "{url}/api/models/upstream/weights/revision/{}",
        cid("w1")
    ))
    .await;
    let w = weights();
    let sib = info["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["rfilename"] == "model.safetensors")
        .unwrap()
        .clone();
    assert_eq!(sib["lfs"]["sha256"], Sha256::of(&w).as_str());
    let body = reqwest::get(format!(
        "{url}/upstream/weights/resolve/{}/model.safetensors",
        cid("w1")
    ))
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    assert_eq!(body.as_ref(), w.as_slice());
    let listing = get(&format!("{url}/api/models?search=rskill")).await;
    assert_eq!(listing.as_array().unwrap().len(), 2, "{listing}");
    server.shutdown().unwrap();
}

#[test]
fn re_importing_a_bundle_changes_nothing() {
    let dir = target();
    let before = data_dir_listing(dir.path());
    let again = import(dir.path(), &first_bundle(), StoreOptions::default()).unwrap();
    assert!(again.is_noop(), "{again:?}");
    assert_eq!(again.repos_unchanged.len(), 2);
    assert_eq!(data_dir_listing(dir.path()), before);
}

#[test]
fn a_truncated_bundle_changes_nothing() {
    let bytes = second_bundle();
    for len in [
        bytes.len() / 3,
        bytes.len() - 1536,
        bytes.len() - 1024,
        bytes.len() - 1,
    ] {
        refused(&bytes[..len], "truncated");
    }
}

#[test]
fn a_flipped_byte_anywhere_changes_nothing() {
    let bytes = second_bundle();
    let find = |needle: &[u8]| {
        bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap_or_else(|| panic!("{:?} in the bundle", String::from_utf8_lossy(needle)))
    };
    let meta = find(b"\"repos\"") + 3;
    let blob = find(b"name: acme/rskill-x\nv: 2") + 5;
    let manifest = find(b"\"prefixSize\"") + 4;
    let header = 0; // the metadata's tar header
    let blob_header = find(b"blobs/") + 8;
    let padding = find(b"rskill-bundle-manifest.json") - 100; // zeros of a header
    for (what, at) in [
        ("metadata", meta),
        ("blob", blob),
        ("manifest", manifest),
        ("tar header", header),
        ("blob header", blob_header),
        ("header padding", padding),
    ] {
        let mut b = bytes.clone();
        b[at] ^= 0x20;
        let e = refused(&b, "");
        assert!(e.starts_with("invalid bundle"), "{what}: {e}");
    }
}

#[test]
fn a_bundle_of_a_newer_format_is_refused_as_such() {
    let b = write(
        vec![repo(
            "acme/rskill-z",
            vec![commit("z1", &[], &[])],
            &[("main", "z1")],
            &[],
        )],
        &[],
        FORMAT_VERSION + 1,
    );
    refused(&b, "format version 2, this build reads up to version 1");
}

#[test]
fn a_disk_failing_mid_import_changes_nothing() {
    for n in [1, 2] {
        let dir = target();
        let before = data_dir_listing(dir.path());
        let e = import(
            dir.path(),
            &second_bundle(),
            StoreOptions {
                durable: true,
                fail_blob_write_at: Some(n),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(matches!(e, HubError::Injected { .. }), "{e}");
        assert_eq!(data_dir_listing(dir.path()), before, "failing write #{n}");
        assert!(!dir.path().join(rskill_hub::import::JOURNAL).exists());
    }
}

#[test]
fn a_conflicting_tag_is_refused_naming_it() {
    let moved = write(
        vec![repo(
            "acme/rskill-x",
            vec![commit("other", &[], &[("README.md", README)])],
            &[],
            &[("v1.0.0", "other")],
        )],
        &[README],
        FORMAT_VERSION,
    );
    let e = refused(&moved, "tag `v1.0.0` points to");
    assert!(
        e.contains("acme/rskill-x") && e.contains("nothing was changed"),
        "{e}"
    );
    // A branch the bundle does not descend from.
    let forked = write(
        vec![repo(
            "acme/rskill-x",
            vec![commit("fork", &["x1"], &[("README.md", README)])],
            &[("main", "fork")],
            &[],
        )],
        &[README],
        FORMAT_VERSION,
    );
    refused(&forked, "branch `main` is at");
    // A commit id the target holds with other content.
    let rewritten = write(
        vec![repo(
            "acme/rskill-x",
            vec![commit("x1", &[], &[("README.md", b"rewritten")])],
            &[],
            &[],
        )],
        &[b"rewritten"],
        FORMAT_VERSION,
    );
    refused(&rewritten, "exists in the target with other content");
}

#[test]
fn a_bundle_missing_a_parent_or_a_blob_is_refused() {
    let orphan = write(
        vec![repo(
            "acme/rskill-x",
            vec![commit("x9", &["nowhere"], &[("README.md", README)])],
            &[("main", "x9")],
            &[],
        )],
        &[README],
        FORMAT_VERSION,
    );
    refused(&orphan, "has parent");
    let no_blob = write(
        vec![repo(
            "acme/rskill-q",
            vec![commit("q1", &[], &[("a.bin", b"never carried")])],
            &[("main", "q1")],
            &[],
        )],
        &[],
        FORMAT_VERSION,
    );
    refused(&no_blob, "neither the bundle nor the target holds");
}

#[test]
fn hostile_members_are_refused() {
    let meta = BundleMeta {
        format: FORMAT_VERSION,
        source: "x".into(),
        created: "x".into(),
        since: None,
        repos: vec![],
    };
    let meta_bytes = serde_json::to_vec(&meta).unwrap();
    let mut t = tar::Builder::new(Vec::new());
    for (name, bytes) in [
        ("rskill-bundle.json", meta_bytes.as_slice()),
        ("../../hub.lock", b"x".as_slice()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        t.append(&h, bytes).unwrap();
    }
    refused(&t.into_inner().unwrap(), "../../hub.lock");
    let bad_id = String::from_utf8(
        serde_json::to_vec(&BundleMeta {
            repos: vec![repo("acme/rskill-z", vec![], &[], &[])],
            ..meta
        })
        .unwrap(),
    )
    .unwrap()
    .replace("acme/rskill-z", "api/rskill-z");
    let mut t = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(bad_id.len() as u64);
    h.set_mode(0o644);
    t.append_data(&mut h, "rskill-bundle.json", bad_id.as_bytes())
        .unwrap();
    refused(&t.into_inner().unwrap(), "api/rskill-z");
}

/// Kills `rskill-hub import` with SIGKILL after its `step`-th progress line.
fn import_killed_after(dir: &Path, bundle: &Path, step: usize) -> Vec<String> {
    let mut child = Command::new(BIN)
        .arg("import")
        .arg(bundle)
        .arg("--data")
        .arg(dir)
        .env("RSKILL_HUB_TEST_IMPORT_PAUSE_MS", "800")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    // The first line is "verifying"; steps follow.
    while seen.len() <= step {
        match lines.next() {
            Some(l) => seen.push(l.unwrap()),
            None => break,
        }
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-9", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed: {seen:?}");
    seen
}

#[test]
fn kill_dash_nine_between_any_two_steps_leaves_it_before_or_after() {
    let bundle_dir = tempfile::tempdir().unwrap();
    let bundle = bundle_dir.path().join("b.tar");
    std::fs::write(&bundle, second_bundle()).unwrap();
    let after = {
        let dir = target();
        import(dir.path(), &second_bundle(), StoreOptions::default()).unwrap();
        data_dir_listing(dir.path())
    };
    // Steps: journal written, blobs stored, repo 1, repo 2 imported, committed.
    for step in 1..=5 {
        let dir = target();
        let before = data_dir_listing(dir.path());
        let seen = import_killed_after(dir.path(), &bundle, step);
        let last = seen.last().cloned().unwrap_or_default();
        if step < 5 {
            assert!(
                dir.path().join(rskill_hub::import::JOURNAL).exists(),
                "killed mid-import after {last:?}"
            );
        }
        // Opening the directory (as `serve` or another `import` does) undoes or keeps.
        drop(Store::open(dir.path(), StoreOptions::default()).unwrap());
        let now = data_dir_listing(dir.path());
        if last.contains("committed") {
            assert_eq!(strip_dates(&now), strip_dates(&after), "after {last:?}");
        } else {
            assert_eq!(now, before, "killed after {last:?}: not as before");
        }
    }
    std::thread::sleep(Duration::from_millis(10));
}

/// A listing with the `repo.json` of created repos left out (they hold the creation
/// time, which differs between two imports).
fn strip_dates(l: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    l.iter()
        .filter(|(k, _)| !k.ends_with("repo.json"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_imports_into_the_running_server() {
    use rskill_hub::tokens::{Rights, create_with};
    let mut hub = rskill_test_support::test_hub::TestHub::start();
    let rights = Rights {
        write: true,
        manage: true,
    };
    let admin = create_with(
        hub.dir.path(),
        "admin",
        &["acme".into(), "upstream".into()],
        rights,
    )
    .unwrap();
    let narrow = create_with(hub.dir.path(), "narrow", &["acme".into()], rights).unwrap();
    hub.restart_with(|_| {});
    let url = format!("{}/api/admin/import", hub.url());
    let http = reqwest::Client::new();
    let post = async |token: Option<&str>, body: Vec<u8>| {
        let mut req = http.post(&url).body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let code = r
            .headers()
            .get("x-error-code")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, code, r.text().await.unwrap())
    };
    let bundle = first_bundle();
    let before = data_dir_listing(hub.dir.path());
    assert_eq!(post(None, bundle.clone()).await.0, 401);
    let (status, code, _) = post(Some(&hub.alice), bundle.clone()).await;
    assert_eq!((status, code.as_str()), (403, "ManageRightRequired"));
    let (status, _, text) = post(Some(&narrow), bundle.clone()).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("upstream/weights"), "{text}");
    let mut damaged = bundle.clone();
    let at = damaged.len() / 2;
    damaged[at] ^= 1;
    let (status, code, text) = post(Some(&admin), damaged).await;
    assert_eq!((status, code.as_str()), (400, "InvalidBundle"), "{text}");
    assert_eq!(
        data_dir_listing(hub.dir.path()),
        before,
        "refused imports change nothing"
    );

    let (status, _, text) = post(Some(&admin), bundle.clone()).await;
    assert_eq!(status, 200, "{text}");
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        report["reposCreated"].as_array().unwrap().len(),
        2,
        "{report}"
    );
    // Served at once, without a restart.
    let refs = get(&format!("{}/api/models/acme/rskill-x/refs", hub.url())).await;
    assert_eq!(
        refs["tags"][0]["targetCommit"],
        cid("x2").as_str(),
        "{refs}"
    );
    let (status, _, text) = post(Some(&admin), bundle).await;
    assert_eq!(status, 200);
    let again: Value = serde_json::from_str(&text).unwrap();
    assert!(
        again["reposCreated"].as_array().unwrap().is_empty(),
        "{again}"
    );
    assert_eq!(again["reposUnchanged"].as_array().unwrap().len(), 2);
}

/// Import into a data directory whose blobs live on an object store (Garage,
/// `RSKILL_GARAGE_BIN`; SKIPPED without it), through the real binary's `--blobs`: the
/// blobs land in the bucket (none in the data directory), an incremental bundle that
/// relies on the first one's blobs imports, the server on the same store serves the
/// files, and a damaged bundle changes neither the directory nor the bucket.
#[tokio::test]
async fn an_import_into_an_object_store_backed_hub() {
    use rskill_test_support::object_store_server::ObjectStoreServer;
    let Some(s3) = ObjectStoreServer::start_or_skip("import-into-s3") else {
        return;
    };
    let prefix = "t/import";
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let run = |bytes: &[u8], name: &str| {
        let path = work.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        Command::new(BIN)
            .args(["import"])
            .arg(&path)
            .arg("--data")
            .arg(dir.path())
            .args(["--blobs", &format!("s3://{}/{prefix}", s3.bucket)])
            .args(["--s3-endpoint", &s3.endpoint, "--s3-region", &s3.region])
            .env("AWS_ACCESS_KEY_ID", &s3.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &s3.secret_access_key)
            .output()
            .unwrap()
    };
    let out = run(&first_bundle(), "first.tar");
    assert!(out.status.success(), "{out:?}");
    let out = run(&second_bundle(), "second.tar");
    assert!(out.status.success(), "{out:?}");
    let w = weights();
    let stored = s3.list(prefix);
    assert!(stored.contains(&Sha256::of(&w).to_string()), "{stored:?}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("blobs")).unwrap().count(),
        0,
        "no blob in the data directory"
    );

    let before = (data_dir_listing(dir.path()), s3.list(prefix));
    let mut damaged = first_bundle();
    let at = damaged.len() / 2;
    damaged[at] ^= 0x20;
    let out = run(&damaged, "damaged.tar");
    assert!(!out.status.success(), "a damaged bundle is refused");
    assert_eq!((data_dir_listing(dir.path()), s3.list(prefix)), before);

    let mut config = Config::new(dir.path());
    config.blobs = s3.blobs_config(prefix, &s3.endpoint);
    let server = rskill_hub::spawn(config).unwrap();
    let body = reqwest::get(format!(
        "{}/upstream/weights/resolve/{}/model.safetensors",
        server.url(),
        cid("w1")
    ))
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    assert_eq!(body.as_ref(), w.as_slice());
    server.shutdown().unwrap();
}

/// The answers (status, headers but `date`, body) of the admin import to bundles that
/// name a blob of another org: one leaving it out (relying on the target holding it),
/// one carrying it, then one building on the carried one without carrying it again. In
/// the world `with_secret`, org `other` holds the blob in a private repo; in the other,
/// nobody does.
async fn import_answers(with_secret: bool) -> Vec<(u16, BTreeMap<String, String>, String)> {
    use rskill_hub::tokens::{Rights, create_with};
    use rskill_test_support::test_hub::{TestHub, ndjson};
    let secret = noise(4096, 11);
    let hub = TestHub::start();
    let rights = Rights {
        write: true,
        manage: true,
    };
    let admin = create_with(hub.dir.path(), "admin", &["acme".into()], rights).unwrap();
    let http = reqwest::Client::new();
    if with_secret {
        let r = http
            .post(format!("{}/api/repos/create", hub.url()))
            .bearer_auth(&hub.carol)
            .json(&serde_json::json!({ "name": "vault", "organization": "other", "private": true }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = http
            .post(format!("{}/api/models/other/vault/commit/main", hub.url()))
            .bearer_auth(&hub.carol)
            .body(ndjson("weights", None, &[("w.bin", &secret)], &[]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let probe = |id: &str, commits: Vec<BundleCommit>, head: &str, carried: &[&[u8]]| {
        write(
            vec![repo(id, commits, &[("main", head)], &[])],
            carried,
            FORMAT_VERSION,
        )
    };
    let leaves_out = probe(
        "acme/probe",
        vec![commit("p1", &[], &[("w.bin", &secret)])],
        "p1",
        &[],
    );
    let carries = probe(
        "acme/carried",
        vec![commit("c1", &[], &[("w.bin", &secret)])],
        "c1",
        &[&secret],
    );
    let builds_on = probe(
        "acme/carried",
        vec![commit("c2", &["c1"], &[("w.bin", &secret), ("b", b"b")])],
        "c2",
        &[b"b"],
    );
    let mut answers = Vec::new();
    for bundle in [leaves_out, carries, builds_on] {
        let r = http
            .post(format!("{}/api/admin/import", hub.url()))
            .bearer_auth(&admin)
            .body(bundle)
            .send()
            .await
            .unwrap();
        let headers = r
            .headers()
            .iter()
            .filter(|(k, _)| *k != "date")
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        answers.push((r.status().as_u16(), headers, r.text().await.unwrap()));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_import_tells_nothing_of_other_orgs_blobs() {
    let held = import_answers(true).await;
    let absent = import_answers(false).await;
    // Leaving the blob out is refused: the importer may not rely on another org's blob.
    assert_eq!(held[0].0, 400, "{:?}", held[0]);
    assert_eq!(held[0].1["x-error-code"], "IncompleteBundle");
    assert!(
        held[0]
            .2
            .contains("neither the bundle nor the target holds")
    );
    // Carrying it imports, and counts it as added to the importer's repo.
    assert_eq!(held[1].0, 200, "{:?}", held[1]);
    let report: Value = serde_json::from_str(&held[1].2).unwrap();
    assert_eq!(report["blobsAdded"], 1, "{report}");
    assert_eq!(report["bytesAdded"], 4096, "{report}");
    // A later bundle relies on the importer's own earlier blob.
    assert_eq!(held[2].0, 200, "{:?}", held[2]);
    // Whether `other` holds the blob changes nothing of any answer.
    assert_eq!(held, absent);
}

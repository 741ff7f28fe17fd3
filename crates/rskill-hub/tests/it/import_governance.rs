//! `rskill-hub import` and the signed governance state (`rskill.registry.sig`): a bundle
//! whose `v*` tags, registry file or metadata disagree with its own signed state, whose
//! state names another repo, is older than the target's, or is missing where the target's
//! is signed, is refused naming the repo and the rule, leaving the data directory exactly
//! as it was; with `--governance-key` every state must verify. Bundles are built with the
//! `rskill-bundle` writer, states signed here with `rskill-signing`.

use std::path::Path;
use std::process::Command;

use rskill_bundle::{BundleCommit, BundleGovernance, FORMAT_VERSION, RepoBundle};
use rskill_hub::import::{ImportOptions, ImportReport, import_bundle};
use rskill_hub::import_governance::{UNVERIFIED, VERIFIED};
use rskill_hub::{Config, HubError, Store, StoreOptions};
use rskill_hub_protocol::ids::Sha256;
use rskill_signing::governance::registry_digest;
use rskill_signing::{GovernanceState, PrivateKey, PublicKey};
use rskill_test_support::test_hub::data_dir_listing;
use serde_json::Value;

use super::import::{README, cid, commit, repo, write};

const BIN: &str = env!("CARGO_BIN_EXE_rskill-hub");
const G: &str = "acme/rskill-g";
const YAML: &[u8] = b"name: acme/rskill-g\n";
const REGISTRY: &str = "rskill.registry.json";
const SIG: &str = "rskill.registry.sig";

/// A registry file (its bytes only matter through their digest).
fn registry(label: &str) -> Vec<u8> {
    format!("{{\"format\": 1, \"history\": [\"{label}\"]}}\n").into_bytes()
}

/// The signature file of governance state `version` of `repo` over `registry`,
/// releasing `releases` (version, commit label).
fn sign(
    repo: &str,
    version: u64,
    registry: &[u8],
    releases: &[(&str, &str)],
    key: &PrivateKey,
) -> Vec<u8> {
    GovernanceState {
        repo: repo.into(),
        version,
        issued: "2026-12-01T00:00:00Z".into(),
        expires: "2099-12-31T00:00:00Z".into(),
        registry_sha256: registry_digest(registry),
        history_length: version,
        releases: releases
            .iter()
            .map(|(v, c)| (v.to_string(), cid(c).to_string()))
            .collect(),
        scans: Default::default(),
    }
    .sign(key)
    .unwrap()
}

/// A commit of the governed skill: its README and manifest, plus `extra` files.
fn skill_commit(label: &str, parents: &[&str], extra: &[(&str, &[u8])]) -> BundleCommit {
    let mut files: Vec<(&str, &[u8])> = vec![("README.md", README), ("rskill.yaml", YAML)];
    files.extend_from_slice(extra);
    commit(label, parents, &files)
}

/// One repo of a bundle and the contents its commits need.
#[derive(Clone)]
struct Piece {
    repo: RepoBundle,
    contents: Vec<Vec<u8>>,
}

fn bundle(pieces: Vec<Piece>) -> Vec<u8> {
    let contents: Vec<Vec<u8>> = pieces.iter().flat_map(|p| p.contents.clone()).collect();
    let refs: Vec<&[u8]> = contents.iter().map(Vec::as_slice).collect();
    write(
        pieces.into_iter().map(|p| p.repo).collect(),
        &refs,
        FORMAT_VERSION,
    )
}

fn claim(version: u64, registry: &[u8]) -> Option<BundleGovernance> {
    Some(BundleGovernance {
        version,
        registry_sha256: Sha256::of(registry),
    })
}

/// The first export of the governed skill: g1 (tagged v1.0.0), then g2 on `main` with
/// governance state 1 releasing 1.0.0 at g1.
fn first(key: &PrivateKey) -> Piece {
    let r1 = registry("v1");
    let s1 = sign(G, 1, &r1, &[("1.0.0", "g1")], key);
    let mut rb = repo(
        G,
        vec![
            skill_commit("g1", &[], &[]),
            skill_commit("g2", &["g1"], &[(REGISTRY, &r1), (SIG, &s1)]),
        ],
        &[("main", "g2")],
        &[("v1.0.0", "g1")],
    );
    rb.governance = claim(1, &r1);
    Piece {
        repo: rb,
        contents: vec![README.to_vec(), YAML.to_vec(), r1, s1],
    }
}

/// The next export (on top of the first): g3 on `main`, state 2 releasing 1.1.0 at g3.
fn second(key: &PrivateKey) -> Piece {
    let r2 = registry("v2");
    let s2 = sign(G, 2, &r2, &[("1.0.0", "g1"), ("1.1.0", "g3")], key);
    let mut rb = repo(
        G,
        vec![skill_commit("g3", &["g2"], &[(REGISTRY, &r2), (SIG, &s2)])],
        &[("main", "g3")],
        &[("v1.0.0", "g1"), ("v1.1.0", "g3")],
    );
    rb.governance = claim(2, &r2);
    Piece {
        repo: rb,
        contents: vec![README.to_vec(), YAML.to_vec(), r2, s2],
    }
}

/// A commit `g4` on top of the second export's `main`, with `gov` as its governance
/// files, and `tags`: what a bundle carries to roll the target's state back or strip it.
fn on_top(
    gov: &[(&str, &[u8])],
    claimed: Option<BundleGovernance>,
    tags: &[(&str, &str)],
) -> Piece {
    let mut rb = repo(
        G,
        vec![skill_commit("g4", &["g3"], gov)],
        &[("main", "g4")],
        tags,
    );
    rb.governance = claimed;
    let mut contents = vec![README.to_vec(), YAML.to_vec()];
    contents.extend(gov.iter().map(|(_, c)| c.to_vec()));
    Piece { repo: rb, contents }
}

fn import(dir: &Path, bytes: &[u8], keys: &[PublicKey]) -> Result<ImportReport, HubError> {
    let store = Store::open(dir, StoreOptions::default()).unwrap();
    import_bundle(
        &store,
        bytes,
        &ImportOptions {
            governance_keys: keys,
            ..Default::default()
        },
    )
}

/// Imports `setup` into a new data directory, then `bytes`, which must fail with a
/// message containing each of `expect` and leave the directory as it was.
fn refused(setup: &[&[u8]], bytes: &[u8], keys: &[PublicKey], expect: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), StoreOptions::default()).unwrap());
    for b in setup {
        import(dir.path(), b, &[]).unwrap();
    }
    let before = data_dir_listing(dir.path());
    let e = import(dir.path(), bytes, keys)
        .expect_err("the import must be refused")
        .to_string();
    for x in expect {
        assert!(e.contains(x), "`{x}` not in: {e}");
    }
    assert!(
        e.contains(G) || e.contains("acme/rskill-h"),
        "names the repo: {e}"
    );
    assert_eq!(data_dir_listing(dir.path()), before, "after: {e}");
    e
}

#[test]
fn a_signed_skill_imports_and_the_report_says_what_was_checked() {
    let key = PrivateKey::generate();
    let dir = tempfile::tempdir().unwrap();
    let r = import(dir.path(), &bundle(vec![first(&key)]), &[]).unwrap();
    assert_eq!(r.repos_created, [G]);
    assert_eq!(r.governance.summary, UNVERIFIED);
    let g = &r.governance.repos[G];
    assert_eq!((g.version, g.target_version, g.verified), (1, None, false));
    let r = import(dir.path(), &bundle(vec![second(&key)]), &[key.public()]).unwrap();
    assert_eq!(r.repos_updated, [G]);
    assert_eq!(r.governance.summary, VERIFIED);
    let g = &r.governance.repos[G];
    assert_eq!(
        (g.version, g.target_version, g.verified),
        (2, Some(1), true)
    );
    assert_eq!(g.key_id.as_deref(), Some(key.public().id()));
    // The same state again (a re-import) is no step back.
    assert!(
        import(dir.path(), &bundle(vec![second(&key)]), &[])
            .unwrap()
            .is_noop()
    );
    // A repo signed on neither side imports as before, keys or not.
    let plain = repo(
        "acme/rskill-plain",
        vec![commit("p1", &[], &[("README.md", README)])],
        &[("main", "p1")],
        &[("v0.1.0", "p1")],
    );
    let plain = bundle(vec![Piece {
        repo: plain,
        contents: vec![README.to_vec()],
    }]);
    let r = import(dir.path(), &plain, &[key.public()]).unwrap();
    assert_eq!(r.repos_created, ["acme/rskill-plain"]);
    assert!(r.governance.repos.is_empty());
}

#[test]
fn release_tags_must_be_where_the_signed_state_says() {
    let key = PrivateKey::generate();
    // One tag added: a version the state never released (a deleted one, say).
    let mut p = first(&key);
    p.repo.refs.tags.insert("v9.9.9".into(), cid("g2"));
    refused(
        &[],
        &bundle(vec![p]),
        &[],
        &["tag `v9.9.9`", "not a release of the signed state"],
    );
    // One tag moved to another commit.
    let mut p = first(&key);
    p.repo.refs.tags.insert("v1.0.0".into(), cid("g2"));
    refused(
        &[],
        &bundle(vec![p]),
        &[],
        &["tag `v1.0.0`", "releases 1.0.0 at", cid("g1").as_str()],
    );
    // Over a target holding the first export: a new tag in a bundle without `main`.
    let mut p = first(&key);
    p.repo.refs.branches.clear();
    p.repo.commits.clear();
    p.repo.refs.tags.insert("v6.6.6".into(), cid("g1"));
    // … which claims a signed state, over a target whose repo is unsigned.
    let mut unsigned = first(&key);
    unsigned.repo.commits[1].files.clear();
    unsigned.repo.governance = None;
    refused(
        &[&bundle(vec![unsigned])],
        &bundle(vec![p.clone()]),
        &[],
        &[
            "the metadata names governance version 1",
            "no `main` branch",
        ],
    );
    // … over a target whose state is signed.
    let b1 = bundle(vec![first(&key)]);
    refused(
        &[&b1],
        &bundle(vec![p.clone()]),
        &[],
        &[
            "the metadata names governance version 1",
            "no `main` branch",
        ],
    );
    p.repo.governance = None;
    refused(
        &[&b1],
        &bundle(vec![p]),
        &[],
        &["no `main` branch", "a signed repo stays signed"],
    );
}

#[test]
fn the_registry_file_metadata_and_repo_must_be_the_signed_ones() {
    let key = PrivateKey::generate();
    // The registry file changed (a status edited) without signing.
    let mut p = first(&key);
    let edited = registry("edited");
    let files = &mut p.repo.commits[1].files;
    files.insert(REGISTRY.parse().unwrap(), super::import::file(&edited));
    p.contents.push(edited);
    refused(
        &[],
        &bundle(vec![p]),
        &[],
        &[SIG, "changed without signing"],
    );
    // The signed state of another repo swapped in.
    let mut other = first(&key);
    other.repo.id = "acme/rskill-h".parse().unwrap();
    refused(
        &[],
        &bundle(vec![first(&key), other]),
        &[],
        &[
            "acme/rskill-h",
            "signed for acme/rskill-g",
            "replayed on another repo",
        ],
    );
    // The metadata names another version than the signature file.
    let mut p = first(&key);
    p.repo.governance = claim(7, b"{}");
    refused(
        &[],
        &bundle(vec![p]),
        &[],
        &["the metadata names governance version 7"],
    );
    // The metadata names a state, the signature file is gone.
    let mut p = first(&key);
    p.repo.commits[1].files.remove(&SIG.parse().unwrap());
    refused(
        &[],
        &bundle(vec![p]),
        &[],
        &[
            "the metadata names governance version 1",
            "has no rskill.registry.sig",
        ],
    );
}

#[test]
fn a_state_older_than_the_targets_or_a_signed_repo_losing_its_signature_is_refused() {
    let key = PrivateKey::generate();
    let (b1, b2) = (bundle(vec![first(&key)]), bundle(vec![second(&key)]));
    let setup: [&[u8]; 2] = [&b1, &b2];
    // The registry file and signature of the first export on a new commit: state 1
    // over a target at state 2.
    let r1 = registry("v1");
    let s1 = sign(G, 1, &r1, &[("1.0.0", "g1")], &key);
    let old = on_top(
        &[(REGISTRY, &r1), (SIG, &s1)],
        claim(1, &r1),
        &[("v1.0.0", "g1")],
    );
    refused(
        &setup,
        &bundle(vec![old]),
        &[],
        &["version 1", "the target holds version 2", "never goes back"],
    );
    // Version 2 again, over another registry file.
    let r2x = registry("v2 other");
    let s2x = sign(G, 2, &r2x, &[("1.0.0", "g1"), ("1.1.0", "g3")], &key);
    let fork = on_top(
        &[(REGISTRY, &r2x), (SIG, &s2x)],
        claim(2, &r2x),
        &[("v1.0.0", "g1"), ("v1.1.0", "g3")],
    );
    refused(
        &setup,
        &bundle(vec![fork]),
        &[],
        &[
            "governance version 2 names registry",
            "one version, one registry file",
        ],
    );
    // The signature stripped (the registry file kept, or both removed).
    let r3 = registry("v3 unsigned");
    for gov in [vec![(REGISTRY, r3.as_slice())], vec![]] {
        refused(
            &setup,
            &bundle(vec![on_top(&gov, None, &[("v1.0.0", "g1")])]),
            &[],
            &[
                "has no rskill.registry.sig",
                "target's state is signed (version 2)",
                "a signed repo stays signed",
            ],
        );
    }
}

#[test]
fn with_a_governance_key_every_state_must_verify() {
    let key = PrivateKey::generate();
    let stranger = PrivateKey::generate();
    // Signed, consistent, but by a key the org does not trust.
    refused(
        &[],
        &bundle(vec![first(&stranger)]),
        &[key.public()],
        &[SIG, "not trusted"],
    );
    // Without keys the same bundle is only checked for consistency (and says so).
    let dir = tempfile::tempdir().unwrap();
    let r = import(dir.path(), &bundle(vec![first(&stranger)]), &[]).unwrap();
    assert_eq!(r.governance.summary, UNVERIFIED);
    // The signature stripped from a new repo's registry file.
    let mut p = first(&key);
    p.repo.commits[1].files.remove(&SIG.parse().unwrap());
    p.repo.governance = None;
    let stripped = bundle(vec![p]);
    refused(
        &[],
        &stripped,
        &[key.public()],
        &[
            "without rskill.registry.sig",
            "every governance file must be signed",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    import(dir.path(), &stripped, &[]).expect("unsigned on both sides: as before");
    // Over a target whose registry file is unsigned, a bundle without `main` adding a tag.
    let mut tag_only = first(&key);
    tag_only.repo.refs.branches.clear();
    tag_only.repo.commits.clear();
    tag_only.repo.governance = None;
    tag_only.repo.refs.tags.insert("v6.6.6".into(), cid("g1"));
    refused(
        &[&stripped],
        &bundle(vec![tag_only]),
        &[key.public()],
        &["no `main` branch", "every governance file must be signed"],
    );
}

fn key_file(dir: &Path, key: &PrivateKey) -> String {
    let path = dir.join("governance.pub.pem");
    std::fs::write(&path, key.public().pem()).unwrap();
    path.display().to_string()
}

#[test]
fn the_command_line_takes_governance_keys_and_says_what_it_checked() {
    let key = PrivateKey::generate();
    let work = tempfile::tempdir().unwrap();
    let pem = key_file(work.path(), &key);
    let good = work.path().join("good.tar");
    std::fs::write(&good, bundle(vec![first(&key)])).unwrap();
    let mut added = first(&key);
    added.repo.refs.tags.insert("v9.9.9".into(), cid("g2"));
    let bad = work.path().join("bad.tar");
    std::fs::write(&bad, bundle(vec![added])).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let data = |name: &str| work.path().join(name).display().to_string();
    let (code, out, err) = run(&["import", bad.to_str().unwrap(), "--data", &data("a")]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("tag `v9.9.9`") && err.contains("hint:"),
        "{err}"
    );
    let (code, out, err) = run(&["import", good.to_str().unwrap(), "--data", &data("a")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("governance: {UNVERIFIED}")), "{out}");
    let (code, out, err) = run(&[
        "import",
        good.to_str().unwrap(),
        "--data",
        &data("b"),
        "--governance-key",
        &pem,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["governance"]["summary"], VERIFIED, "{report}");
    assert_eq!(
        report["governance"]["repos"][G]["verified"], true,
        "{report}"
    );
    let (code, _, err) = run(&[
        "import",
        good.to_str().unwrap(),
        "--data",
        &data("c"),
        "--governance-key",
        good.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "a key file that is no key is a usage error: {err}");
    assert!(err.contains("--governance-key"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_checks_governance_with_the_servers_keys() {
    use rskill_hub::tokens::{Rights, create_with};
    let key = PrivateKey::generate();
    let dir = tempfile::tempdir().unwrap();
    let admin = create_with(
        dir.path(),
        "admin",
        &["acme".into()],
        Rights {
            write: true,
            manage: true,
        },
    )
    .unwrap();
    let mut config = Config::new(dir.path());
    config.governance_keys = vec![key.public()];
    let server = rskill_hub::spawn(config).unwrap();
    let url = format!("{}/api/admin/import", server.url());
    let post = async |body: Vec<u8>| {
        let r = reqwest::Client::new()
            .post(&url)
            .bearer_auth(&admin)
            .body(body)
            .send()
            .await
            .unwrap();
        let code = r
            .headers()
            .get("x-error-code")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (r.status().as_u16(), code, r.text().await.unwrap())
    };
    let before = data_dir_listing(dir.path());
    let (status, code, text) = post(bundle(vec![first(&PrivateKey::generate())])).await;
    assert_eq!(
        (status, code.as_str()),
        (400, "GovernanceRefused"),
        "{text}"
    );
    assert!(text.contains("not trusted"), "{text}");
    assert_eq!(data_dir_listing(dir.path()), before);
    let (status, _, text) = post(bundle(vec![first(&key)])).await;
    assert_eq!(status, 200, "{text}");
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["governance"]["summary"], VERIFIED, "{report}");
    server.shutdown().unwrap();
}

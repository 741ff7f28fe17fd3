//! Air-gapped fleets (issue 19), end to end with the real binaries: two `rskill-hub`s,
//! the corpus's skills published signed (and an alias set) on the "public" one, a fleet
//! installing from it and writing `rskill.lock`; `rskill export --with-weights`, then
//! `rskill-hub import` into the air-gapped one, where `rskill install --locked` with that
//! lockfile succeeds, signatures verified. Both Hubs are compared repo by repo through
//! the API (commit ids, parents, files, tags); a second import changes nothing; an
//! incremental export (`--since`) carries only what is new. Then a skill with a signed
//! governance state (`rskill.registry.sig`) crosses the gap with its state, and bundles
//! tampered after export (a tag added or moved, the state of another repo or of an older
//! export swapped in, the signature stripped) are refused, the target unchanged.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rskill_bundle::{BundleCommit, BundleMeta, RepoBundle};
use rskill_hub_client::RepoId;
use rskill_hub_client::ids::{CommitId, Sha256};
use rskill_hub_client::write::UploadFile;
use rskill_hub_protocol::REGISTRY_FILE;
use rskill_signing::governance::registry_digest;
use rskill_signing::{GOVERNANCE_SIGNATURE_FILE, GovernanceState, PrivateKey};

use rskill_hub::tokens::{self, Rights};
use rskill_hub_client::{HubClient, HubEnv, Token, TokenSource};
use rskill_test_support::paths::{copy_dir, corpus_dir};
use rskill_test_support::test_hub::{TestHub, data_dir_listing, hub_binary};
use serde_json::Value;
use tempfile::TempDir;

const RSKILL: &str = env!("CARGO_BIN_EXE_rskill");
const PUBLISHER: &str = env!("CARGO_BIN_EXE_rskill-publisher");
const SLUGS: [&str; 2] = ["rtdetr-coco-detector", "smolvla-franka-pick-cube"];
const ORG: &str = "rskill-project";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self, what: &str) -> Run {
        assert_eq!(
            self.code, 0,
            "{what}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs a binary with a machine's environment (`HF_HOME`, registry, Hub, token).
fn run(bin: &Path, args: &[&str], machine: &Path, hub: &str, token: Option<&str>) -> Run {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(machine.join("project"))
        .env("HOME", machine)
        .env("HF_HOME", machine.join("hf-home"))
        .env("RSKILL_DATA_DIR", machine.join("rskill-data"))
        .env("HF_ENDPOINT", hub)
        .env("HF_TOKEN_PATH", "/nonexistent")
        .env("OPENRAL_REQUIRE_SIGNED_SKILLS", "1")
        .env("NO_COLOR", "1")
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("HF_HUB_CACHE")
        .env_remove("XDG_DATA_HOME")
        .stdin(Stdio::null());
    match token {
        Some(t) => cmd.env("HF_TOKEN", t),
        None => cmd.env_remove("HF_TOKEN"),
    };
    let out = cmd.output().expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn machine(root: &Path, name: &str) -> PathBuf {
    let m = root.join(name);
    std::fs::create_dir_all(m.join("project")).unwrap();
    m
}

fn client(endpoint: &str, hf_home: &Path) -> HubClient {
    HubClient::new(HubEnv {
        endpoint: endpoint.to_string(),
        token: None,
        hub_cache: hf_home.join("hub"),
        hf_home: hf_home.to_path_buf(),
        offline: false,
        disable_progress_bars: true,
        download_timeout: rskill_hub_client::env::DEFAULT_DOWNLOAD_TIMEOUT,
    })
    .unwrap()
}

fn with_token(endpoint: &str, token: &str, hf_home: &Path) -> HubClient {
    HubClient::new(HubEnv {
        token: Some((Token::new(token).unwrap(), TokenSource::EnvVar)),
        ..client(endpoint, hf_home).env().clone()
    })
    .unwrap()
}

/// What a Hub says about a repo: refs, the history of every ref (id, parents, title,
/// date), and the files of every commit of it (path, size, blob id, LFS SHA-256).
fn describe(rt: &tokio::runtime::Runtime, hub: &str, repo: &str, scratch: &Path) -> Value {
    let c = client(hub, scratch);
    rt.block_on(async {
        let get = async |path: String| -> Value {
            let r = c.http().get(c.url(&path)).send().await.unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            r.json().await.unwrap()
        };
        let refs = get(format!("/api/models/{repo}/refs")).await;
        let mut commits = serde_json::Map::new();
        for r in refs["branches"]
            .as_array()
            .unwrap()
            .iter()
            .chain(refs["tags"].as_array().unwrap())
        {
            let head = r["targetCommit"].as_str().unwrap();
            for entry in get(format!("/api/models/{repo}/commits/{head}"))
                .await
                .as_array()
                .unwrap()
            {
                let id = entry["id"].as_str().unwrap().to_owned();
                if commits.contains_key(&id) {
                    continue;
                }
                let info = get(format!("/api/models/{repo}/revision/{id}?blobs=true")).await;
                commits.insert(
                    id,
                    serde_json::json!({
                        "parents": entry["parents"],
                        "title": entry["title"],
                        "message": entry["message"],
                        "date": entry["date"],
                        "author": entry["authors"],
                        "sha": info["sha"],
                        "siblings": info["siblings"],
                    }),
                );
            }
        }
        let info = get(format!("/api/models/{repo}")).await;
        serde_json::json!({
            "refs": refs,
            "commits": commits,
            "private": info["private"],
            "tags": info["tags"],
            "sha": info["sha"],
        })
    })
}

fn hub_import(bundle: &Path, data: &Path) -> Run {
    hub_import_with(bundle, data, &[])
}

fn hub_import_with(bundle: &Path, data: &Path, extra: &[&str]) -> Run {
    let out = Command::new(hub_binary())
        .arg("import")
        .arg(bundle)
        .arg("--data")
        .arg(data)
        .args(extra)
        .output()
        .expect("rskill-hub runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn export_import_and_a_locked_install_against_the_air_gapped_hub() {
    let work = TempDir::new().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let public = TestHub::start();
    let corpus = work.path().join("rskills");
    for slug in SLUGS {
        copy_dir(&corpus_dir().join(slug), &corpus.join(slug));
    }
    let manifests: Vec<_> = SLUGS
        .iter()
        .map(|s| {
            rskill_manifest::validate::parse_valid(
                &std::fs::read_to_string(corpus.join(s).join("rskill.yaml")).unwrap(),
            )
            .unwrap()
        })
        .collect();
    let ups = rskill_test_support::seed::upstreams(&manifests).unwrap();
    let mut orgs: Vec<String> = ups.iter().map(|u| u.repo.org().to_string()).collect();
    orgs.push(ORG.into());
    orgs.sort();
    orgs.dedup();
    let token = tokens::create_with(
        public.dir.path(),
        "publisher",
        &orgs,
        Rights {
            write: true,
            manage: true,
        },
    )
    .unwrap();
    let publisher = machine(work.path(), "publisher");
    rt.block_on(rskill_test_support::seed::seed(
        &with_token(&public.url(), &token, &publisher.join("seed")),
        &ups,
    ))
    .unwrap();
    let key = publisher.join("key.pem");
    let public_key = publisher.join("key.pub.pem");
    let p = |args: &[&str]| {
        run(
            Path::new(PUBLISHER),
            args,
            &publisher,
            &public.url(),
            Some(&token),
        )
    };
    p(&[
        "keygen",
        "--out",
        key.to_str().unwrap(),
        "--public",
        public_key.to_str().unwrap(),
    ])
    .ok("keygen");
    let corpus_arg = corpus.to_str().unwrap();
    p(&[
        corpus_arg,
        "--publish",
        "--public",
        "--sign-key",
        key.to_str().unwrap(),
    ])
    .ok("publish");
    let skill = format!("{ORG}/rskill-{}", SLUGS[1]);
    let version = manifests[1].version.to_string();
    p(&[
        "alias",
        "set",
        &skill,
        "production",
        &version,
        "--reason",
        "air-gap test",
    ])
    .ok("alias set");

    // A fleet machine on the public side installs (signature required) and locks.
    let fleet = machine(work.path(), "fleet");
    let f = |args: &[&str]| run(Path::new(RSKILL), args, &fleet, &public.url(), None);
    f(&["trust", "add", ORG, "--key", public_key.to_str().unwrap()]).ok("trust");
    for slug in SLUGS {
        f(&[
            "install",
            &format!("{ORG}/rskill-{slug}"),
            "--no-smoke",
            "--yes",
        ])
        .ok("install");
    }
    f(&["lock"]).ok("lock");
    let lockfile = fleet.join("project").join("rskill.lock");
    assert!(lockfile.is_file());

    // Export on the connected side.
    let bundle = work.path().join("skills.tar");
    let ids: Vec<String> = SLUGS.iter().map(|s| format!("{ORG}/rskill-{s}")).collect();
    let mut args: Vec<&str> = vec!["export"];
    args.extend(ids.iter().map(String::as_str));
    args.extend([
        "--with-weights",
        "--out",
        bundle.to_str().unwrap(),
        "--json",
    ]);
    let out = f(&args).ok("export");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let repos: Vec<String> = report["repos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    for id in &ids {
        assert!(repos.contains(id), "{repos:?}");
    }
    for up in &ups {
        assert!(
            repos.contains(&up.repo.to_string()),
            "weights {} in {repos:?}",
            up.repo
        );
    }

    // Import on the air-gapped side (its server stopped while importing).
    let mut airgap = TestHub::start();
    let mut imported = None;
    airgap.while_stopped(|dir| imported = Some(hub_import(&bundle, dir)));
    let imported = imported.unwrap().ok("import");
    assert!(
        imported.stdout.contains("repos created"),
        "{}",
        imported.stdout
    );

    // Both Hubs agree, repo by repo.
    for repo in &repos {
        let a = describe(&rt, &public.url(), repo, &work.path().join("cmp-a"));
        let b = describe(&rt, &airgap.url(), repo, &work.path().join("cmp-b"));
        assert_eq!(a, b, "{repo} differs between the Hubs");
    }

    // A second import of the same bundle is a no-op.
    let mut before = Default::default();
    let mut again = None;
    airgap.while_stopped(|dir| {
        before = data_dir_listing(dir);
        again = Some(hub_import(&bundle, dir));
        assert_eq!(
            data_dir_listing(dir),
            before,
            "a re-import changed the data dir"
        );
    });
    let again = again.unwrap().ok("re-import");
    assert!(
        again.stdout.contains("already imported"),
        "{}",
        again.stdout
    );

    // A fleet behind the gap installs exactly the lockfile written against the public Hub.
    let robot = machine(work.path(), "robot");
    std::fs::copy(&lockfile, robot.join("project").join("rskill.lock")).unwrap();
    let r = |args: &[&str]| run(Path::new(RSKILL), args, &robot, &airgap.url(), None);
    r(&["trust", "add", ORG, "--key", public_key.to_str().unwrap()]).ok("trust");
    let out = r(&["install", "--locked", "--no-smoke", "--yes", "--json"]).ok("locked install");
    let installed: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    let text = installed.to_string();
    for id in &ids {
        assert!(text.contains(id.as_str()), "{id} installed: {text}");
    }
    let listed = r(&["list", "--json"]).ok("list");
    let listed: Value = serde_json::from_str(&listed.stdout).unwrap();
    let entries = listed["installed"].as_array().unwrap();
    assert_eq!(entries.len(), SLUGS.len(), "{listed}");
    for e in entries {
        assert_eq!(e["signature"]["verified"], true, "{e}");
    }
    // The alias made on the public Hub resolves the same behind the gap.
    let public_alias = f(&["info", &skill, "--json"]).ok("info public").stdout;
    let airgap_alias = r(&["info", &skill, "--json"]).ok("info airgap").stdout;
    let pick = |s: &str| -> Value {
        let v: Value = serde_json::from_str(s).unwrap();
        v["governance"].clone()
    };
    assert!(
        pick(&public_alias).to_string().contains("production"),
        "{public_alias}"
    );
    assert_eq!(pick(&public_alias), pick(&airgap_alias));

    // Incremental: a new version on the public Hub; `--since` carries only the new
    // commits, and the air-gapped Hub takes them.
    let yaml = corpus.join(SLUGS[0]).join("rskill.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    let old_version = manifests[0].version.to_string();
    let new_version = "9.9.9";
    std::fs::write(
        &yaml,
        text.replacen(
            &format!("version: {old_version}"),
            &format!("version: {new_version}"),
            1,
        ),
    )
    .unwrap();
    p(&[
        corpus.join(SLUGS[0]).to_str().unwrap(),
        "--publish",
        "--public",
        "--sign-key",
        key.to_str().unwrap(),
    ])
    .ok("publish the new version");
    let delta = work.path().join("delta.tar");
    let out = f(&[
        "export",
        &ids[0],
        "--with-weights",
        "--since",
        bundle.to_str().unwrap(),
        "--out",
        delta.to_str().unwrap(),
        "--json",
    ])
    .ok("incremental export");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(report["leftOutCommits"].as_u64().unwrap() > 0, "{report}");
    assert!(
        std::fs::metadata(&delta).unwrap().len() < std::fs::metadata(&bundle).unwrap().len() / 2,
        "the delta is small"
    );
    let mut imported = None;
    airgap.while_stopped(|dir| imported = Some(hub_import(&delta, dir)));
    imported.unwrap().ok("import the delta");
    let a = describe(&rt, &public.url(), &ids[0], &work.path().join("cmp-a"));
    let b = describe(&rt, &airgap.url(), &ids[0], &work.path().join("cmp-b"));
    assert_eq!(a, b, "after the delta");
    assert!(a["refs"].to_string().contains(&format!("v{new_version}")));
}

/// A bundle read back whole (test bundles are small): its metadata and its blobs.
fn read_back(bundle: &Path) -> (BundleMeta, HashMap<Sha256, Vec<u8>>) {
    let mut blobs = HashMap::new();
    let file = std::fs::File::open(bundle).unwrap();
    let verified = rskill_bundle::read_bundle(file, |sha, _, content| {
        let mut bytes = Vec::new();
        content.read_to_end(&mut bytes)?;
        blobs.insert(sha.clone(), bytes);
        Ok(())
    })
    .unwrap();
    (verified.meta, blobs)
}

/// Writes `meta` and every blob its commits name (from `blobs`) as a bundle at `out`.
fn write_back(meta: &BundleMeta, blobs: &HashMap<Sha256, Vec<u8>>, out: &Path) {
    let mut w = rskill_bundle::BundleWriter::new(Vec::new(), meta).unwrap();
    for (sha, size) in meta.blobs() {
        w.append_blob(&sha, size, blobs[&sha].as_slice()).unwrap();
    }
    std::fs::write(out, w.finish().unwrap().0).unwrap();
}

fn repo_mut<'a>(meta: &'a mut BundleMeta, id: &str) -> &'a mut RepoBundle {
    meta.repos.iter_mut().find(|r| r.id.as_str() == id).unwrap()
}

/// The commit `main` names in a bundle's repo.
fn main_commit<'a>(meta: &'a mut BundleMeta, id: &str) -> &'a mut BundleCommit {
    let repo = repo_mut(meta, id);
    let main = repo.refs.branches["main"].clone();
    repo.commits.iter_mut().find(|c| c.id == main).unwrap()
}

/// A data directory: created empty, or holding `bundle`.
fn target(root: &Path, name: &str, bundle: Option<&Path>) -> PathBuf {
    let dir = root.join(name);
    drop(rskill_hub::Store::open(&dir, Default::default()).unwrap());
    if let Some(b) = bundle {
        hub_import(b, &dir).ok("setting up the target");
    }
    dir
}

/// Imports `bundle` into `dir`, which must refuse it (exit 1) naming each of `expect`,
/// and leave the directory as it was.
fn refused(bundle: &Path, dir: &Path, extra: &[&str], expect: &[&str]) {
    let before = data_dir_listing(dir);
    let out = hub_import_with(bundle, dir, extra);
    assert_eq!(
        out.code, 1,
        "must be refused:\n{}{}",
        out.stdout, out.stderr
    );
    for x in expect {
        assert!(out.stderr.contains(x), "`{x}` not in:\n{}", out.stderr);
    }
    assert!(out.stderr.contains("hint:"), "{}", out.stderr);
    assert_eq!(data_dir_listing(dir), before, "{}", out.stderr);
}

#[test]
fn a_signed_governance_state_crosses_the_gap_and_tampered_bundles_are_refused() {
    const A: &str = "acme/rskill-gov-a";
    const B: &str = "acme/rskill-gov-b";
    let work = TempDir::new().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let source = TestHub::start();
    let token = tokens::create_with(
        source.dir.path(),
        "governor",
        &["acme".into()],
        Rights {
            write: true,
            manage: true,
        },
    )
    .unwrap();
    let key = PrivateKey::generate();
    let pem = work.path().join("governance.pub.pem");
    std::fs::write(&pem, key.public().pem()).unwrap();
    let pem = pem.to_str().unwrap().to_owned();
    let hub = with_token(&source.url(), &token, &work.path().join("hf"));
    let file = |path: &str, content: &[u8]| UploadFile {
        path_in_repo: path.into(),
        content: bytes::Bytes::copy_from_slice(content),
    };
    // Writes the registry file and its signed state `version` (releasing `releases`) to
    // `main` of `repo` through the commit API, as a governor with a manage token does.
    let govern = |repo: &RepoId, version: u64, releases: &[(&str, &str)]| {
        let registry = format!("{{\"format\": 1, \"version\": {version}}}\n").into_bytes();
        let sig = GovernanceState {
            repo: repo.to_string(),
            version,
            issued: "2026-12-01T00:00:00Z".into(),
            expires: "2099-12-31T00:00:00Z".into(),
            registry_sha256: registry_digest(&registry),
            history_length: version,
            releases: releases
                .iter()
                .map(|(v, c)| (v.to_string(), c.to_string()))
                .collect(),
            scans: Default::default(),
        }
        .sign(&key)
        .unwrap();
        rt.block_on(hub.commit(
            repo,
            vec![
                file(REGISTRY_FILE, &registry),
                file(GOVERNANCE_SIGNATURE_FILE, &sig),
            ],
            vec![],
            &format!("governance state {version}"),
            None,
        ))
        .unwrap()
    };
    // Two skills, each with a release v1.0.0 and a signed state 1 naming it.
    let mut released = HashMap::new();
    for id in [A, B] {
        let repo: RepoId = id.parse().unwrap();
        rt.block_on(hub.create_repo(&repo, false)).unwrap();
        let c1 = rt
            .block_on(hub.commit(
                &repo,
                vec![file("README.md", format!("# {id}\n").as_bytes())],
                vec![],
                "release 1.0.0",
                None,
            ))
            .unwrap();
        rt.block_on(hub.create_tag(&repo, "v1.0.0", &c1, "1.0.0"))
            .unwrap();
        govern(&repo, 1, &[("1.0.0", &c1)]);
        released.insert(id, c1);
    }

    // The export carries both states and names them in its metadata.
    let exporter = machine(work.path(), "exporter");
    let export = |out: &Path| {
        let run = run(
            Path::new(RSKILL),
            &["export", A, B, "--out", out.to_str().unwrap(), "--json"],
            &exporter,
            &source.url(),
            Some(&token),
        )
        .ok("export");
        serde_json::from_str::<Value>(&run.stdout).unwrap()
    };
    let first = work.path().join("first.tar");
    let report = export(&first);
    assert_eq!(report["governance"][A], 1, "{report}");
    assert_eq!(report["governance"][B], 1, "{report}");
    let (meta, blobs) = read_back(&first);
    let carried = main_commit(&mut meta.clone(), A).clone();
    assert!(
        carried
            .files
            .keys()
            .any(|p| p.as_str() == GOVERNANCE_SIGNATURE_FILE),
        "main's files: {:?}",
        carried.files.keys()
    );
    assert_eq!(
        repo_mut(&mut meta.clone(), A)
            .governance
            .as_ref()
            .unwrap()
            .version,
        1
    );

    // It imports, the states verified with the governance key.
    let clean = target(work.path(), "clean", None);
    let out = hub_import_with(&first, &clean, &["--governance-key", &pem]).ok("import");
    assert!(
        out.stdout.contains(&format!("{A}: signed state version 1")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("signature verified"), "{}", out.stdout);
    let unverified = target(work.path(), "unverified", None);
    let out = hub_import(&first, &unverified).ok("import without keys");
    assert!(
        out.stdout
            .contains("governance: consistent, signature not verified (no --governance-key)"),
        "{}",
        out.stdout
    );

    let tampered = |name: &str, change: &dyn Fn(&mut BundleMeta)| {
        let mut m = meta.clone();
        change(&mut m);
        let path = work.path().join(format!("{name}.tar"));
        write_back(&m, &blobs, &path);
        path
    };
    let fresh = |name: &str| target(work.path(), name, None);
    let c1 = released[A].clone();
    let main_a = repo_mut(&mut meta.clone(), A).refs.branches["main"].clone();
    // One tag added (a version the state never released).
    let added = tampered("added", &|m| {
        repo_mut(m, A)
            .refs
            .tags
            .insert("v6.6.6".into(), main_a.clone());
    });
    refused(
        &added,
        &fresh("t-added"),
        &[],
        &[A, "tag `v6.6.6`", "not a release"],
    );
    // One tag moved.
    let moved = tampered("moved", &|m| {
        repo_mut(m, A)
            .refs
            .tags
            .insert("v1.0.0".into(), main_a.clone());
    });
    refused(
        &moved,
        &fresh("t-moved"),
        &[],
        &[A, "tag `v1.0.0`", &format!("releases 1.0.0 at {c1}")],
    );
    // The state of another repo swapped in (its registry file and signature); A's tags
    // left out, so that no tag rule catches it before the repo rule.
    let b_files = main_commit(&mut meta.clone(), B).files.clone();
    let swapped = tampered("swapped", &|m| {
        repo_mut(m, A).refs.tags.clear();
        let files = &mut main_commit(m, A).files;
        for (path, f) in &b_files {
            if path.as_str() == REGISTRY_FILE || path.as_str() == GOVERNANCE_SIGNATURE_FILE {
                files.insert(path.clone(), f.clone());
            }
        }
        repo_mut(m, A).governance = None;
    });
    refused(
        &swapped,
        &fresh("t-swapped"),
        &[],
        &[A, &format!("signed for {B}"), "replayed on another repo"],
    );
    // The signature stripped: refused with a governance key.
    let stripped = tampered("stripped", &|m| {
        main_commit(m, A)
            .files
            .retain(|p, _| p.as_str() != GOVERNANCE_SIGNATURE_FILE);
        repo_mut(m, A).governance = None;
    });
    refused(
        &stripped,
        &fresh("t-stripped"),
        &["--governance-key", &pem],
        &[A, "without rskill.registry.sig", "must be signed"],
    );

    // The source moves on: release 1.1.0 and signed state 2. A newer target takes it.
    let repo_a: RepoId = A.parse().unwrap();
    let c2 = rt
        .block_on(hub.commit(
            &repo_a,
            vec![file("README.md", b"# 1.1.0\n")],
            vec![],
            "release 1.1.0",
            None,
        ))
        .unwrap();
    rt.block_on(hub.create_tag(&repo_a, "v1.1.0", &c2, "1.1.0"))
        .unwrap();
    govern(&repo_a, 2, &[("1.0.0", &c1), ("1.1.0", &c2)]);
    let second = work.path().join("second.tar");
    assert_eq!(export(&second)["governance"][A], 2);
    // An incremental export carries the new state (main moved) and takes the target
    // holding the first export from version 1 to 2; B's state, unchanged, stays where
    // the first bundle brought it.
    let delta = work.path().join("delta.tar");
    let report = serde_json::from_str::<Value>(
        &run(
            Path::new(RSKILL),
            &[
                "export",
                A,
                B,
                "--since",
                first.to_str().unwrap(),
                "--out",
                delta.to_str().unwrap(),
                "--json",
            ],
            &exporter,
            &source.url(),
            Some(&token),
        )
        .ok("incremental export")
        .stdout,
    )
    .unwrap();
    assert_eq!(report["governance"][A], 2, "{report}");
    assert_eq!(report["governance"][B], 1, "{report}");
    let (mut delta_meta, delta_blobs) = read_back(&delta);
    let delta_main = main_commit(&mut delta_meta, A).clone();
    let sig = &delta_main.files[&GOVERNANCE_SIGNATURE_FILE.parse().unwrap()];
    assert!(
        delta_blobs.contains_key(&sig.sha256),
        "the new signature travels"
    );
    assert!(repo_mut(&mut delta_meta, B).commits.is_empty());
    let out = hub_import_with(&delta, &clean, &["--governance-key", &pem]).ok("import the delta");
    assert!(
        out.stdout.contains(&format!(
            "{A}: signed state version 2 (the target held version 1)"
        )),
        "{}",
        out.stdout
    );
    let newer = target(work.path(), "newer", Some(&second));
    // The older export as it is: its `main` is behind the target's.
    refused(&first, &newer, &[], &[A, "does not descend"]);
    // The older export's registry file and signature on a commit made to follow the
    // target's `main` (commit ids are not recomputable, so nothing else stops it).
    let (mut meta2, mut blobs2) = read_back(&second);
    blobs2.extend(blobs.clone());
    let old_files = carried.files.clone();
    let head = main_commit(&mut meta2, A).clone();
    let forged: CommitId = "f0".repeat(20).parse().unwrap();
    let mut files = head.files.clone();
    for (path, f) in &old_files {
        if path.as_str() == REGISTRY_FILE || path.as_str() == GOVERNANCE_SIGNATURE_FILE {
            files.insert(path.clone(), f.clone());
        }
    }
    let repo = repo_mut(&mut meta2, A);
    repo.commits.push(BundleCommit {
        id: forged.clone(),
        parents: vec![head.id.clone()],
        files,
        ..head
    });
    repo.refs.branches.insert("main".into(), forged);
    repo.refs.tags.remove("v1.1.0");
    repo.governance = None;
    let rolled_back = work.path().join("rolled-back.tar");
    write_back(&meta2, &blobs2, &rolled_back);
    refused(
        &rolled_back,
        &newer,
        &[],
        &[
            A,
            "version 1, the target holds version 2",
            "never goes back",
        ],
    );

    // A registry file edited on the source without signing: export refuses it already.
    rt.block_on(hub.commit(
        &repo_a,
        vec![file(REGISTRY_FILE, b"{\"format\": 1, \"edited\": true}\n")],
        vec![],
        "edit the registry file without signing",
        None,
    ))
    .unwrap();
    let out = run(
        Path::new(RSKILL),
        &[
            "export",
            A,
            "--out",
            work.path().join("x.tar").to_str().unwrap(),
        ],
        &exporter,
        &source.url(),
        Some(&token),
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(A) && out.stderr.contains("changed without signing"),
        "{}",
        out.stderr
    );
}

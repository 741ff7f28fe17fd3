//! Signed skills (OMS signatures, issue 15), end to end against an in-process
//! `rskill-hub`: the publisher signs (model.sig and weights.lock.json in the publish
//! commit) and a fleet that trusts the key installs; then each fault of the issue's
//! point 6 — a flipped byte in the manifest, in a weight file, in the signature, a
//! signature by an untrusted key, a file added or removed after signing, a weights lock
//! pointing at another commit, and a Hub that lists other weights than the signed lock —
//! is refused with a message naming it, leaving nothing registered and no blob of the
//! rejected file in the cache. Plus the policy (`OPENRAL_REQUIRE_SIGNED_SKILLS`, `warn`),
//! `rskill trust`, and `rskill verify` on a folder and on the Hub.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use rskill::install::{self, InstallError, InstallOptions, InstallReport, InstallUi, id};
use rskill::registry;
use rskill::trust::{Mode, Policy, TrustFile};
use rskill_hub_client::write::UploadFile;
use rskill_hub_client::{HubClient, HubEnv, RepoId, Token, TokenSource};
use rskill_signing::folder::{Resource, sort_canonical};
use rskill_signing::weights_lock::{LockedFile, WeightsLock};
use rskill_signing::{PrivateKey, bundle, statement};
use rskill_test_support::fixtures::{self, Dtype};
use rskill_test_support::paths::corpus_dir;
use rskill_test_support::test_hub::{TestHub, sha256_hex};
use tempfile::TempDir;

const RSKILL: &str = env!("CARGO_BIN_EXE_rskill");

struct Quiet(std::sync::Mutex<Vec<String>>);

impl InstallUi for Quiet {
    fn say(&self, line: &str) {
        self.0.lock().unwrap().push(line.to_string());
    }
    fn confirm(&self, _q: &str) -> bool {
        false
    }
    fn start_downloads(&self, _f: usize, _t: u64) -> Arc<dyn Fn(u64) + Send + Sync> {
        Arc::new(|_| {})
    }
}

struct Fx {
    hub: TestHub,
    writer: HubClient,
    work: TempDir,
    rt: tokio::runtime::Runtime,
    key: PrivateKey,
}

fn client_at(endpoint: &str, token: Option<&str>, hf_home: &Path) -> HubClient {
    HubClient::new(HubEnv {
        endpoint: endpoint.to_string(),
        token: token.map(|t| (Token::new(t).unwrap(), TokenSource::EnvVar)),
        hub_cache: hf_home.join("hub"),
        hf_home: hf_home.to_path_buf(),
        offline: false,
        disable_progress_bars: true,
        download_timeout: rskill_hub_client::env::DEFAULT_DOWNLOAD_TIMEOUT,
    })
    .unwrap()
}

fn weights_files(seed: u64) -> Vec<(String, Vec<u8>)> {
    let tensors = [("policy.w", Dtype::F32, vec![32, 16])];
    vec![
        (
            "model.safetensors".into(),
            fixtures::safetensors_bytes(&tensors, seed),
        ),
        (
            "config.json".into(),
            format!("{{\"seed\": {seed}}}\n").into_bytes(),
        ),
    ]
}

fn skill_files(repo: &str) -> Vec<(String, Vec<u8>)> {
    let manifest = rskill_test_support::paths::manifest_from_corpus(
        "rtdetr-coco-detector",
        &[
            ("name: ", repo),
            ("license: ", "apache-2.0"),
            ("runtime: ", "pytorch"),
            ("weights_uri: ", "hf://acme/w"),
        ],
    );
    vec![
        ("rskill.yaml".into(), manifest.into_bytes()),
        (
            "README.md".into(),
            format!("---\nlicense: other\n---\n# {repo}\n").into_bytes(),
        ),
        ("eval/sim.json".into(), br#"{"success_rate": 0.5}"#.to_vec()),
    ]
}

impl Fx {
    fn new() -> Fx {
        let hub = TestHub::start();
        let work = tempfile::tempdir().unwrap();
        let writer = client_at(&hub.url(), Some(&hub.alice), &work.path().join("writer"));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let fx = Fx {
            hub,
            writer,
            work,
            rt,
            key: PrivateKey::generate(),
        };
        fx.commit("acme/w", weights_files(1), &[], true);
        fx
    }

    fn hf_home(&self) -> PathBuf {
        self.work.path().join("hf")
    }

    fn data_dir(&self) -> PathBuf {
        self.work.path().join("data")
    }

    fn registry(&self) -> PathBuf {
        self.data_dir().join(registry::REGISTRY_FILE)
    }

    fn commit(
        &self,
        repo: &str,
        files: Vec<(String, Vec<u8>)>,
        deletes: &[&str],
        create: bool,
    ) -> String {
        let id: RepoId = repo.parse().unwrap();
        self.rt.block_on(async {
            if create {
                self.writer.create_repo(&id, false).await.unwrap();
            }
            let uploads = files
                .into_iter()
                .map(|(path_in_repo, b)| UploadFile {
                    path_in_repo,
                    content: Bytes::from(b),
                })
                .collect();
            let deletes = deletes.iter().map(|d| d.to_string()).collect();
            self.writer
                .commit(&id, uploads, deletes, "test", None)
                .await
                .unwrap()
        })
    }

    /// The lock the publisher would write for acme/w now.
    fn lock_now(&self) -> WeightsLock {
        let id: RepoId = "acme/w".parse().unwrap();
        let info = self.rt.block_on(self.writer.repo_info(&id, None)).unwrap();
        let files = weights_files(1)
            .iter()
            .map(|(p, b)| LockedFile {
                path: p.clone(),
                size: b.len() as u64,
                sha256: sha256_hex(b),
            })
            .collect();
        WeightsLock {
            version: 1,
            repo: "acme/w".into(),
            commit: info.sha.to_string(),
            files,
            processors: Vec::new(),
        }
    }

    /// Creates `acme/rskill-<name>` holding the skill files, `lock` and a signature by
    /// `key` over them, as the publisher makes it.
    fn signed_skill(&self, name: &str, lock: &WeightsLock, key: &PrivateKey) -> String {
        let repo = format!("acme/rskill-{name}");
        self.signed_repo(&repo, skill_files(&repo), lock, key);
        repo
    }

    /// Creates `repo` holding `files`, `lock` and a signature by `key` over them.
    fn signed_repo(
        &self,
        repo: &str,
        mut files: Vec<(String, Vec<u8>)>,
        lock: &WeightsLock,
        key: &PrivateKey,
    ) {
        files.push(("weights.lock.json".into(), lock.to_json()));
        let mut resources: Vec<Resource> = files
            .iter()
            .map(|(p, b)| Resource {
                name: p.clone(),
                sha256: sha256_hex(b),
            })
            .collect();
        sort_canonical(&mut resources);
        let sig = bundle::sign(&statement::build(repo, &resources), key)
            .unwrap()
            .to_json();
        files.push(("model.sig".into(), sig));
        self.commit(repo, files, &[], true);
    }

    fn policy(&self, mode: Mode) -> Policy {
        let mut f = TrustFile::default();
        f.add(
            "acme",
            &self.key.public(),
            Some("acme-release".into()),
            mode,
            &[rskill::trust::Role::Skills].into(),
        );
        Policy::from_files(&[f], false)
    }

    fn install(&self, repo: &str, trust: Policy) -> (Result<InstallReport, InstallError>, String) {
        let client = client_at(&self.hub.url(), None, &self.hf_home());
        let opts = InstallOptions {
            registry_path: Some(self.registry()),
            trust,
            ..InstallOptions::default()
        };
        let ui = Quiet(Default::default());
        let target = id::parse(repo, &[]).unwrap();
        let r = self
            .rt
            .block_on(install::install(&client, &target, &opts, &ui));
        let said = ui.0.lock().unwrap().join("\n");
        (r, said)
    }

    /// Names of every blob in the installer's cache for `repo`.
    fn cached_blobs(&self, repo: &str) -> Vec<String> {
        let dir = self
            .hf_home()
            .join("hub")
            .join(format!("models--{}", repo.replace('/', "--")))
            .join("blobs");
        std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn bin(&self, args: &[&str], vars: &[(&str, &str)]) -> (i32, String, String) {
        let mut cmd = Command::new(RSKILL);
        cmd.args(args)
            .current_dir(self.work.path())
            .env("HF_ENDPOINT", self.hub.url())
            .env("HF_HOME", self.hf_home())
            .env("RSKILL_DATA_DIR", self.data_dir())
            .env("HF_TOKEN_PATH", "/nonexistent")
            .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            .env_remove("HF_TOKEN")
            .env_remove("HF_HUB_CACHE")
            .env_remove("OPENRAL_REQUIRE_SIGNED_SKILLS")
            .stdin(std::process::Stdio::null());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn assert_nothing_installed(&self) {
        assert!(!self.registry().exists(), "nothing registered");
    }
}

fn refused(r: Result<InstallReport, InstallError>) -> String {
    match r {
        Ok(rep) => panic!("installed {} although it must be refused", rep.entry.repo),
        Err(e) => format!("{e} (hint: {})", e.hint().unwrap_or_default()),
    }
}

#[test]
fn a_signed_skill_installs_and_reports_its_key() {
    let fx = Fx::new();
    let repo = fx.signed_skill("ok", &fx.lock_now(), &fx.key);
    let (r, said) = fx.install(&repo, fx.policy(Mode::Require));
    let rep = r.unwrap_or_else(|e| panic!("{e}\n{said}"));
    let sig = &rep.entry.signature;
    assert!(sig.signed && sig.verified && sig.weights_locked, "{sig:?}");
    assert_eq!(sig.key_id.as_deref(), Some(fx.key.public().id()));
    assert_eq!(sig.key_name.as_deref(), Some("acme-release"));
    assert!(said.contains("signature verified"), "{said}");

    // `rskill info` shows it, from the registry.
    let (code, out, err) = fx.bin(&["info", &repo], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("signed:   verified, key {}", fx.key.public().id())),
        "{out}"
    );
}

#[test]
fn status_and_alias_changes_after_signing_keep_the_skill_installable() {
    use rskill::lifecycle::remote::{self, Op};
    use rskill::lifecycle::{Seen, model::parse_version};
    let fx = Fx::new();
    let repo = fx.signed_skill("governed", &fx.lock_now(), &fx.key);
    let id: RepoId = repo.parse().unwrap();
    let yaml = String::from_utf8(skill_files(&repo)[0].1.clone()).unwrap();
    let version = yaml
        .lines()
        .find_map(|l| l.strip_prefix("version: "))
        .unwrap()
        .trim()
        .to_string();
    let manager = rskill_hub::tokens::create_with(
        fx.hub.dir.path(),
        "maria",
        &["acme".into()],
        rskill_hub::tokens::Rights {
            write: true,
            manage: true,
        },
    )
    .unwrap();
    let client = client_at(&fx.hub.url(), Some(&manager), &fx.work.path().join("maria"));
    fx.rt.block_on(async {
        let main = fx.writer.repo_info(&id, None).await.unwrap().sha;
        fx.writer
            .create_tag(&id, &format!("v{version}"), main.as_str(), "release")
            .await
            .unwrap();
        // The registry file lands on main after the signature was made.
        let op = Op::AliasSet {
            alias: "production".into(),
            version: parse_version(&version).unwrap(),
        };
        let seen = Seen::at(fx.work.path().join("seen"));
        remote::change(&client, &seen, &id, &op, "promoted", None)
            .await
            .unwrap();
    });
    let (r, said) = fx.install(&format!("{repo}@production"), fx.policy(Mode::Require));
    let rep = r.unwrap_or_else(|e| panic!("{e}\n{said}"));
    assert!(rep.entry.signature.verified, "{said}");
    let (r, said) = fx.install(&repo, fx.policy(Mode::Require));
    r.unwrap_or_else(|e| panic!("{e}\n{said}"));
    // main itself now holds the registry file beside the signed files: governance
    // state is outside the signed set (it changes after every release by design).
    let (r, said) = fx.install(&format!("{repo}@main"), fx.policy(Mode::Require));
    r.unwrap_or_else(|e| panic!("{e}\n{said}"));
}

#[test]
fn a_flipped_byte_in_the_manifest_is_refused_before_it_is_read() {
    let fx = Fx::new();
    let repo = fx.signed_skill("manifest", &fx.lock_now(), &fx.key);
    let mut yaml = skill_files(&repo)[0].1.clone();
    let at = yaml.len() / 2;
    yaml[at] ^= 0x01;
    fx.commit(&repo, vec![("rskill.yaml".into(), yaml)], &[], false);
    let err = refused(fx.install(&repo, fx.policy(Mode::Require)).0);
    assert!(
        err.contains("rskill.yaml: content changed after signing"),
        "{err}"
    );
    fx.assert_nothing_installed();
    assert!(
        fx.cached_blobs(&repo).is_empty(),
        "{:?}",
        fx.cached_blobs(&repo)
    );
}

#[test]
fn a_flipped_byte_in_a_weight_file_is_refused_and_not_cached() {
    let fx = Fx::new();
    let lock = fx.lock_now();
    let repo = fx.signed_skill("weights", &lock, &fx.key);
    let sha = lock.file("model.safetensors").unwrap().sha256.clone();
    let blob = walk(fx.hub.dir.path())
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == sha.as_str()))
        .expect("the server's blob");
    let mut bytes = std::fs::read(&blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&blob, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::write(&blob, &bytes).unwrap();
    let err = refused(fx.install(&repo, fx.policy(Mode::Require)).0);
    assert!(
        err.contains("acme/w/model.safetensors: does not match the signed weights lock"),
        "{err}"
    );
    fx.assert_nothing_installed();
    let left = fx.cached_blobs("acme/w");
    assert!(
        !left
            .iter()
            .any(|n| n.starts_with(&sha) || n.starts_with(&sha256_hex(&bytes))),
        "{left:?}"
    );
}

#[test]
fn a_hub_listing_other_weights_than_the_signed_lock_is_refused_before_download() {
    let fx = Fx::new();
    let mut lock = fx.lock_now();
    // The signed lock pins other content than what the Hub now lists and serves
    // (as when an attacker swaps the weights and their metadata together).
    let locked = lock
        .files
        .iter_mut()
        .find(|f| f.path == "model.safetensors")
        .unwrap();
    locked.sha256 = sha256_hex(b"the weights the author signed");
    let repo = fx.signed_skill("swapped", &lock, &fx.key);
    let err = refused(fx.install(&repo, fx.policy(Mode::Require)).0);
    assert!(
        err.contains("acme/w/model.safetensors: the Hub lists sha256"),
        "{err}"
    );
    assert!(err.contains("but the signed lock pins"), "{err}");
    fx.assert_nothing_installed();
    assert!(
        fx.cached_blobs("acme/w").is_empty(),
        "{:?}",
        fx.cached_blobs("acme/w")
    );
}

#[test]
fn a_flipped_byte_in_the_signature_is_refused() {
    let fx = Fx::new();
    let repo = fx.signed_skill("sig", &fx.lock_now(), &fx.key);
    let id: RepoId = repo.parse().unwrap();
    let sig = fx
        .rt
        .block_on(fx.writer.read_file(&id, "main", "model.sig"))
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&sig).unwrap();
    let s = v["dsseEnvelope"]["signatures"][0]["sig"]
        .as_str()
        .unwrap()
        .to_string();
    let mut b = s.into_bytes();
    b[20] = if b[20] == b'A' { b'B' } else { b'A' };
    v["dsseEnvelope"]["signatures"][0]["sig"] = String::from_utf8(b).unwrap().into();
    fx.commit(
        &repo,
        vec![("model.sig".into(), serde_json::to_vec(&v).unwrap())],
        &[],
        false,
    );
    let err = refused(fx.install(&repo, fx.policy(Mode::Require)).0);
    assert!(
        err.contains("model.sig: signature does not verify"),
        "{err}"
    );
    fx.assert_nothing_installed();
    assert!(fx.cached_blobs(&repo).is_empty());
}

#[test]
fn a_signature_by_an_untrusted_key_is_refused_and_names_the_key() {
    let fx = Fx::new();
    let stranger = PrivateKey::generate();
    let repo = fx.signed_skill("stranger", &fx.lock_now(), &stranger);
    let err = refused(fx.install(&repo, fx.policy(Mode::Require)).0);
    assert!(
        err.contains(&format!(
            "signed by key {}, which is not trusted",
            stranger.public().id()
        )),
        "{err}"
    );
    assert!(err.contains("rskill trust add"), "{err}");
    fx.assert_nothing_installed();

    // With a `warn` policy it installs, unverified, with a warning.
    let (r, said) = fx.install(&repo, fx.policy(Mode::Warn));
    let rep = r.unwrap();
    assert!(rep.entry.signature.signed && !rep.entry.signature.verified);
    assert!(said.contains("signature not verified"), "{said}");
}

#[test]
fn a_file_added_after_signing_is_refused() {
    let fx = Fx::new();
    let repo = fx.signed_skill("added", &fx.lock_now(), &fx.key);
    fx.commit(
        &repo,
        vec![("run.py".into(), b"import os\n".to_vec())],
        &[],
        false,
    );
    let err = refused(fx.install(&repo, fx.policy(Mode::Require)).0);
    assert!(
        err.contains("run.py: present but not signed (added after signing)"),
        "{err}"
    );
    fx.assert_nothing_installed();
    assert!(fx.cached_blobs(&repo).is_empty());
}

#[test]
fn a_file_removed_after_signing_is_refused() {
    let fx = Fx::new();
    let repo = fx.signed_skill("removed", &fx.lock_now(), &fx.key);
    fx.commit(&repo, Vec::new(), &["eval/sim.json"], false);
    let err = refused(fx.install(&repo, fx.policy(Mode::Require)).0);
    assert!(err.contains("eval/sim.json: signed but missing"), "{err}");
    fx.assert_nothing_installed();
}

#[test]
fn a_weights_lock_pointing_at_another_commit_is_refused() {
    let fx = Fx::new();
    let repo = fx.signed_skill("moved", &fx.lock_now(), &fx.key);
    // The upstream moves on: weights_uri (unpinned) now resolves to another commit.
    fx.commit(
        "acme/w",
        vec![("notes.txt".into(), b"v2".to_vec())],
        &[],
        false,
    );
    let err = refused(fx.install(&repo, fx.policy(Mode::Require)).0);
    assert!(err.contains("weights.lock.json: pins acme/w@"), "{err}");
    assert!(err.contains("but weights_uri resolves to acme/w@"), "{err}");
    fx.assert_nothing_installed();
    assert!(fx.cached_blobs("acme/w").is_empty());
}

#[test]
fn unsigned_skills_are_refused_when_the_fleet_requires_signatures() {
    let fx = Fx::new();
    let repo = "acme/rskill-plain";
    fx.commit(repo, skill_files(repo), &[], true);
    let (code, _, err) = fx.bin(
        &["install", repo],
        &[("OPENRAL_REQUIRE_SIGNED_SKILLS", "1")],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("acme/rskill-plain is not signed, and the trust policy requires"),
        "{err}"
    );
    fx.assert_nothing_installed();
    // Without the switch and without a policy it installs as before.
    let (code, _, err) = fx.bin(&["install", repo, "--no-smoke"], &[]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn trust_cli_adds_lists_and_removes_keys_and_install_uses_them() {
    let fx = Fx::new();
    let repo = fx.signed_skill("cli", &fx.lock_now(), &fx.key);
    let pub_pem = fx.work.path().join("pub.pem");
    std::fs::write(&pub_pem, fx.key.public().pem()).unwrap();
    let rotated = PrivateKey::generate();
    let rotated_pem = fx.work.path().join("rotated.pem");
    std::fs::write(&rotated_pem, rotated.public().pem()).unwrap();
    let p = pub_pem.to_str().unwrap();

    // An untrusted key first: refused under the env switch.
    let (code, _, err) = fx.bin(
        &["install", &repo],
        &[("OPENRAL_REQUIRE_SIGNED_SKILLS", "1")],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("which is not trusted"), "{err}");

    let (code, _, err) = fx.bin(
        &["trust", "add", "acme", "--key", p, "--name", "release-2026"],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = fx.bin(
        &[
            "trust",
            "add",
            "acme",
            "--key",
            rotated_pem.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = fx.bin(&["trust", "list", "--json"], &[]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["orgs"]["acme"]["mode"], "require");
    assert_eq!(
        v["orgs"]["acme"]["keys"].as_array().unwrap().len(),
        2,
        "{out}"
    );

    let (code, out, err) = fx.bin(&["install", &repo, "--json"], &[]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["signature"]["verified"], true, "{out}");
    assert_eq!(v["signature"]["key_name"], "release-2026", "{out}");

    let (code, _, err) = fx.bin(&["trust", "remove", "acme", "--key", "release-2026"], &[]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = fx.bin(&["trust", "list", "--json"], &[]);
    assert_eq!(code, 0);
    assert!(!out.contains(fx.key.public().id()), "{out}");
    // A bad key file is a usage error naming it.
    let (code, _, err) = fx.bin(&["trust", "add", "acme", "--key", "/nonexistent.pem"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent.pem"), "{err}");
}

#[test]
fn a_project_trust_file_is_honoured() {
    let fx = Fx::new();
    let repo = fx.signed_skill("project", &fx.lock_now(), &fx.key);
    let mut f = TrustFile::default();
    f.add(
        "acme",
        &fx.key.public(),
        Some("fleet".into()),
        Mode::Require,
        &[rskill::trust::Role::Skills].into(),
    );
    f.save(&fx.work.path().join("rskill-trust.json")).unwrap();
    let (code, out, err) = fx.bin(&["install", &repo, "--json"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"key_name\": \"fleet\""), "{out}");
}

#[test]
fn verify_checks_a_hub_skill_and_a_folder() {
    let fx = Fx::new();
    let repo = fx.signed_skill("verify", &fx.lock_now(), &fx.key);
    let pub_pem = fx.work.path().join("pub.pem");
    std::fs::write(&pub_pem, fx.key.public().pem()).unwrap();
    let p = pub_pem.to_str().unwrap();
    let (code, out, err) = fx.bin(&["verify", &repo, "--key", p, "--json"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["files"], 4);
    assert_eq!(v["weight_files"], 2);
    // Without the key: not trusted, exit 1.
    let (code, out, _) = fx.bin(&["verify", &repo], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not trusted"), "{out}");

    // The upstream moves: the lock no longer matches what weights_uri resolves to.
    fx.commit(
        "acme/w",
        vec![("notes.txt".into(), b"v2".to_vec())],
        &[],
        false,
    );
    let (code, out, _) = fx.bin(&["verify", &repo, "--key", p], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("weights.lock.json: pins acme/w@"), "{out}");

    // A folder.
    let dir = fx.work.path().join("folder");
    std::fs::create_dir_all(dir.join("eval")).unwrap();
    for (path, bytes) in skill_files("acme/rskill-folder") {
        std::fs::write(dir.join(&path), bytes).unwrap();
    }
    let sig = rskill_signing::sign_folder(&dir, "acme/rskill-folder", &fx.key).unwrap();
    std::fs::write(dir.join("model.sig"), sig).unwrap();
    let d = dir.to_str().unwrap();
    let (code, out, err) = fx.bin(&["verify", d, "--key", p], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("verified, key"), "{out}");
    std::fs::write(dir.join("extra.txt"), "x").unwrap();
    let (code, out, _) = fx.bin(&["verify", d, "--key", p, "--json"], &[]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["problems"][0]
            .as_str()
            .unwrap()
            .contains("extra.txt: present but not signed"),
        "{out}"
    );
}

#[test]
fn the_publisher_signs_and_a_fleet_that_trusts_the_key_installs() {
    publish_signed_then_install("rtdetr-coco-detector");
}

#[test]
fn the_publisher_pins_processors_in_the_lock() {
    let (fx, name) = publish_signed_then_install("diffusion-pusht");
    let id: RepoId = name.parse().unwrap();
    let bytes = fx
        .rt
        .block_on(fx.writer.read_file(&id, "main", "weights.lock.json"))
        .unwrap();
    let lock = WeightsLock::parse(&bytes).unwrap();
    let mut paths: Vec<&str> = lock.processors.iter().map(|p| p.path.as_str()).collect();
    paths.sort();
    assert_eq!(
        paths,
        ["policy_postprocessor.json", "policy_preprocessor.json"],
        "{lock:?}"
    );
    assert!(
        lock.processors
            .iter()
            .all(|p| p.repo == "lerobot/diffusion_pusht" && p.commit.len() == 40),
        "{lock:?}"
    );
}

/// Publishes the corpus skill `slug` signed (its upstreams seeded) and installs it
/// under a policy that requires the key.
fn publish_signed_then_install(slug: &str) -> (Fx, String) {
    let fx = Fx::new();
    let path = corpus_dir().join(slug).join("rskill.yaml");
    let m =
        rskill_manifest::validate::parse_valid(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let ups = rskill_test_support::seed::upstreams(std::slice::from_ref(&m)).unwrap();
    let orgs: Vec<String> = ups
        .iter()
        .map(|u| u.repo.org().to_string())
        .chain([m.name.split('/').next().unwrap().to_string()])
        .collect();
    let token = rskill_hub::tokens::create(fx.hub.dir.path(), "publisher", &orgs, true).unwrap();
    let publisher = client_at(&fx.hub.url(), Some(&token), &fx.work.path().join("pub"));
    fx.rt
        .block_on(rskill_test_support::seed::seed(&publisher, &ups))
        .unwrap();
    let opts = rskill::publish::PublishOptions {
        public: true,
        sign_key: Some(fx.key.clone()),
        ..Default::default()
    };
    let plan = rskill::publish::plan(&path, &opts);
    let outcome = fx
        .rt
        .block_on(rskill::publish::publish(&publisher, &plan, &opts));
    assert_eq!(
        outcome.result,
        rskill::publish::PublishStatus::Published,
        "{}",
        outcome.message
    );
    assert!(outcome.message.contains("signed"), "{}", outcome.message);
    // Publishing again with the same key: same signature, nothing to commit.
    let again = fx
        .rt
        .block_on(rskill::publish::publish(&publisher, &plan, &opts));
    assert_eq!(
        again.result,
        rskill::publish::PublishStatus::Unchanged,
        "{}",
        again.message
    );

    let org = m.name.split('/').next().unwrap();
    let mut f = TrustFile::default();
    f.add(
        org,
        &fx.key.public(),
        None,
        Mode::Require,
        &[rskill::trust::Role::Skills].into(),
    );
    let (r, said) = fx.install(&m.name, Policy::from_files(&[f], false));
    let rep = r.unwrap_or_else(|e| panic!("{e}\n{said}"));
    assert!(
        rep.entry.signature.verified
            && rep.entry.signature.weights_locked
            && rep.entry.signature.unpinned.is_empty(),
        "{:?}",
        rep.entry.signature
    );
    (fx, m.name)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if std::fs::symlink_metadata(&p).unwrap().is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn search_json_reports_signed_skills_and_their_key() {
    let fx = Fx::new();
    let signed = fx.signed_skill("searched", &fx.lock_now(), &fx.key);
    let plain = "acme/rskill-plainsearch";
    fx.commit(plain, skill_files(plain), &[], true);
    let (code, out, err) = fx.bin(&["search", "--author", "acme", "--json"], &[]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let hits = v["hits"]
        .as_array()
        .or(v.as_array())
        .unwrap_or_else(|| panic!("{out}"));
    let hit = |id: &str| {
        hits.iter()
            .find(|h| h["repo_id"] == id)
            .unwrap_or_else(|| panic!("{id} not in {out}"))
            .clone()
    };
    assert_eq!(hit(&signed)["signed"], true, "{out}");
    assert_eq!(hit(&signed)["key_id"], fx.key.public().id(), "{out}");
    assert_eq!(hit(plain)["signed"], false, "{out}");
    assert!(hit(plain).get("key_id").is_none(), "{out}");
}

#[test]
fn a_signed_skill_reinstalls_offline_from_the_cache_still_verified() {
    let fx = Fx::new();
    let repo = fx.signed_skill("offline", &fx.lock_now(), &fx.key);
    let (code, _, err) = fx.bin(&["install", &repo], &[]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_file(fx.registry()).unwrap();
    let pub_pem = fx.work.path().join("pub.pem");
    std::fs::write(&pub_pem, fx.key.public().pem()).unwrap();
    let (code, _, err) = fx.bin(
        &["trust", "add", "acme", "--key", pub_pem.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = fx.bin(&["install", &repo, "--json"], &[("HF_HUB_OFFLINE", "1")]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["signature"]["verified"], true, "{out}");
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rskill-publisher"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["keygen", "--out", key.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let private = PrivateKey::read(&key).unwrap();
    assert_eq!(private.public().id(), id);
    let public = rskill_signing::PublicKey::read(&dir.path().join("k.pub.pem")).unwrap();
    assert_eq!(public.id(), id);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again = run(&["keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        PrivateKey::read(&key).unwrap().public().id(),
        id,
        "the key was kept"
    );
}

#[test]
fn another_repos_signed_files_copied_in_are_refused_by_their_subject() {
    let fx = Fx::new();
    let one = fx.signed_skill("one", &fx.lock_now(), &fx.key);
    let two = fx.signed_skill("two", &fx.lock_now(), &fx.key);
    // Every file of `one`, its signature included, copied over `two`'s.
    let id: RepoId = one.parse().unwrap();
    let copied: Vec<(String, Vec<u8>)> = [
        "rskill.yaml",
        "README.md",
        "eval/sim.json",
        "weights.lock.json",
        "model.sig",
    ]
    .iter()
    .map(|p| {
        let b = fx.rt.block_on(fx.writer.read_file(&id, "main", p)).unwrap();
        (p.to_string(), b.to_vec())
    })
    .collect();
    fx.commit(&two, copied.clone(), &[], false);

    let err = refused(fx.install(&two, fx.policy(Mode::Require)).0);
    assert!(
        err.contains(&format!(
            "model.sig: the signature is for the model \"{one}\", not for {two}"
        )),
        "{err}"
    );
    fx.assert_nothing_installed();
    // Even when signatures are only wanted (warn): a verified signature for another
    // model is a fault, not a missing signature.
    let err = refused(fx.install(&two, fx.policy(Mode::Warn)).0);
    assert!(err.contains("the signature is for the model"), "{err}");

    let pub_pem = fx.work.path().join("pub.pem");
    std::fs::write(&pub_pem, fx.key.public().pem()).unwrap();
    let p = pub_pem.to_str().unwrap();
    let (code, out, err) = fx.bin(&["verify", &two, "--key", p, "--json"], &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!("the signature is for the model \\\"{one}\\\"")),
        "{out}"
    );
    // The original still verifies.
    let (code, out, err) = fx.bin(&["verify", &one, "--key", p], &[]);
    assert_eq!(code, 0, "{out}{err}");

    // A folder: the subject is compared with the manifest's name.
    let dir = fx.work.path().join("copied");
    std::fs::create_dir_all(dir.join("eval")).unwrap();
    for (path, bytes) in skill_files(&two) {
        std::fs::write(dir.join(&path), bytes).unwrap();
    }
    let sig = rskill_signing::sign_folder(&dir, &one, &fx.key).unwrap();
    std::fs::write(dir.join("model.sig"), sig).unwrap();
    let (code, out, _) = fx.bin(&["verify", dir.to_str().unwrap(), "--key", p], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("not for {two} (the manifest's name)")),
        "{out}"
    );
}

/// The processor repo's files and the pins a lock gives them at `commit`.
fn processor_files() -> Vec<(String, Vec<u8>)> {
    vec![
        ("pre.json".into(), br#"{"normalize": [0.5, 0.5]}"#.to_vec()),
        (
            "post.json".into(),
            br#"{"unnormalize": [2.0, 2.0]}"#.to_vec(),
        ),
    ]
}

/// A skill whose manifest names processors in `acme/p` (at its `main`).
fn skill_files_with_processors(repo: &str) -> Vec<(String, Vec<u8>)> {
    let mut files = skill_files(repo);
    let yaml = rskill_test_support::paths::manifest_from_corpus(
        "diffusion-pusht",
        &[
            ("name: ", repo),
            ("weights_uri: ", "hf://acme/w"),
            ("  preprocessor_uri: ", "hf://acme/p/pre.json"),
            ("  postprocessor_uri: ", "hf://acme/p/post.json"),
        ],
    );
    rskill_manifest::validate::parse_valid(&yaml).expect("a valid manifest with processors");
    files[0].1 = yaml.into_bytes();
    files
}

impl Fx {
    /// `acme/p` with the processor files; the lock's pins for them.
    fn processors_repo(&self) -> Vec<rskill_signing::weights_lock::LockedProcessor> {
        let commit = self.commit("acme/p", processor_files(), &[], true);
        processor_files()
            .into_iter()
            .map(|(path, b)| rskill_signing::weights_lock::LockedProcessor {
                repo: "acme/p".into(),
                commit: commit.clone(),
                path,
                size: b.len() as u64,
                sha256: sha256_hex(&b),
            })
            .collect()
    }
}

#[test]
fn processors_are_pinned_by_the_lock_and_swapped_bytes_are_refused() {
    let fx = Fx::new();
    let mut lock = fx.lock_now();
    lock.processors = fx.processors_repo();
    let repo = "acme/rskill-proc";
    fx.signed_repo(repo, skill_files_with_processors(repo), &lock, &fx.key);
    let (r, said) = fx.install(repo, fx.policy(Mode::Require));
    let rep = r.unwrap_or_else(|e| panic!("{e}\n{said}"));
    assert!(rep.entry.signature.unpinned.is_empty(), "{said}");
    assert!(
        rep.entry
            .files
            .iter()
            .any(|f| f.repo == "acme/p" && f.path == "pre.json"),
        "{:?}",
        rep.entry.files
    );
    // 4 skill files + 2 weight files + 2 processors, every one pinned.
    assert!(
        said.contains("8 file(s) match their signed digests"),
        "{said}"
    );
    assert!(!said.contains("not pinned"), "{said}");

    // `rskill verify` checks them too.
    let pub_pem = fx.work.path().join("pub.pem");
    std::fs::write(&pub_pem, fx.key.public().pem()).unwrap();
    let p = pub_pem.to_str().unwrap();
    let (code, out, err) = fx.bin(&["verify", repo, "--key", p, "--json"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["processor_files"], 2, "{out}");

    // The processor repo's owner swaps pre.json for other bytes of the same size.
    std::fs::remove_file(fx.registry()).unwrap();
    let original = &processor_files()[0].1;
    let mut swapped = original.clone();
    let at = swapped.iter().position(|b| *b == b'5').unwrap();
    swapped[at] = b'9';
    fx.commit(
        "acme/p",
        vec![("pre.json".into(), swapped.clone())],
        &[],
        false,
    );
    let err = refused(fx.install(repo, fx.policy(Mode::Require)).0);
    assert!(
        err.contains("/pre.json, acme/p@")
            && err.contains("not pinned by the signed weights.lock.json"),
        "{err}"
    );
    fx.assert_nothing_installed();
    let (code, out, _) = fx.bin(&["verify", repo, "--key", p], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("/pre.json: a processor (hf://acme/p/pre.json) that the signed weights.lock.json does not pin"),
        "{out}"
    );
}

#[test]
fn a_lock_that_does_not_pin_a_processor_is_refused_when_signatures_are_required() {
    let fx = Fx::new();
    fx.processors_repo();
    // A lock as written before processors were pinned: weights only.
    let lock = fx.lock_now();
    let repo = "acme/rskill-oldlock";
    fx.signed_repo(repo, skill_files_with_processors(repo), &lock, &fx.key);
    let err = refused(fx.install(repo, fx.policy(Mode::Require)).0);
    assert!(
        err.contains("acme/p@")
            && err.contains("/pre.json")
            && err.contains("not pinned by the signed weights.lock.json"),
        "{err}"
    );
    fx.assert_nothing_installed();
    // Under `warn`: installed, with a warning, and the summary says what is not pinned.
    let (r, said) = fx.install(repo, fx.policy(Mode::Warn));
    let rep = r.unwrap_or_else(|e| panic!("{e}\n{said}"));
    assert_eq!(
        rep.entry.signature.unpinned.len(),
        2,
        "{:?}",
        rep.entry.signature
    );
    assert!(
        said.contains("warning: acme/rskill-oldlock: acme/p@"),
        "{said}"
    );
    assert!(
        said.contains(
            "6 file(s) match their signed digests; not pinned by any signed digest: acme/p@"
        ),
        "{said}"
    );
    // verify names the unpinned processor.
    let pub_pem = fx.work.path().join("pub.pem");
    std::fs::write(&pub_pem, fx.key.public().pem()).unwrap();
    let (code, out, _) = fx.bin(&["verify", repo, "--key", pub_pem.to_str().unwrap()], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("/pre.json: a processor (hf://acme/p/pre.json) that the signed weights.lock.json does not pin"), "{out}");
}

#[test]
fn files_outside_the_signature_are_left_out_of_the_install() {
    let fx = Fx::new();
    let repo = fx.signed_skill("extras", &fx.lock_now(), &fx.key);
    // Added after signing, under model_signing's ignore paths.
    fx.commit(
        &repo,
        vec![
            (".github/workflows/run.yml".into(), b"on: push\n".to_vec()),
            (".gitignore".into(), b"*.onnx\n".to_vec()),
        ],
        &[],
        false,
    );
    let (r, said) = fx.install(&repo, fx.policy(Mode::Require));
    let rep = r.unwrap_or_else(|e| panic!("{e}\n{said}"));
    let paths: Vec<&str> = rep.entry.files.iter().map(|f| f.path.as_str()).collect();
    assert!(
        !paths
            .iter()
            .any(|p| p.starts_with(".github") || *p == ".gitignore"),
        "{paths:?}"
    );
    assert!(
        said.contains(
            "not installed (not covered by the signature): .github/workflows/run.yml, .gitignore"
        ) || said.contains(
            "not installed (not covered by the signature): .gitignore, .github/workflows/run.yml"
        ),
        "{said}"
    );
    let snapshot = fx
        .hf_home()
        .join("hub")
        .join(format!("models--{}", repo.replace('/', "--")))
        .join("snapshots");
    let cached: Vec<String> = walk(&snapshot)
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert!(
        !cached
            .iter()
            .any(|p| p.contains(".github") || p.ends_with(".gitignore")),
        "{cached:?}"
    );
    // --json says so too.
    std::fs::remove_file(fx.registry()).unwrap();
    let pub_pem = fx.work.path().join("pub.pem");
    std::fs::write(&pub_pem, fx.key.public().pem()).unwrap();
    let (code, _, err) = fx.bin(
        &["trust", "add", "acme", "--key", pub_pem.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = fx.bin(&["install", &repo, "--json"], &[]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let left: Vec<&str> = v["signature"]["left_out"]
        .as_array()
        .unwrap_or_else(|| panic!("{out}"))
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert!(
        left.contains(&".gitignore") && left.contains(&".github/workflows/run.yml"),
        "{out}"
    );
    assert!(err.contains("not covered by the signature"), "{err}");
    let (code, out, err) = fx.bin(&["info", &repo], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("left out: ") && out.contains(".gitignore"),
        "{out}"
    );
}

#[test]
fn every_pickle_bearing_format_is_refused_without_consent_even_when_signed() {
    use rskill_test_support::scan_corpus::{evil_object_npy, npy, torch_zip, zip_of};
    let pickle = b"\x80\x04K\x01.".to_vec();
    // Bytes no content check recognises: only the name can refuse these.
    let opaque = b"opaque bytes".to_vec();
    let floats: Vec<u8> = [1.0f32, 2.0, 3.0]
        .iter()
        .flat_map(|f| f.to_le_bytes())
        .collect();
    // (file shipped in the skill, its bytes, refused without consent)
    let table: Vec<(&str, Vec<u8>, bool)> = vec![
        ("extra.pickle", opaque.clone(), true),
        ("extra.pkl", opaque.clone(), true),
        ("extra.joblib", opaque.clone(), true),
        ("extra.dill", opaque.clone(), true),
        ("extra.pt", opaque.clone(), true),
        ("extra.pth", opaque.clone(), true),
        ("extra.bin", opaque.clone(), true),
        ("extra.ckpt", opaque.clone(), true),
        ("handler.mar", zip_of(&[("MANIFEST.json", b"{}")]), true),
        // A zip checkpoint under a name no list holds: found by content.
        ("weights.zip", torch_zip(&pickle, &[]), true),
        // A pickle stream under a name no list holds: found by content.
        ("state.dat", pickle.clone(), true),
        ("objects.npy", evil_object_npy(), true),
        (
            "objects.npz",
            zip_of(&[("a.npy", &evil_object_npy())]),
            true,
        ),
        ("broken.npy", b"not a numpy header".to_vec(), true),
        // Plain arrays carry no pickle: they install.
        ("floats.npy", npy("'<f4'", &floats), false),
        (
            "floats.npz",
            zip_of(&[("a.npy", &npy("'<f4'", &floats))]),
            false,
        ),
    ];
    let fx = Fx::new();
    let lock = fx.lock_now();
    for (i, (file, bytes, pickled)) in table.into_iter().enumerate() {
        let repo = format!("acme/rskill-pickle-{i}");
        let mut files = skill_files(&repo);
        files.push((file.to_string(), bytes));
        fx.signed_repo(&repo, files, &lock, &fx.key);
        let (r, said) = fx.install(&repo, fx.policy(Mode::Require));
        match (r, pickled) {
            (Err(e), true) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("files are pickled (") && msg.contains(file),
                    "{file}: {msg}"
                );
                let hint = e.hint().unwrap_or_default();
                assert!(
                    hint.contains("OPENRAL_ALLOW_UNSAFE_PICKLE=1"),
                    "{file}: {hint}"
                );
                assert!(
                    rskill::registry::load_at(&fx.registry())
                        .map(|r| !r.skills.contains_key(&repo))
                        .unwrap_or(true),
                    "{file}: registered"
                );
            }
            (Ok(_), false) => {}
            (Ok(_), true) => panic!("{file}: installed without consent\n{said}"),
            (Err(e), false) => panic!("{file}: refused: {e}\n{said}"),
        }
    }
    // With consent, a pickle-bearing skill installs (still signed and verified).
    let client = client_at(&fx.hub.url(), None, &fx.hf_home());
    let opts = InstallOptions {
        registry_path: Some(fx.registry()),
        trust: fx.policy(Mode::Require),
        consent: rskill::install::guard::Consent {
            allow_pickle: true,
            ..Default::default()
        },
        ..InstallOptions::default()
    };
    let ui = Quiet(Default::default());
    let target = id::parse("acme/rskill-pickle-11", &[]).unwrap();
    let rep = fx
        .rt
        .block_on(install::install(&client, &target, &opts, &ui))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(rep.entry.signature.verified);
}

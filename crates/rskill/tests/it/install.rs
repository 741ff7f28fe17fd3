//! `rskill install` end to end against an in-process `rskill-hub` (and, for the resume
//! test, the `rskill-hub` binary): every branch of the license / pickle guard (library
//! with a scripted `InstallUi`, and the CLI), a bare id refused with no request, a
//! corrupted byte on the server, paths that escape the cache, resume after the server
//! is killed mid-download, concurrent installs into one registry, reinstall from the
//! cache, `uninstall --purge`, the lockfile round trip, offline installs, a failing
//! smoke-load, the ONNX smoke-load with and without a runtime, and a corrupt registry.
//!
//! Each test starts its own server on a temporary data directory, with its own HF cache
//! (`HF_HOME`) and registry (`RSKILL_DATA_DIR`); binaries run with
//! `HF_TOKEN_PATH=/nonexistent` and stdin from /dev/null. Skills are either small ones
//! made here (`acme/…`, manifests derived from a corpus skill) or corpus skills
//! published with `rskill::publish` over upstreams made by `rskill_test_support::seed`.
//!
//! The ONNX test needs ONNX Runtime (`scripts/ensure-onnxruntime.sh` prints the path for
//! `ORT_DYLIB_PATH`); without it, it fails unless `RSKILL_SKIP_ONNX_TESTS=1`.

use rskill_test_support::paths::corpus_dir;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rskill::install::guard::Consent;
use rskill::install::lockfile::Lockfile;
use rskill::install::{self, InstallError, InstallOptions, InstallReport, InstallUi, id};
use rskill::registry;
use rskill_hub::{self, RouteLabel};
use rskill_hub_client::write::UploadFile;
use rskill_hub_client::{HubClient, HubEnv, HubError, RepoId, Token, TokenSource};
use rskill_test_support::fixtures::{self, Dtype};
use rskill_test_support::test_hub::{TestHub, sha256_hex};
use serde_json::Value;
use tempfile::TempDir;

const RSKILL: &str = env!("CARGO_BIN_EXE_rskill");
const MIB: u64 = 1024 * 1024;
/// How long any binary may run before the test calls it hung.
const BIN_TIMEOUT: Duration = Duration::from_secs(90);

/// A valid manifest for `repo`, derived from a corpus skill: same contract, another
/// name, license posture, runtime and weights.
fn manifest(repo: &str, license: &str, runtime: &str, weights_uri: &str) -> String {
    let out = rskill_test_support::paths::manifest_from_corpus(
        "rtdetr-coco-detector",
        &[
            ("name: ", repo),
            ("license: ", license),
            ("runtime: ", runtime),
            ("weights_uri: ", weights_uri),
        ],
    );
    rskill_manifest::validate::parse_valid(&out)
        .unwrap_or_else(|v| panic!("the test manifest must be valid: {v:?}\n{out}"));
    out
}

/// Small genuine safetensors weights and a config.
fn small_weights(seed: u64) -> Vec<(String, Vec<u8>)> {
    let tensors = [
        ("policy.w", Dtype::F32, vec![32, 16]),
        ("policy.b", Dtype::F32, vec![32]),
    ];
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

fn block_file(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Files under `dir`, recursively (empty when it does not exist).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn cache_repo_dir(hub_cache: &Path, repo: &str) -> PathBuf {
    hub_cache.join(format!("models--{}", repo.replace('/', "--")))
}

/// What a binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {} after {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.took, self.stdout, self.stderr
        )
    }
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// The bytes the install report says crossed the network ("… 1.5 MiB downloaded").
    fn downloaded(&self) -> u64 {
        let line = self
            .stderr
            .lines()
            .find(|l| l.starts_with("installed ") && l.contains(" downloaded"))
            .unwrap_or_else(|| panic!("no install report: {self:?}"));
        let part = line
            .split(['(', ','])
            .find(|p| p.ends_with(" downloaded"))
            .unwrap()
            .trim();
        let mut words = part.split_whitespace();
        let n: f64 = words.next().unwrap().parse().unwrap();
        let unit = match words.next().unwrap() {
            "B" => 1.0,
            "KiB" => 1024.0,
            "MiB" => MIB as f64,
            "GiB" => (1024 * MIB) as f64,
            u => panic!("unit {u}"),
        };
        (n * unit) as u64
    }
}

/// Waits for `child` (killing it after [`BIN_TIMEOUT`]) and collects its output.
fn finish(mut child: Child, started: Instant) -> Run {
    let deadline = started + BIN_TIMEOUT;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the binary hung ({BIN_TIMEOUT:?}); stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// How a binary run is set up: which Hub, cache and registry, and extra environment.
#[derive(Clone)]
struct BinEnv {
    endpoint: String,
    hf_home: PathBuf,
    data_dir: PathBuf,
    cwd: PathBuf,
    vars: Vec<(String, String)>,
    remove: Vec<String>,
}

impl BinEnv {
    fn var(mut self, k: &str, v: impl Into<String>) -> Self {
        self.vars.push((k.into(), v.into()));
        self
    }

    fn without(mut self, k: &str) -> Self {
        self.remove.push(k.into());
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(RSKILL);
        for var in [
            "HF_TOKEN",
            "HF_HUB_OFFLINE",
            "HF_HUB_CACHE",
            "XDG_CACHE_HOME",
            "XDG_DATA_HOME",
            "OPENRAL_ALLOW_NONCOMMERCIAL",
            "OPENRAL_ALLOW_UNSAFE_PICKLE",
            "RSKILL_LOCAL_ROOT",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HF_ENDPOINT", &self.endpoint)
            .env("HF_HOME", &self.hf_home)
            .env("RSKILL_DATA_DIR", &self.data_dir)
            .env("HF_TOKEN_PATH", "/nonexistent")
            .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            .env("NO_COLOR", "1");
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        for k in &self.remove {
            cmd.env_remove(k);
        }
        cmd.args(args)
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn spawn(&self, args: &[&str]) -> (Child, Instant) {
        (
            self.command(args).spawn().expect("rskill runs"),
            Instant::now(),
        )
    }

    fn run(&self, args: &[&str]) -> Run {
        let (child, started) = self.spawn(args);
        finish(child, started)
    }
}

/// An install UI that records what it was told and answers confirmations with `answer`.
struct TestUi {
    answer: bool,
    said: Mutex<Vec<String>>,
    asked: Mutex<Vec<String>>,
    progressed: Arc<AtomicU64>,
}

impl TestUi {
    fn answering(answer: bool) -> TestUi {
        TestUi {
            answer,
            said: Mutex::new(Vec::new()),
            asked: Mutex::new(Vec::new()),
            progressed: Arc::new(AtomicU64::new(0)),
        }
    }

    fn said(&self) -> String {
        self.said.lock().unwrap().join("\n")
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl InstallUi for TestUi {
    fn say(&self, line: &str) {
        self.said.lock().unwrap().push(line.to_string());
    }

    fn confirm(&self, question: &str) -> bool {
        self.asked.lock().unwrap().push(question.to_string());
        self.answer
    }

    fn start_downloads(&self, _files: usize, _total: u64) -> Arc<dyn Fn(u64) + Send + Sync> {
        let p = self.progressed.clone();
        Arc::new(move |n| {
            p.fetch_add(n, Ordering::Relaxed);
        })
    }
}

fn consent(non_commercial: bool, yes: bool, interactive: bool, allow_pickle: bool) -> Consent {
    Consent {
        non_commercial,
        yes,
        interactive,
        allow_pickle,
        allow_remote_code: false,
    }
}

/// A server with a write token for `acme`, `rskill-project` and every org the corpus's
/// upstreams belong to; a scratch directory holding the installer's HF_HOME and registry.
struct Fx {
    hub: TestHub,
    writer: HubClient,
    work: TempDir,
    rt: tokio::runtime::Runtime,
}

impl Fx {
    fn new() -> Fx {
        Fx::on(TestHub::start())
    }

    /// The same fixture on a given Hub (for example one whose blobs are on an object store).
    fn on(hub: TestHub) -> Fx {
        let mut orgs: BTreeSet<String> = ["acme", "rskill-project"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for up in rskill_test_support::seed::upstreams(&corpus_manifests()).unwrap() {
            orgs.insert(up.repo.org().to_string());
        }
        let orgs: Vec<String> = orgs.into_iter().collect();
        let token = rskill_hub::tokens::create(hub.dir.path(), "installer", &orgs, true).unwrap();
        let work = tempfile::tempdir().unwrap();
        let writer = client_at(
            &hub.url(),
            Some(&token),
            &work.path().join("writer-hf"),
            false,
        );
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        Fx {
            hub,
            writer,
            work,
            rt,
        }
    }

    fn url(&self) -> String {
        self.hub.url()
    }

    fn requests(&self) -> u64 {
        self.hub.handle().request_count()
    }

    fn hf_home(&self) -> PathBuf {
        self.work.path().join("hf")
    }

    fn hub_cache(&self) -> PathBuf {
        self.hf_home().join("hub")
    }

    fn data_dir(&self) -> PathBuf {
        self.work.path().join("data")
    }

    fn registry(&self) -> PathBuf {
        self.data_dir().join(registry::REGISTRY_FILE)
    }

    fn installed(&self) -> Vec<String> {
        registry::load_at(&self.registry())
            .unwrap()
            .skills
            .into_keys()
            .collect()
    }

    /// An anonymous installer client on this test's cache.
    fn client(&self, offline: bool) -> HubClient {
        client_at(&self.url(), None, &self.hf_home(), offline)
    }

    fn bin(&self) -> BinEnv {
        BinEnv {
            endpoint: self.url(),
            hf_home: self.hf_home(),
            data_dir: self.data_dir(),
            cwd: self.work.path().to_path_buf(),
            vars: Vec::new(),
            remove: Vec::new(),
        }
    }

    /// Creates public `repo` with `files`; returns the commit.
    fn upload(&self, repo: &str, files: Vec<(String, Vec<u8>)>) -> String {
        upload_with(&self.rt, &self.writer, repo, files)
    }

    /// A weights repo `acme/<name>` with small safetensors weights.
    fn weights(&self, name: &str, seed: u64) -> String {
        let repo = format!("acme/{name}");
        self.upload(&repo, small_weights(seed));
        repo
    }

    /// A skill repo `acme/rskill-<name>` whose weights are `weights_repo`.
    fn skill(&self, name: &str, license: &str, weights_repo: &str) -> String {
        let repo = format!("acme/rskill-{name}");
        self.upload(&repo, skill_files(&repo, license, weights_repo));
        repo
    }

    /// Seeds the upstreams of corpus skill `slug` and publishes it (public); returns its id.
    fn corpus_skill(&self, slug: &str) -> String {
        let path = corpus_dir().join(slug).join("rskill.yaml");
        let m = rskill_manifest::validate::parse_valid(&std::fs::read_to_string(&path).unwrap())
            .unwrap();
        let ups = rskill_test_support::seed::upstreams(std::slice::from_ref(&m)).unwrap();
        self.rt
            .block_on(rskill_test_support::seed::seed(&self.writer, &ups))
            .unwrap();
        let opts = rskill::publish::PublishOptions {
            public: true,
            ..Default::default()
        };
        let plan = rskill::publish::plan(&path, &opts);
        let outcome = self
            .rt
            .block_on(rskill::publish::publish(&self.writer, &plan, &opts));
        assert_eq!(
            outcome.result,
            rskill::publish::PublishStatus::Published,
            "{}",
            outcome.message
        );
        m.name
    }

    fn install(
        &self,
        repo: &str,
        consent: Consent,
        ui: &TestUi,
    ) -> Result<InstallReport, InstallError> {
        self.install_with(&self.client(false), repo, consent, ui)
    }

    fn install_with(
        &self,
        client: &HubClient,
        repo: &str,
        consent: Consent,
        ui: &TestUi,
    ) -> Result<InstallReport, InstallError> {
        self.install_opts(client, repo, consent, ui, false)
    }

    fn install_opts(
        &self,
        client: &HubClient,
        repo: &str,
        consent: Consent,
        ui: &TestUi,
        verify: bool,
    ) -> Result<InstallReport, InstallError> {
        let target = id::parse(repo, &[]).unwrap();
        let opts = InstallOptions {
            consent,
            no_smoke: false,
            registry_path: Some(self.registry()),
            locked: None,
            verify,
            allow_deleted: false,
            trust: Default::default(),
            scan: false,
            preflight: Default::default(),
            allow_expired: None,
        };
        self.rt
            .block_on(install::install(client, &target, &opts, ui))
    }

    /// The server's stored blob with this SHA-256 (found by name under the data dir).
    fn server_blob(&self, sha256: &str) -> PathBuf {
        walk(self.hub.dir.path())
            .into_iter()
            .find(|p| p.file_name().is_some_and(|n| n == sha256))
            .unwrap_or_else(|| panic!("no blob {sha256} under the server's data dir"))
    }
}

fn corpus_manifests() -> Vec<rskill_manifest::manifest::Manifest> {
    rskill_manifest::corpus::discover(&corpus_dir())
        .unwrap()
        .iter()
        .map(|p| {
            rskill_manifest::validate::parse_valid(&std::fs::read_to_string(p).unwrap()).unwrap()
        })
        .collect()
}

fn client_at(endpoint: &str, token: Option<&str>, hf_home: &Path, offline: bool) -> HubClient {
    HubClient::new(HubEnv {
        endpoint: endpoint.to_string(),
        token: token.map(|t| (Token::new(t).unwrap(), TokenSource::EnvVar)),
        hub_cache: hf_home.join("hub"),
        hf_home: hf_home.to_path_buf(),
        offline,
        disable_progress_bars: true,
        download_timeout: rskill_hub_client::env::DEFAULT_DOWNLOAD_TIMEOUT,
    })
    .unwrap()
}

fn upload_with(
    rt: &tokio::runtime::Runtime,
    writer: &HubClient,
    repo: &str,
    files: Vec<(String, Vec<u8>)>,
) -> String {
    let id: RepoId = repo.parse().unwrap();
    rt.block_on(async {
        writer.create_repo(&id, false).await.unwrap();
        let uploads = files
            .into_iter()
            .map(|(path_in_repo, bytes)| UploadFile {
                path_in_repo,
                content: Bytes::from(bytes),
            })
            .collect();
        writer
            .commit(&id, uploads, Vec::new(), "test files", None)
            .await
            .unwrap()
    })
}

fn skill_files(repo: &str, license: &str, weights_repo: &str) -> Vec<(String, Vec<u8>)> {
    vec![
        (
            "rskill.yaml".into(),
            manifest(repo, license, "pytorch", &format!("hf://{weights_repo}")).into_bytes(),
        ),
        (
            "README.md".into(),
            format!("---\nlicense: other\n---\n# {repo}\n").into_bytes(),
        ),
        ("eval/sim.json".into(), br#"{"success_rate": 0.5}"#.to_vec()),
    ]
}

fn sha_of(files: &[(String, Vec<u8>)], path: &str) -> String {
    sha256_hex(&files.iter().find(|(p, _)| p == path).unwrap().1)
}

// ---------------------------------------------------------------------------------------
// The guard, through the library
// ---------------------------------------------------------------------------------------

#[test]
fn commercial_license_installs_without_asking() {
    let fx = Fx::new();
    let w = fx.weights("w", 1);
    let skill = fx.skill("ok", "apache-2.0", &w);
    let ui = TestUi::answering(false);
    let report = fx
        .install(&skill, consent(false, false, false, false), &ui)
        .unwrap();
    assert!(
        ui.asked().is_empty(),
        "nothing to confirm: {:?}",
        ui.asked()
    );
    assert!(
        ui.said()
            .contains("license: apache-2.0 (commercial use allowed)")
    );
    assert!(
        ui.said().contains("smoke-load: model.safetensors"),
        "{}",
        ui.said()
    );
    assert_eq!(fx.installed(), vec![skill.clone()]);
    let entry = &report.entry;
    assert_eq!(entry.weights.as_ref().unwrap().repo, w);
    let paths: BTreeSet<&str> = entry.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        BTreeSet::from([
            "README.md",
            "config.json",
            "eval/sim.json",
            "model.safetensors",
            "rskill.yaml"
        ])
    );
    // Every file's digest is the content's, and its blob is in the shared cache layout.
    for f in &entry.files {
        assert_eq!(
            sha256_hex(&block_file(&f.blob_path)),
            f.sha256,
            "{}",
            f.path
        );
        assert!(f.blob_path.starts_with(fx.hub_cache()));
    }
    let model = entry
        .files
        .iter()
        .find(|f| f.path == "model.safetensors")
        .unwrap();
    assert_eq!(
        model.blob_path,
        cache_repo_dir(&fx.hub_cache(), &w)
            .join("blobs")
            .join(&model.sha256),
        "LFS blobs are named by their SHA-256"
    );
    assert!(report.transferred > 0);
    // Progress covers every byte: downloaded, or found in the cache (the manifest).
    let total: u64 = entry.files.iter().map(|f| f.size).sum();
    assert_eq!(ui.progressed.load(Ordering::Relaxed), total);
    assert!(
        entry
            .smoke
            .safetensors
            .as_deref()
            .unwrap()
            .contains("2 tensors")
    );
}

#[test]
fn non_commercial_needs_a_declaration_and_yes_does_not_bypass_it() {
    let fx = Fx::new();
    let w = fx.weights("w", 2);
    let skill = fx.skill("nc", "nvidia_non_commercial", &w);
    // Refused even with --yes, a terminal, and a person who would answer yes.
    let ui = TestUi::answering(true);
    let err = fx
        .install(&skill, consent(false, true, true, false), &ui)
        .unwrap_err();
    match &err {
        InstallError::Refused { reason, hint } => {
            assert!(reason.contains("non-commercial"), "{reason}");
            assert!(hint.contains("--non-commercial"), "{hint}");
            assert!(hint.contains("OPENRAL_ALLOW_NONCOMMERCIAL=1"), "{hint}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(ui.asked().is_empty(), "never asked: {:?}", ui.asked());
    assert!(ui.said().contains("NON-COMMERCIAL"), "the banner is shown");
    assert!(!fx.registry().exists(), "nothing registered");
    assert!(
        !cache_repo_dir(&fx.hub_cache(), &w).exists(),
        "no weights were downloaded before the refusal"
    );

    let ui = TestUi::answering(false);
    fx.install(&skill, consent(true, false, false, false), &ui)
        .unwrap();
    assert!(ui.asked().is_empty());
    assert_eq!(fx.installed(), vec![skill]);
}

#[test]
fn unclear_licenses_ask_on_a_terminal_and_refuse_without_one() {
    let fx = Fx::new();
    let w = fx.weights("w", 3);
    let proprietary = fx.skill("prop", "proprietary", &w);
    let unknown = fx.skill("unk", "unknown", &w);
    for skill in [&proprietary, &unknown] {
        // No terminal, no --yes: refused with the hint, nothing asked.
        let ui = TestUi::answering(true);
        let err = fx
            .install(skill, consent(false, false, false, false), &ui)
            .unwrap_err();
        assert!(
            matches!(&err, InstallError::Refused { hint, .. } if hint.contains("--yes")),
            "{err:?}"
        );
        assert!(ui.asked().is_empty());
        // Declaring non-commercial use does not answer the question.
        let err = fx
            .install(skill, consent(true, false, false, false), &ui)
            .unwrap_err();
        assert!(matches!(err, InstallError::Refused { .. }), "{err:?}");
        // A terminal: asked once; "no" declines.
        let ui = TestUi::answering(false);
        let err = fx
            .install(skill, consent(false, false, true, false), &ui)
            .unwrap_err();
        assert!(matches!(err, InstallError::Declined), "{err:?}");
        assert_eq!(ui.asked().len(), 1);
        assert!(ui.asked()[0].contains("not cleared for commercial use"));
        assert!(!fx.registry().exists(), "nothing registered");
        assert!(!cache_repo_dir(&fx.hub_cache(), &w).exists());
    }
    // "yes" on the terminal installs; so does --yes without one.
    let ui = TestUi::answering(true);
    fx.install(&proprietary, consent(false, false, true, false), &ui)
        .unwrap();
    assert_eq!(ui.asked().len(), 1);
    let ui = TestUi::answering(false);
    fx.install(&unknown, consent(false, true, false, false), &ui)
        .unwrap();
    assert!(ui.asked().is_empty());
    assert_eq!(fx.installed(), vec![proprietary, unknown]);
}

#[test]
fn pickled_weights_need_the_opt_in_and_are_never_loaded() {
    let fx = Fx::new();
    let w = "acme/pickled";
    fx.upload(
        w,
        vec![(
            "pytorch_model.bin".into(),
            b"\x80\x04\x95pickled-bytes-never-unpickled".to_vec(),
        )],
    );
    let skill = fx.skill("pickle", "apache-2.0", w);
    let ui = TestUi::answering(true);
    let err = fx
        .install(&skill, consent(true, true, true, false), &ui)
        .unwrap_err();
    match &err {
        InstallError::Refused { reason, hint } => {
            assert!(reason.contains("pytorch_model.bin"), "{reason}");
            assert!(hint.contains("OPENRAL_ALLOW_UNSAFE_PICKLE=1"), "{hint}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Resolving the upstream records its ref in the cache; no file was fetched.
    assert!(
        walk(&cache_repo_dir(&fx.hub_cache(), w).join("blobs")).is_empty(),
        "nothing fetched: {:?}",
        walk(&fx.hub_cache())
    );
    assert!(!fx.registry().exists());

    // Opted in: installed, but the smoke-load never unpickles, so it records nothing.
    let ui = TestUi::answering(false);
    let report = fx
        .install(&skill, consent(false, false, false, true), &ui)
        .unwrap();
    assert!(
        report
            .entry
            .files
            .iter()
            .any(|f| f.path == "pytorch_model.bin")
    );
    assert_eq!(report.entry.smoke, registry::SmokeRecord::default());
    assert!(!ui.said().contains("smoke-load:"), "{}", ui.said());
    assert!(
        ui.said().contains("pickled weights not loaded"),
        "{}",
        ui.said()
    );
    assert_eq!(fx.installed(), vec![skill]);
}

// ---------------------------------------------------------------------------------------
// The guard, through the CLI
// ---------------------------------------------------------------------------------------

#[test]
fn cli_non_commercial_guard() {
    let fx = Fx::new();
    let w = fx.weights("w", 4);
    let skill = fx.skill("nc", "rlwrld_non_commercial", &w);
    let bin = fx.bin();
    for args in [vec!["install", &skill], vec!["install", &skill, "--yes"]] {
        let r = bin.run(&args);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stderr.contains("non-commercial"), "{r:?}");
        assert!(r.stderr.contains("hint:"), "{r:?}");
        assert!(r.stderr.contains("--non-commercial"), "{r:?}");
        assert!(r.stdout.is_empty(), "{r:?}");
    }
    assert!(!fx.registry().exists());

    let r = bin.run(&["install", &skill, "--non-commercial"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with(&skill), "{r:?}");
    assert_eq!(fx.installed(), vec![skill.clone()]);

    // The fleet's environment variable, into a fresh registry.
    let other = fx.work.path().join("data-env");
    let bin_env = BinEnv {
        data_dir: other.clone(),
        ..fx.bin()
    }
    .var("OPENRAL_ALLOW_NONCOMMERCIAL", "1");
    let r = bin_env.run(&["install", &skill]);
    assert_eq!(r.code, 0, "{r:?}");
    let reg = registry::load_at(&other.join(registry::REGISTRY_FILE)).unwrap();
    assert_eq!(reg.skills.len(), 1);
    assert_eq!(reg.skills[&skill].license, "rlwrld_non_commercial");
}

#[test]
fn cli_unclear_license_without_terminal_refuses_at_once_and_yes_accepts() {
    let fx = Fx::new();
    let w = fx.weights("w", 5);
    let bin = fx.bin();
    for license in ["proprietary", "unknown"] {
        let skill = fx.skill(license, license, &w);
        // stdin is /dev/null: no terminal, so no prompt that could hang.
        let r = bin.run(&["install", &skill]);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.took < Duration::from_secs(30), "{r:?}");
        assert!(r.stderr.contains("no terminal to ask"), "{r:?}");
        assert!(r.stderr.contains("hint: pass --yes"), "{r:?}");
        assert!(!r.stderr.contains("[y/N]"), "no prompt: {r:?}");
        assert!(!fx.installed().contains(&skill));

        let r = bin.run(&["install", &skill, "--yes", "--json"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["license"], license);
        assert!(fx.installed().contains(&skill));
    }
}

#[test]
fn cli_pickle_guard() {
    let fx = Fx::new();
    let w = "acme/pickled";
    fx.upload(
        w,
        vec![
            ("pytorch_model.bin".into(), b"\x80\x04pickle".to_vec()),
            ("config.json".into(), b"{}".to_vec()),
        ],
    );
    let skill = fx.skill("pickle", "mit", w);
    let r = fx.bin().run(&["install", &skill, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("pickled (pytorch_model.bin)"), "{r:?}");
    assert!(r.stderr.contains("OPENRAL_ALLOW_UNSAFE_PICKLE=1"), "{r:?}");
    assert!(!fx.registry().exists());

    let r = fx
        .bin()
        .var("OPENRAL_ALLOW_UNSAFE_PICKLE", "1")
        .run(&["install", &skill, "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let entry = r.json();
    assert!(entry["smoke"]["safetensors"].is_null(), "{r:?}");
    assert!(entry["smoke"]["onnx"].is_null(), "{r:?}");
    assert_eq!(fx.installed(), vec![skill]);
}

#[test]
fn bare_id_fails_at_once_with_candidates_and_no_request() {
    let fx = Fx::new();
    let before = fx.requests();
    // Run in the repository root, where the in-tree corpus supplies candidates.
    let bin = BinEnv {
        cwd: rskill_test_support::paths::repo_root(),
        ..fx.bin()
    };
    let r = bin.run(&["install", "smolvla-franka-pick-cube"]);
    assert_eq!(r.code, 2, "invalid input exits 2: {r:?}");
    assert!(r.stderr.contains("has no organisation"), "{r:?}");
    assert!(
        r.stderr
            .contains("did you mean rskill-project/rskill-smolvla-franka-pick-cube"),
        "{r:?}"
    );
    assert!(r.stderr.contains("rskill search"), "{r:?}");
    // Without a corpus or cache to draw on, still refused with the search hint.
    let r = fx.bin().run(&["install", "nothing-like-it"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("<org>/<name>"), "{r:?}");
    assert!(!r.stderr.contains("did you mean"), "{r:?}");
    assert_eq!(fx.requests(), before, "zero requests to the Hub");
}

// ---------------------------------------------------------------------------------------
// Integrity and paths
// ---------------------------------------------------------------------------------------

#[test]
fn a_corrupted_byte_on_the_server_fails_the_install_and_leaves_nothing() {
    let fx = Fx::new();
    let files = small_weights(6);
    let sha = sha_of(&files, "model.safetensors");
    fx.upload("acme/w", files);
    let skill = fx.skill("corrupt", "apache-2.0", "acme/w");

    let blob = fx.server_blob(&sha);
    let mut bytes = block_file(&blob);
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01; // same size, one bit different
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&blob, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::write(&blob, &bytes).unwrap();

    let ui = TestUi::answering(false);
    let err = fx
        .install(&skill, consent(false, false, false, false), &ui)
        .unwrap_err();
    match &err {
        InstallError::Hub(HubError::Integrity {
            path,
            expected,
            actual,
        }) => {
            assert_eq!(path, "acme/w/model.safetensors");
            assert_eq!(expected, &sha);
            assert_eq!(actual, &sha256_hex(&bytes));
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    assert!(!fx.registry().exists(), "nothing registered");
    let blobs = cache_repo_dir(&fx.hub_cache(), "acme/w").join("blobs");
    let left: Vec<String> = walk(&blobs)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        !left.iter().any(|n| n.starts_with(&sha)),
        "no blob and no .incomplete under its name: {left:?}"
    );

    // The CLI says the same, exit 1.
    let r = fx.bin().run(&["install", &skill]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("checksum mismatch"), "{r:?}");
    assert!(r.stderr.contains("model.safetensors"), "{r:?}");
    assert!(!fx.registry().exists());
}

#[test]
fn download_refuses_paths_that_escape_the_cache() {
    // An unsafe path cannot even become a download: FileSpec takes a RepoPath, and repo
    // info with such a path is refused when parsed (tests/client_security.rs).
    for path in [
        "../x",
        "../../../../tmp/escape",
        "/etc/passwd",
        "a/../../x",
        "a\\..\\x",
    ] {
        let err = path
            .parse::<rskill_hub_client::ids::RepoPath>()
            .unwrap_err();
        assert!(err.to_string().contains(&format!("{path:?}")), "{err}");
    }
}

/// A fake Hub whose listings name files outside the repo, answering only repo info and
/// the manifest; it records every path asked for.
mod fake_hub {
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::extract::{Request, State};
    use axum::http::StatusCode;
    use axum::response::Response;
    use serde_json::json;

    pub const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

    pub struct Fake {
        pub seen: Mutex<Vec<String>>,
        /// (repo, siblings JSON, manifest text if it is a skill)
        pub repos: Vec<(String, serde_json::Value, Option<String>)>,
    }

    async fn handle(State(fake): State<Arc<Fake>>, req: Request) -> Response {
        let path = req.uri().path().to_string();
        fake.seen.lock().unwrap().push(path.clone());
        for (repo, siblings, manifest) in &fake.repos {
            let info = format!("/api/models/{repo}");
            if path == info || path.starts_with(&format!("{info}/revision/")) {
                let body =
                    json!({"id": repo, "sha": COMMIT, "private": false, "siblings": siblings});
                return Response::builder()
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap();
            }
            if let Some(m) = manifest
                && path == format!("/{repo}/resolve/{COMMIT}/rskill.yaml")
            {
                let etag = rskill_hub_protocol::digest::git_blob_sha1(m.as_bytes());
                return Response::builder()
                    .header("x-repo-commit", COMMIT)
                    .header("etag", format!("\"{etag}\""))
                    .body(Body::from(m.clone()))
                    .unwrap();
            }
        }
        if path.ends_with("/model.safetensors") {
            // Slow, so the refusal of the unsafe path is surely the first error.
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
        Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header("x-error-code", "EntryNotFound")
            .body(Body::from("{\"error\":\"not here\"}"))
            .unwrap()
    }

    /// Serves `fake` on a free port of 127.0.0.1 from the current runtime.
    pub async fn serve(fake: Arc<Fake>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(handle).with_state(fake);
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }
}

#[test]
fn listings_naming_files_outside_the_repo_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sibling = |name: &str, m: &str| serde_json::json!({"rfilename": name, "size": m.len(), "blobId": rskill_hub_protocol::digest::git_blob_sha1(m.as_bytes())});
    let evil_skill_manifest = manifest(
        "acme/rskill-evil-skill",
        "apache-2.0",
        "pytorch",
        "hf://acme/good-weights",
    );
    let evil_weights_manifest = manifest(
        "acme/rskill-evil-weights",
        "apache-2.0",
        "pytorch",
        "hf://acme/evil-weights",
    );
    let lfs = |name: &str| serde_json::json!({"rfilename": name, "size": 8, "lfs": {"sha256": "c".repeat(64), "size": 8}});
    let fake = Arc::new(fake_hub::Fake {
        seen: Mutex::new(Vec::new()),
        repos: vec![
            (
                "acme/rskill-evil-skill".into(),
                serde_json::json!([
                    sibling("rskill.yaml", &evil_skill_manifest),
                    sibling("../../../escape.txt", "pwned"),
                ]),
                Some(evil_skill_manifest.clone()),
            ),
            (
                "acme/good-weights".into(),
                serde_json::json!([lfs("model.safetensors")]),
                None,
            ),
            (
                "acme/rskill-evil-weights".into(),
                serde_json::json!([sibling("rskill.yaml", &evil_weights_manifest)]),
                Some(evil_weights_manifest.clone()),
            ),
            (
                "acme/evil-weights".into(),
                serde_json::json!([lfs("/tmp/rskill-absolute.safetensors")]),
                None,
            ),
        ],
    });
    let url = rt.block_on(fake_hub::serve(fake.clone()));
    let client = client_at(&url, None, &work.path().join("hf"), false);
    let registry_path = work.path().join("data").join("registry.json");
    for (skill, bad) in [
        ("acme/rskill-evil-skill", "../../../escape.txt"),
        (
            "acme/rskill-evil-weights",
            "/tmp/rskill-absolute.safetensors",
        ),
    ] {
        let opts = InstallOptions {
            consent: consent(false, false, false, false),
            registry_path: Some(registry_path.clone()),
            ..InstallOptions::default()
        };
        let target = id::parse(skill, &[]).unwrap();
        let err = rt
            .block_on(install::install(
                &client,
                &target,
                &opts,
                &TestUi::answering(false),
            ))
            .unwrap_err();
        // Refused when the repo info is parsed, naming the field and the value.
        match &err {
            InstallError::Hub(HubError::Protocol { message, .. }) => {
                assert!(message.contains("rfilename"), "{message}");
                assert!(message.contains(&format!("{bad:?}")), "{message}");
            }
            other => panic!("{skill}: expected a protocol error, got {other:?}"),
        }
    }
    assert!(!registry_path.exists(), "nothing registered");
    assert!(!work.path().join("escape.txt").exists());
    assert!(!Path::new("/tmp/rskill-absolute.safetensors").exists());
    let seen = fake.seen.lock().unwrap().clone();
    assert!(
        !seen
            .iter()
            .any(|p| p.contains("escape") || p.contains("absolute")),
        "the unsafe files were never requested: {seen:?}"
    );
    // Nothing outside the cache's own folders was created.
    for f in walk(work.path()) {
        assert!(
            f.starts_with(work.path().join("hf").join("hub")),
            "{}",
            f.display()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Resume after the server is killed mid-download (the `rskill-hub` binary)
// ---------------------------------------------------------------------------------------

#[test]
fn resume_after_the_server_is_killed_mid_download() {
    resume_after_a_kill(false);
}

/// The same with the file split over 4 connections (16 pieces): the first run keeps
/// the prefix it hashed as the partial file, and the rerun fetches the rest.
#[test]
fn resume_after_the_server_is_killed_mid_split_download() {
    resume_after_a_kill(true);
}

fn resume_after_a_kill(split: bool) {
    const SIZE: u64 = 64 * MIB;
    const KILL_AT: u64 = 20 * MIB;
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let token = rskill_hub::tokens::create(data.path(), "up", &["acme".into()], true).unwrap();
    let (mut server, url, _out) = rskill_test_support::test_hub::serve_binary(data.path());

    let weights = work.path().join("model.safetensors");
    let sha = fixtures::large_safetensors_file(&weights, SIZE).unwrap();
    let total = std::fs::metadata(&weights).unwrap().len();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let writer = client_at(&url, Some(&token), &work.path().join("writer"), false);
    upload_with(
        &rt,
        &writer,
        "acme/big-weights",
        vec![("model.safetensors".into(), block_file(&weights))],
    );
    std::fs::remove_file(&weights).unwrap();
    upload_with(
        &rt,
        &writer,
        "acme/rskill-big",
        skill_files("acme/rskill-big", "apache-2.0", "acme/big-weights"),
    );
    drop(writer);

    let bin = BinEnv {
        endpoint: url,
        hf_home: work.path().join("hf"),
        data_dir: work.path().join("data"),
        cwd: work.path().to_path_buf(),
        vars: Vec::new(),
        remove: Vec::new(),
    };
    // `--connections` chooses (the default, 8, would split this 64 MiB file).
    let (bin, connections) = if split {
        (
            bin.var("RSKILL_DOWNLOAD_PIECE_MIB", "4")
                .var("RSKILL_DOWNLOAD_SPLIT_BELOW_MIBS", "0"),
            "4",
        )
    } else {
        (bin, "1")
    };
    let args = ["install", "acme/rskill-big", "--connections", connections];
    let blobs =
        cache_repo_dir(&work.path().join("hf").join("hub"), "acme/big-weights").join("blobs");
    let partial = blobs.join(format!("{sha}.incomplete"));
    let written = if split {
        blobs.join(format!("{sha}.parts"))
    } else {
        partial.clone()
    };
    let (mut install, started) = bin.spawn(&args);
    let deadline = Instant::now() + BIN_TIMEOUT;
    loop {
        let have = std::fs::metadata(&written).map(|m| m.len()).unwrap_or(0);
        if have >= KILL_AT {
            server.kill().unwrap(); // SIGKILL
            server.wait().unwrap();
            break;
        }
        if let Some(status) = install.try_wait().unwrap() {
            let run = finish(install, started);
            panic!("the install ended ({status}) before the server could be killed: {run:?}");
        }
        assert!(
            Instant::now() < deadline,
            "the download never reached {KILL_AT} bytes"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let first = finish(install, started);
    assert_eq!(first.code, 1, "{first:?}");
    assert!(first.stderr.contains("run again to resume"), "{first:?}");
    assert!(
        registry::load_at(&bin.data_dir.join(registry::REGISTRY_FILE))
            .unwrap()
            .skills
            .is_empty()
    );
    let kept = std::fs::metadata(&partial).unwrap().len();
    if split {
        // What was hashed in order is kept; the pieces beyond it are not trusted.
        assert!(kept < total, "kept {kept} of {total}");
        assert!(!written.exists(), "the pieces file became the partial file");
    } else {
        assert!((KILL_AT..total).contains(&kept), "kept {kept} of {total}");
    }

    // The server comes back (on another port) over the same data directory.
    let (mut server, url, _out2) = rskill_test_support::test_hub::serve_binary(data.path());
    let bin = BinEnv {
        endpoint: url,
        ..bin
    };
    let second = bin.run(&args);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(second.code, 0, "{second:?}");
    let fetched = second.downloaded();
    let remainder = total - kept;
    eprintln!(
        "resume: kept {kept} of {total}; the rerun fetched {fetched} (remainder {remainder})"
    );
    assert!(
        fetched.abs_diff(remainder) <= MIB / 2,
        "fetched {fetched} on the rerun; the remainder was {remainder} (kept {kept} of {total})"
    );
    assert!(!partial.exists());
    assert_eq!(sha256_hex(&block_file(&blobs.join(&sha))), sha);
}

// ---------------------------------------------------------------------------------------
// Concurrency, cache reuse, uninstall
// ---------------------------------------------------------------------------------------

#[test]
fn ten_concurrent_installs_end_with_ten_entries() {
    let fx = Fx::new();
    let files = small_weights(7);
    let sha = sha_of(&files, "model.safetensors");
    fx.upload("acme/shared", files);
    let skills: Vec<String> = (0..10)
        .map(|i| fx.skill(&format!("c{i}"), "apache-2.0", "acme/shared"))
        .collect();
    let bin = fx.bin();
    let children: Vec<(Child, Instant)> =
        skills.iter().map(|s| bin.spawn(&["install", s])).collect();
    for (child, started) in children {
        let r = finish(child, started);
        assert_eq!(r.code, 0, "{r:?}");
    }
    let reg = registry::load_at(&fx.registry()).unwrap();
    assert_eq!(reg.skills.len(), 10);
    assert_eq!(
        reg.skills.keys().cloned().collect::<BTreeSet<_>>(),
        skills.into_iter().collect::<BTreeSet<_>>()
    );
    // They all share one intact weights blob; no partial file is left.
    let blobs = cache_repo_dir(&fx.hub_cache(), "acme/shared").join("blobs");
    assert_eq!(sha256_hex(&block_file(&blobs.join(&sha))), sha);
    assert!(
        !walk(&fx.hub_cache())
            .iter()
            .any(|p| p.to_string_lossy().ends_with(".incomplete"))
    );
    for s in reg.skills.values() {
        let model = s
            .files
            .iter()
            .find(|f| f.path == "model.safetensors")
            .unwrap();
        assert_eq!(model.blob_path, blobs.join(&sha));
    }
}

#[test]
fn a_reinstall_transfers_nothing() {
    let fx = Fx::new();
    let w = fx.weights("w", 8);
    let skill = fx.skill("again", "apache-2.0", &w);
    let ui = TestUi::answering(false);
    let first = fx
        .install(&skill, consent(false, false, false, false), &ui)
        .unwrap();
    assert!(first.transferred > 0);
    let resolves = fx.hub.handle().route_count(RouteLabel::Resolve);
    let second = fx
        .install(&skill, consent(false, false, false, false), &ui)
        .unwrap();
    assert_eq!(second.transferred, 0);
    assert_eq!(second.cached_files, second.entry.files.len());
    assert_eq!(
        fx.hub.handle().route_count(RouteLabel::Resolve),
        resolves,
        "no file was fetched again"
    );
    assert_eq!(second.entry.files, first.entry.files);
    // The CLI says so too.
    let r = fx.bin().run(&["install", &skill]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.downloaded(), 0, "{r:?}");
    assert!(
        r.stderr.contains("0 B downloaded, 5 from the cache"),
        "{r:?}"
    );
}

#[test]
fn a_reinstall_trusts_cached_blobs_by_name_and_verify_rehashes_them() {
    let fx = Fx::new();
    let w = fx.weights("w", 8);
    let skill = fx.skill("trusted", "apache-2.0", &w);
    let ui = TestUi::answering(false);
    let yes = || consent(false, false, false, false);
    let first = fx.install(&skill, yes(), &ui).unwrap();
    // Damage the cached weights without changing their size: a reinstall does not read
    // them (it trusts the content-addressed name, as every Hub client does), so it
    // neither notices nor transfers anything. Before, every cached blob was re-hashed.
    let weights = first
        .entry
        .files
        .iter()
        .find(|f| f.path.ends_with(".safetensors"))
        .unwrap();
    let blob = weights.blob_path.clone();
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, &bytes).unwrap();
    let again = fx.install(&skill, yes(), &ui).unwrap();
    assert_eq!(again.transferred, 0);
    assert_eq!(
        std::fs::read(&blob).unwrap(),
        bytes,
        "the blob was not read back"
    );
    // --verify re-hashes, finds the damage, and fetches the file again.
    let verified = fx
        .install_opts(&fx.client(false), &skill, yes(), &ui, true)
        .unwrap();
    assert_eq!(verified.transferred, weights.size, "only the damaged file");
    assert_eq!(
        rskill_hub_protocol::digest::sha256_file(&blob).unwrap(),
        weights.sha256,
        "repaired"
    );
    // A cached blob of the wrong size is never trusted.
    std::fs::write(&blob, b"short").unwrap();
    let repaired = fx.install(&skill, yes(), &ui).unwrap();
    assert_eq!(repaired.transferred, weights.size);
}

#[test]
fn uninstall_purge_keeps_blobs_another_install_uses() {
    let fx = Fx::new();
    let files = small_weights(9);
    let sha = sha_of(&files, "model.safetensors");
    fx.upload("acme/shared", files);
    let a = fx.skill("a", "apache-2.0", "acme/shared");
    let b = fx.skill("b", "apache-2.0", "acme/shared");
    let bin = fx.bin();
    for s in [&a, &b] {
        let r = bin.run(&["install", s]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    let shared_blob = cache_repo_dir(&fx.hub_cache(), "acme/shared")
        .join("blobs")
        .join(&sha);
    let a_dir = cache_repo_dir(&fx.hub_cache(), &a);
    assert!(!walk(&a_dir.join("blobs")).is_empty());

    let r = bin.run(&["uninstall", &a, "--purge"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("purged"), "{r:?}");
    assert_eq!(fx.installed(), vec![b.clone()]);
    assert!(
        walk(&a_dir.join("blobs")).is_empty(),
        "a's own blobs are gone"
    );
    assert!(walk(&a_dir.join("snapshots")).is_empty(), "and its links");
    assert!(shared_blob.exists(), "b still uses the weights");
    let entry = &registry::load_at(&fx.registry()).unwrap().skills[&b];
    for f in &entry.files {
        assert_eq!(sha256_hex(&block_file(&f.blob_path)), f.sha256);
    }

    let r = bin.run(&["uninstall", &b, "--purge"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(fx.installed().is_empty());
    assert!(!shared_blob.exists(), "no install uses it any more");
    let dangling: Vec<PathBuf> = walk(&fx.hub_cache())
        .into_iter()
        .filter(|p| {
            std::fs::symlink_metadata(p)
                .unwrap()
                .file_type()
                .is_symlink()
                && !p.exists()
        })
        .collect();
    assert!(dangling.is_empty(), "{dangling:?}");

    let r = bin.run(&["uninstall", &b]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("is not installed"), "{r:?}");
}

// ---------------------------------------------------------------------------------------
// Lockfile
// ---------------------------------------------------------------------------------------

#[test]
fn lockfile_round_trip_and_edited_digests() {
    let fx = Fx::new();
    let skill = fx.corpus_skill("smolvla-franka-pick-cube");
    let bin = fx.bin();
    let r = bin.run(&["install", &skill]);
    assert_eq!(r.code, 0, "{r:?}");
    let lock_path = fx.work.path().join("rskill.lock");
    let r = bin.run(&["lock", "--output", lock_path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let lock = Lockfile::read(&lock_path).unwrap();
    let locked = lock.skill(&skill).unwrap();
    assert_eq!(
        locked.weights.as_ref().unwrap().repo.as_str(),
        "rskill-project/smolvla-franka-pick-cube"
    );
    let paths: BTreeSet<&str> = locked.files.iter().map(|f| f.path.as_str()).collect();
    assert!(paths.contains("model.safetensors"), "{paths:?}");
    assert!(paths.contains("policy_preprocessor.json"), "{paths:?}");

    // A fresh machine: new cache, new registry, same lockfile.
    let fresh = |name: &str| BinEnv {
        hf_home: fx.work.path().join(format!("{name}-hf")),
        data_dir: fx.work.path().join(format!("{name}-data")),
        ..fx.bin()
    };
    let lock_arg = lock_path.to_str().unwrap();
    let machine = fresh("m2");
    let r = machine.run(&["install", "--locked", "--lockfile", lock_arg]);
    assert_eq!(r.code, 0, "{r:?}");
    let reg = registry::load_at(&machine.data_dir.join(registry::REGISTRY_FILE)).unwrap();
    let entry = &reg.skills[&skill];
    assert_eq!(locked.commit, entry.commit);
    let got: BTreeSet<(String, String, String, u64)> = entry
        .files
        .iter()
        .map(|f| (f.repo.clone(), f.path.clone(), f.sha256.clone(), f.size))
        .collect();
    let want: BTreeSet<(String, String, String, u64)> = locked
        .files
        .iter()
        .map(|f| {
            let (r, p, s) = (f.repo.to_string(), f.path.to_string(), f.sha256.to_string());
            (r, p, s, f.size)
        })
        .collect();
    assert_eq!(got, want);
    for f in &entry.files {
        assert_eq!(sha256_hex(&block_file(&f.blob_path)), f.sha256);
    }
    // Locking the reproduction gives the same bytes.
    let again = fx.work.path().join("again.lock");
    let r = machine.run(&["lock", "--output", again.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(block_file(&again), block_file(&lock_path));

    // An edited digest: an LFS file (checked against the Hub's) and a regular file
    // (checked against the downloaded content).
    for (file, expect) in [
        ("model.safetensors", "in the lockfile"),
        ("config.json", "checksum mismatch"),
    ] {
        let mut edited = lock.clone();
        let f = edited.skills[0]
            .files
            .iter_mut()
            .find(|f| f.path == file)
            .unwrap();
        f.sha256 = "0".repeat(64).parse().unwrap();
        let edited_path = fx.work.path().join(format!("edited-{file}.lock"));
        edited.write(&edited_path).unwrap();
        let machine = fresh(&format!("edit-{file}"));
        let r = machine.run(&[
            "install",
            "--locked",
            "--lockfile",
            edited_path.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stderr.contains(file), "{file}: {r:?}");
        assert!(r.stderr.contains(expect), "{file}: {r:?}");
        assert!(!machine.data_dir.join(registry::REGISTRY_FILE).exists());
    }
}

#[test]
fn an_edited_lockfile_never_deletes_a_good_cached_blob() {
    let fx = Fx::new();
    let w = fx.weights("w", 12);
    let skill = fx.skill("locked", "apache-2.0", &w);
    let bin = fx.bin();
    let r = bin.run(&["install", &skill]);
    assert_eq!(r.code, 0, "{r:?}");
    let lock_path = fx.work.path().join("rskill.lock");
    let r = bin.run(&["lock", "--output", lock_path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let mut lock = Lockfile::read(&lock_path).unwrap();
    lock.skills[0]
        .files
        .iter_mut()
        .find(|f| f.path == "config.json")
        .unwrap()
        .sha256 = "0".repeat(64).parse().unwrap();
    lock.write(&lock_path).unwrap();

    // Same cache (warm), another registry: the edited digest is refused...
    fx.hub.handle().reset_counts();
    let other = BinEnv {
        data_dir: fx.work.path().join("data-locked"),
        ..fx.bin()
    };
    let r = other.run(&[
        "install",
        "--locked",
        "--lockfile",
        lock_path.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("config.json"), "{r:?}");
    assert!(r.stderr.contains("checksum mismatch"), "{r:?}");
    // ...without throwing away the cached file the installed skill uses, and without
    // fetching it again.
    let entry = &registry::load_at(&fx.registry()).unwrap().skills[&skill];
    for f in &entry.files {
        assert!(f.blob_path.exists(), "{} was deleted", f.path);
        assert_eq!(
            sha256_hex(&block_file(&f.blob_path)),
            f.sha256,
            "{}",
            f.path
        );
    }
    assert_eq!(fx.hub.handle().route_count(RouteLabel::Resolve), 0);
}

// ---------------------------------------------------------------------------------------
// Offline
// ---------------------------------------------------------------------------------------

#[test]
fn offline_install_from_a_warm_cache_makes_no_request() {
    let fx = Fx::new();
    let skill = fx.corpus_skill("smolvla-franka-pick-cube");
    let r = fx.bin().run(&["install", &skill]);
    assert_eq!(r.code, 0, "{r:?}");
    let online = registry::load_at(&fx.registry()).unwrap().skills[&skill].clone();

    fx.hub.handle().reset_counts();
    let offline = BinEnv {
        data_dir: fx.work.path().join("offline-data"),
        ..fx.bin()
    }
    .var("HF_HUB_OFFLINE", "1");
    let r = offline.run(&["install", &skill]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(fx.requests(), 0, "no HTTP at all");
    assert_eq!(r.downloaded(), 0, "{r:?}");
    let entry = &registry::load_at(&offline.data_dir.join(registry::REGISTRY_FILE))
        .unwrap()
        .skills[&skill];
    assert_eq!(entry.commit, online.commit);
    assert_eq!(entry.files, online.files);
    assert_eq!(entry.smoke, online.smoke);

    // A cold cache: fails naming what is missing, still without a request.
    let cold = BinEnv {
        hf_home: fx.work.path().join("cold-hf"),
        data_dir: fx.work.path().join("cold-data"),
        ..fx.bin()
    }
    .var("HF_HUB_OFFLINE", "1");
    let r = cold.run(&["install", &skill]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("HF_HUB_OFFLINE"), "{r:?}");
    assert!(r.stderr.contains(&skill), "{r:?}");
    assert!(r.stderr.contains("not in the cache"), "{r:?}");
    assert!(r.stderr.contains("hint:"), "{r:?}");
    assert!(!cold.data_dir.join(registry::REGISTRY_FILE).exists());
    assert_eq!(fx.requests(), 0);
}

#[test]
fn offline_install_names_the_missing_file() {
    let fx = Fx::new();
    let files = small_weights(10);
    let sha = sha_of(&files, "model.safetensors");
    fx.upload("acme/w", files);
    let skill = fx.skill("off", "apache-2.0", "acme/w");
    let ui = TestUi::answering(false);
    fx.install(&skill, consent(false, false, false, false), &ui)
        .unwrap();
    std::fs::remove_file(fx.registry()).unwrap();
    let blob = cache_repo_dir(&fx.hub_cache(), "acme/w")
        .join("blobs")
        .join(&sha);
    std::fs::remove_file(&blob).unwrap();

    let before = fx.requests();
    let err = fx
        .install_with(
            &fx.client(true),
            &skill,
            consent(false, false, false, false),
            &ui,
        )
        .unwrap_err();
    match &err {
        InstallError::Hub(HubError::Offline { what }) => {
            assert!(what.contains("model.safetensors of acme/w"), "{what}")
        }
        other => panic!("expected an offline error, got {other:?}"),
    }
    assert_eq!(fx.requests(), before);
    assert!(!fx.registry().exists());
}

// ---------------------------------------------------------------------------------------
// Smoke-load
// ---------------------------------------------------------------------------------------

#[test]
fn a_failing_smoke_load_registers_nothing() {
    let fx = Fx::new();
    fx.upload(
        "acme/garbage",
        vec![(
            "model.safetensors".into(),
            b"this is not a safetensors file, though the Hub hashed it".to_vec(),
        )],
    );
    let skill = fx.skill("garbage", "apache-2.0", "acme/garbage");
    let ui = TestUi::answering(false);
    let err = fx
        .install(&skill, consent(false, false, false, false), &ui)
        .unwrap_err();
    assert!(matches!(err, InstallError::Smoke(_)), "{err:?}");
    assert!(err.to_string().contains("nothing was registered"), "{err}");
    assert!(err.to_string().contains("model.safetensors"), "{err}");
    assert!(!fx.registry().exists());

    let r = fx.bin().run(&["install", &skill]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("smoke-load failed"), "{r:?}");
    assert!(!fx.registry().exists());
    // --no-smoke skips it (and says so).
    let r = fx.bin().run(&["install", &skill, "--no-smoke"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("smoke-load skipped (--no-smoke)"),
        "{r:?}"
    );
}

#[test]
fn onnx_skill_is_smoke_loaded_with_the_runtime() {
    let runtime = match rskill::smoke::onnx_runtime() {
        Ok(r) => r,
        Err(missing) => {
            if std::env::var("RSKILL_SKIP_ONNX_TESTS").as_deref() == Ok("1") {
                eprintln!("skipped (RSKILL_SKIP_ONNX_TESTS=1): {missing}");
                return;
            }
            panic!(
                "{missing}\nrun scripts/ensure-onnxruntime.sh and export ORT_DYLIB_PATH, \
                 or set RSKILL_SKIP_ONNX_TESTS=1 to skip the ONNX tests"
            );
        }
    };
    let fx = Fx::new();
    let skill = fx.corpus_skill("rtdetr-coco-detector");
    let r = fx
        .bin()
        .var("ORT_DYLIB_PATH", runtime.dylib.to_string_lossy())
        .run(&["install", &skill, "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("smoke-load: model.onnx with ONNX Runtime"),
        "{r:?}"
    );
    let onnx = r.json()["smoke"]["onnx"].as_str().unwrap().to_string();
    assert!(
        onnx.starts_with("model.onnx: inputs: ") && onnx.contains("; outputs: "),
        "{onnx}"
    );
    let entry = &registry::load_at(&fx.registry()).unwrap().skills[&skill];
    assert_eq!(entry.smoke.onnx.as_deref(), Some(onnx.as_str()));
}

#[test]
fn onnx_step_is_skipped_without_a_runtime_and_the_install_succeeds() {
    let fx = Fx::new();
    let skill = fx.corpus_skill("owlv2-open-vocab-detector");
    let r = fx
        .bin()
        .without("ORT_DYLIB_PATH")
        .without("VIRTUAL_ENV")
        .var("RSKILL_PYTHON", "/nonexistent")
        .var("LD_LIBRARY_PATH", "")
        .run(&["install", &skill, "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("ONNX smoke-load skipped"), "{r:?}");
    assert!(r.stderr.contains("pip install onnxruntime"), "{r:?}");
    let entry = r.json();
    let onnx = entry["smoke"]["onnx"].as_str().unwrap();
    assert!(
        onnx.starts_with("skipped: pip install onnxruntime"),
        "{onnx}"
    );
    let paths: BTreeSet<&str> = entry["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains("model.onnx") && paths.contains("model.onnx_data"),
        "{paths:?}"
    );
    assert_eq!(fx.installed(), vec![skill]);
}

// ---------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------

#[test]
fn a_corrupt_registry_is_reported_and_never_overwritten() {
    let fx = Fx::new();
    let w = fx.weights("w", 11);
    let skill = fx.skill("reg", "apache-2.0", &w);
    std::fs::create_dir_all(fx.data_dir()).unwrap();
    let garbage = b"{\"version\": 1, \"skills\": {\"truncated".to_vec();
    std::fs::write(fx.registry(), &garbage).unwrap();

    let ui = TestUi::answering(false);
    let err = fx
        .install(&skill, consent(false, false, false, false), &ui)
        .unwrap_err();
    assert!(
        matches!(
            err,
            InstallError::Registry(registry::RegistryError::Corrupt { .. })
        ),
        "{err:?}"
    );
    assert_eq!(block_file(&fx.registry()), garbage);

    let r = fx.bin().run(&["install", &skill]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("is corrupt"), "{r:?}");
    assert!(r.stderr.contains("left untouched"), "{r:?}");
    assert_eq!(block_file(&fx.registry()), garbage);
}

// ---------------------------------------------------------------------------------------
// Security scans: `rskill scan ID`, `install --scan`, the remote-code opt-in
// ---------------------------------------------------------------------------------------

/// A weights repo holding a zip PyTorch checkpoint whose `data.pkl` is `data_pkl`.
fn checkpoint_weights(data_pkl: &[u8]) -> Vec<(String, Vec<u8>)> {
    vec![
        (
            "pytorch_model.bin".into(),
            rskill_test_support::scan_corpus::torch_zip(data_pkl, &[vec![0u8; 24]]),
        ),
        ("config.json".into(), b"{}".to_vec()),
    ]
}

fn poisoned_pickle() -> Vec<u8> {
    rskill_test_support::scan_corpus::reduce_call(2, "os", "system", "id")
}

fn benign_pickle() -> Vec<u8> {
    rskill_test_support::scan_corpus::torch_state_dict_pickle(&[("w", "0", 2, 3)])
}

#[test]
fn scan_of_a_hub_skill_flags_poisoned_pinned_weights_and_keeps_nothing() {
    let fx = Fx::new();
    let w = "acme/poisoned";
    fx.upload(w, checkpoint_weights(&poisoned_pickle()));
    let skill = fx.skill("poisoned", "mit", w);
    let r = fx.bin().run(&["scan", &skill, "--json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let report = r.json();
    assert_eq!(report["status"], "dangerous", "{r:?}");
    assert_eq!(report["records"]["scan.pickle.status"], "dangerous");
    assert_eq!(
        report["records"]["scan.pickle.dangerous_globals"],
        "os.system"
    );
    assert_eq!(report["scanner"]["name"], "rskill-scan");
    assert!(
        report["target"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{skill}@")),
        "{r:?}"
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |f| f["file"] == "acme/poisoned/pytorch_model.bin:archive/data.pkl"
                    && f["severity"] == "dangerous"
            ),
        "{r:?}"
    );
    // The weights were streamed through a temporary cache: nothing kept.
    assert!(
        walk(&cache_repo_dir(&fx.hub_cache(), w).join("blobs")).is_empty(),
        "{:?}",
        walk(&fx.hub_cache())
    );
    assert!(!fx.registry().exists());

    // Clean weights: exit 0, a line per scan type on stdout.
    let clean = fx.weights("clean", 11);
    let skill = fx.skill("clean", "mit", &clean);
    let r = fx.bin().run(&["scan", &skill]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("safetensors  clean"), "{r:?}");
    // The test card is terse: manifest warnings, which do not fail the scan.
    assert!(r.stdout.contains("manifest     warning"), "{r:?}");
    assert!(r.stdout.contains("warning [manifest] README.md: "), "{r:?}");
    assert!(r.stdout.contains("\nscan: warning ("), "{r:?}");
}

#[test]
fn install_scan_refuses_dangerous_weights_whatever_the_pickle_opt_in() {
    let fx = Fx::new();
    let w = "acme/poisoned";
    fx.upload(w, checkpoint_weights(&poisoned_pickle()));
    let skill = fx.skill("poisoned", "mit", w);
    let bin = fx.bin().var("OPENRAL_ALLOW_UNSAFE_PICKLE", "1");
    let r = bin.run(&["install", &skill, "--scan"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains("the local scan found the weights dangerous"),
        "{r:?}"
    );
    assert!(r.stderr.contains("`os.system`"), "{r:?}");
    assert!(r.stderr.contains("hint: `rskill scan"), "{r:?}");
    assert!(!fx.registry().exists(), "nothing registered on refusal");

    // Without --scan the pickle opt-in alone lets it in: the scan is what refused.
    let r = bin.run(&["install", &skill]);
    assert_eq!(r.code, 0, "{r:?}");

    let good = "acme/good-ckpt";
    fx.upload(good, checkpoint_weights(&benign_pickle()));
    let skill = fx.skill("good-ckpt", "mit", good);
    let r = bin.run(&["install", &skill, "--scan"]);
    assert_eq!(r.code, 0, "{r:?}");
    // The test card is terse (manifest warnings); the weights are clean.
    assert!(r.stderr.contains("scan: warning ("), "{r:?}");
    assert!(!r.stderr.contains("dangerous"), "{r:?}");
    assert!(fx.installed().contains(&skill));
}

#[test]
fn remote_code_needs_the_opt_in() {
    let fx = Fx::new();
    let mut py = small_weights(21);
    py.push(("modeling_evil.py".into(), b"import os\n".to_vec()));
    fx.upload("acme/ships-py", py);
    let mut auto = small_weights(22);
    auto.retain(|(p, _)| p != "config.json");
    auto.push((
        "config.json".into(),
        br#"{"auto_map": {"AutoModel": "modeling_evil.Model"}}"#.to_vec(),
    ));
    fx.upload("acme/auto-map", auto);
    for (name, w, says) in [
        (
            "ships-py",
            "acme/ships-py",
            "ships Python code (modeling_evil.py)",
        ),
        (
            "auto-map",
            "acme/auto-map",
            "auto_map in acme/auto-map/config.json",
        ),
    ] {
        let skill = fx.skill(name, "mit", w);
        let r = fx.bin().run(&["install", &skill]);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stderr.contains(says), "{r:?}");
        assert!(r.stderr.contains("OPENRAL_ALLOW_REMOTE_CODE=1"), "{r:?}");
        assert!(!fx.installed().contains(&skill), "{r:?}");

        // `rskill scan` flags it as a warning (not dangerous weights): exit 0.
        let r = fx.bin().run(&["scan", &skill, "--json"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(
            r.json()["records"]["scan.remote_code.status"],
            "warning",
            "{r:?}"
        );

        let r = fx
            .bin()
            .var("OPENRAL_ALLOW_REMOTE_CODE", "1")
            .run(&["install", &skill]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(fx.installed().contains(&skill));
    }
}

// ---------------------------------------------------------------------------------------
// Through an object store: the Hub answers 302, the installer splits and keeps its token
// ---------------------------------------------------------------------------------------

/// `rskill install` from a Hub whose blobs are on a real S3-compatible store (Garage,
/// `RSKILL_GARAGE_BIN`; SKIPPED without it), behind a recording proxy that stands for the
/// store's public endpoint: the LFS-sized weights come by the Hub's 302 to a presigned
/// URL, over several ranged requests on that URL, and no request the store sees carries
/// the installer's Hub token; the installed bytes are the uploaded ones.
#[test]
fn install_through_the_object_store_redirect_splits_and_never_sends_the_token() {
    use rskill_test_support::object_store_server::ObjectStoreServer;
    use rskill_test_support::recording_proxy::RecordingProxy;
    let Some(store) = ObjectStoreServer::start_or_skip("install-through-the-store") else {
        return;
    };
    let proxy = RecordingProxy::start(&store.endpoint);
    let blobs = store.blobs_config("t/install", &proxy.url());
    let fx = Fx::on(TestHub::start_with(|c| c.blobs = blobs));
    let big = fixtures::safetensors_bytes(&[("policy.w", Dtype::F32, vec![3 * 1024, 1024])], 7);
    assert!(
        big.len() as u64 > 10 * MIB,
        "LFS-sized, so the Hub redirects"
    );
    let files = vec![
        ("model.safetensors".to_string(), big.clone()),
        ("config.json".to_string(), b"{}\n".to_vec()),
    ];
    fx.upload("acme/store-weights", files);
    let skill = fx.skill("store", "apache-2.0", "acme/store-weights");
    let token = rskill_hub::tokens::create(fx.hub.dir.path(), "fleet", &[], false).unwrap();
    proxy.clear();

    let run = fx
        .bin()
        .var("HF_TOKEN", token.as_str())
        .var("RSKILL_DOWNLOAD_SPLIT_MIB", "1")
        .var("RSKILL_DOWNLOAD_PIECE_MIB", "1")
        .var("RSKILL_DOWNLOAD_SPLIT_BELOW_MIBS", "0")
        .run(&["install", &skill, "--connections", "4", "--no-smoke"]);
    assert_eq!(run.code, 0, "{run:?}");

    let seen = proxy.requests();
    let ranged: BTreeSet<&str> = seen
        .iter()
        .filter(|r| r.method == "GET")
        .filter_map(|r| r.header("range"))
        .collect();
    assert!(
        ranged.len() >= 4,
        "the weights came over several ranged requests on the presigned URL: {seen:?}"
    );
    for r in &seen {
        for (name, value) in &r.headers {
            assert!(
                !value.contains(token.as_str()),
                "the store saw the Hub token in `{name}` of {} {}",
                r.method,
                r.target
            );
        }
    }
    let blob = cache_repo_dir(&fx.hub_cache(), "acme/store-weights")
        .join("blobs")
        .join(sha256_hex(&big));
    assert_eq!(
        block_file(&blob),
        big,
        "the installed weights are the uploaded ones"
    );
}

//! Shared fixtures for the `rskill-hub` integration tests: a server on a temporary data
//! directory with three tokens, and raw-HTTP helpers for commits.

use base64::Engine;
use rskill_hub::{self as hub_server, Config, ServerHandle};
use tempfile::TempDir;

/// A running server and its tokens:
/// - `alice`: write, user `alice`, member of `acme`
/// - `bob`: read-only, user `bob`, member of `acme`
/// - `carol`: write, user `carol`, member of `other`
pub struct TestHub {
    pub dir: TempDir,
    pub handle: Option<ServerHandle>,
    pub alice: String,
    pub bob: String,
    pub carol: String,
    /// The blob backend the server was started with (kept across restarts).
    pub blobs: hub_server::BlobsConfig,
}

impl TestHub {
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    pub fn start_with(configure: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let alice =
            hub_server::tokens::create(dir.path(), "alice", &["acme".into()], true).unwrap();
        let bob = hub_server::tokens::create(dir.path(), "bob", &["acme".into()], false).unwrap();
        let carol =
            hub_server::tokens::create(dir.path(), "carol", &["other".into()], true).unwrap();
        let mut config = Config::new(dir.path());
        configure(&mut config);
        let blobs = config.blobs.clone();
        let handle = hub_server::spawn(config).expect("server starts");
        TestHub {
            dir,
            handle: Some(handle),
            alice,
            bob,
            carol,
            blobs,
        }
    }

    /// A server keeping its blobs in an S3-compatible store (`blobs`, e.g. from
    /// `ObjectStoreServer::blobs_config`).
    pub fn start_s3(blobs: hub_server::BlobsConfig) -> Self {
        Self::start_with(|c| c.blobs = blobs)
    }

    pub fn handle(&self) -> &ServerHandle {
        self.handle.as_ref().expect("server running")
    }

    pub fn url(&self) -> String {
        self.handle().url()
    }

    /// Stops the server, runs `work` on the data directory, and starts the server again.
    pub fn while_stopped(&mut self, work: impl FnOnce(&std::path::Path)) {
        self.handle
            .take()
            .expect("server running")
            .shutdown()
            .expect("clean shutdown");
        work(self.dir.path());
        let mut config = Config::new(self.dir.path());
        config.blobs = self.blobs.clone();
        self.handle = Some(hub_server::spawn(config).expect("server restarts"));
    }

    /// Stops the server and starts a new one on the same data directory.
    pub fn restart_with(&mut self, configure: impl FnOnce(&mut Config)) {
        self.handle
            .take()
            .expect("server running")
            .shutdown()
            .expect("clean shutdown");
        let mut config = Config::new(self.dir.path());
        config.blobs = self.blobs.clone();
        configure(&mut config);
        self.handle = Some(hub_server::spawn(config).expect("server restarts"));
    }
}

/// An NDJSON commit body adding `files` (inline base64) and deleting `deletes`.
pub fn ndjson(
    summary: &str,
    parent: Option<&str>,
    files: &[(&str, &[u8])],
    deletes: &[&str],
) -> String {
    let mut header = serde_json::json!({ "summary": summary, "description": "" });
    if let Some(p) = parent {
        header["parentCommit"] = p.into();
    }
    let mut out = serde_json::json!({ "key": "header", "value": header }).to_string();
    out.push('\n');
    for (path, content) in files {
        let line = serde_json::json!({
            "key": "file",
            "value": {
                "path": path,
                "content": base64::engine::general_purpose::STANDARD.encode(content),
                "encoding": "base64",
            }
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    for path in deletes {
        out.push_str(
            &serde_json::json!({ "key": "deletedFile", "value": { "path": path } }).to_string(),
        );
        out.push('\n');
    }
    out
}

/// A model card whose front matter carries `tags`.
pub fn card(tags: &[&str]) -> Vec<u8> {
    format!(
        "---\nlicense: mit\ntags:\n{}---\n# A skill\n",
        tags.iter().map(|t| format!("- {t}\n")).collect::<String>()
    )
    .into_bytes()
}

/// Deterministic pseudo-random bytes (xorshift), so large files need no fixtures.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub use rskill_hub_protocol::digest::sha256_hex;

/// The `rskill-hub` binary of this build, built first (`cargo build -p rskill-hub`,
/// same profile) so a test of another crate never runs a stale or missing one.
pub fn hub_binary() -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| workspace_binary("rskill-hub", "rskill-hub"))
        .clone()
}

/// The `rskill-seed` binary of this build, built first like [`hub_binary`].
pub fn seed_binary() -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| workspace_binary("rskill-test-support", "rskill-seed"))
        .clone()
}

/// Builds `bin` of `package` in this test's profile and returns its path.
fn workspace_binary(package: &str, bin: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("test executable under target/<profile>/deps");
    let mut build = std::process::Command::new(env!("CARGO"));
    build
        .args(["build", "--quiet", "-p", package, "--bin", bin])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(
        status.success(),
        "cargo build -p {package} --bin {bin} failed"
    );
    let path = profile_dir.join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.is_file(), "no {bin} binary at {}", path.display());
    path
}

/// Starts the `rskill-hub` binary (`serve --data dir` on a free port) and returns the
/// child, the URL it printed as its first line, and its stdout (kept open).
pub fn serve_binary(
    dir: &std::path::Path,
) -> (
    std::process::Child,
    String,
    std::io::BufReader<std::process::ChildStdout>,
) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(hub_binary())
        .args(["serve", "--data"])
        .arg(dir)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start rskill-hub");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("read the URL line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line is the URL, got {line:?}"))
        .to_owned();
    (child, url, out)
}

/// Every file of a data directory (path relative to it → SHA-256 of its content), except
/// the staging area `tmp/` and the lock file: what "the directory is exactly as before"
/// compares.
pub fn data_dir_listing(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    fn walk(
        root: &std::path::Path,
        dir: &std::path::Path,
        out: &mut std::collections::BTreeMap<String, String>,
    ) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let rel = p
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .into_owned();
            if rel == "tmp" || rel == "hub.lock" {
                continue;
            }
            if p.is_dir() {
                out.insert(format!("{rel}/"), String::new());
                walk(root, &p, out);
            } else {
                let bytes = std::fs::read(&p).expect("readable file");
                out.insert(rel, sha256_hex(&bytes));
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

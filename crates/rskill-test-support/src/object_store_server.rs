//! A real S3-compatible object store for tests: Garage (built from crates.io, found
//! through `RSKILL_GARAGE_BIN`), started on free 127.0.0.1 ports in a temporary
//! directory with a single-node layout, one access key and one bucket, and killed on
//! drop. Tests needing it call [`ObjectStoreServer::start_or_skip`], which prints a
//! notice and returns `None` when the binary is not configured (never a silent pass:
//! the notice names the variable and the script that builds the binary).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable naming the `garage` binary.
pub const GARAGE_BIN_ENV: &str = "RSKILL_GARAGE_BIN";

/// A running Garage node and how to reach its S3 API.
pub struct ObjectStoreServer {
    child: Child,
    dir: tempfile::TempDir,
    binary: PathBuf,
    /// `http://127.0.0.1:PORT` (path-style S3).
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub bucket: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    getrandom::fill(&mut raw).expect("randomness");
    hex::encode(raw)
}

impl ObjectStoreServer {
    /// The configured binary, if any.
    pub fn binary() -> Option<PathBuf> {
        std::env::var_os(GARAGE_BIN_ENV)
            .map(PathBuf::from)
            .filter(|p| !p.as_os_str().is_empty())
    }

    /// Starts a node, or prints why the calling test is skipped and returns `None`;
    /// under `CI=true` a missing node fails the test instead (CI never passes a test it
    /// did not run).
    pub fn start_or_skip(test: &str) -> Option<Self> {
        match Self::binary() {
            Some(bin) => Some(Self::start(&bin)),
            None if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
                "{test}: CI=true but {GARAGE_BIN_ENV} is not set; scripts/test.sh builds \
                 Garage (scripts/ensure-garage.sh) and sets it"
            ),
            None => {
                eprintln!(
                    "SKIPPED {test}: set {GARAGE_BIN_ENV} to a garage 2.x binary \
                     (scripts/ensure-garage.sh builds one) to run the object store tests"
                );
                None
            }
        }
    }

    /// Starts a node with `binary` and waits until its bucket is usable.
    pub fn start(binary: &Path) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (s3, rpc) = (free_port(), free_port());
        let config = dir.path().join("garage.toml");
        let text = format!(
            "metadata_dir = \"{meta}\"\ndata_dir = \"{data}\"\ndb_engine = \"sqlite\"\n\
             replication_factor = 1\nrpc_bind_addr = \"127.0.0.1:{rpc}\"\n\
             rpc_public_addr = \"127.0.0.1:{rpc}\"\nrpc_secret = \"{secret}\"\n\n\
             [s3_api]\ns3_region = \"garage\"\napi_bind_addr = \"127.0.0.1:{s3}\"\n\
             root_domain = \".s3.garage.localhost\"\n",
            meta = dir.path().join("meta").display(),
            data = dir.path().join("data").display(),
            secret = random_hex(32),
        );
        std::fs::write(&config, text).expect("write garage.toml");
        let log = std::fs::File::create(dir.path().join("garage.log")).expect("log file");
        let child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .arg("server")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let mut server = ObjectStoreServer {
            child,
            dir,
            binary: binary.to_owned(),
            endpoint: format!("http://127.0.0.1:{s3}"),
            region: "garage".into(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            bucket: "rskill".into(),
        };
        let node = server.retry("node id", &["node", "id", "-q"]);
        let node = node.trim().split('@').next().unwrap_or("").to_owned();
        // `node id` reads the node's key from disk and can answer before the node listens
        // for RPC: the commands that talk to the node are retried until it does.
        server.retry(
            "layout assign",
            &["layout", "assign", "-z", "dc1", "-c", "1G", &node],
        );
        server.retry("layout apply", &["layout", "apply", "--version", "1"]);
        let key = server.retry("key create", &["key", "create", "rskill-test"]);
        let field = |name: &str| {
            key.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
                .unwrap_or_else(|| panic!("no `{name}` in garage output:\n{key}"))
        };
        server.access_key_id = field("Key ID:");
        server.secret_access_key = field("Secret key:");
        server.retry("bucket create", &["bucket", "create", "rskill"]);
        server.cli(&[
            "bucket",
            "allow",
            "--read",
            "--write",
            "--owner",
            "rskill",
            "--key",
            "rskill-test",
        ]);
        server
    }

    fn command(&self, args: &[&str]) -> std::process::Output {
        Command::new(&self.binary)
            .arg("-c")
            .arg(self.dir.path().join("garage.toml"))
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run the garage CLI")
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = self.command(args);
        assert!(
            out.status.success(),
            "garage {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a CLI command until it succeeds (the node takes a moment to start and to
    /// apply its layout).
    fn retry(&self, what: &str, args: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = self.command(args);
            if out.status.success() {
                return String::from_utf8_lossy(&out.stdout).into_owned();
            }
            assert!(
                Instant::now() < deadline,
                "garage {what} kept failing: {}{}\nlog: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(self.dir.path().join("garage.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The Hub's blob backend on this store, under `prefix`, reached through `endpoint`
    /// (this server's, or a proxy in front of it).
    pub fn blobs_config(&self, prefix: &str, endpoint: &str) -> rskill_hub::BlobsConfig {
        rskill_hub::BlobsConfig::S3(rskill_hub::S3Config {
            bucket: self.bucket.clone(),
            prefix: prefix.to_owned(),
            endpoint: Some(endpoint.to_owned()),
            region: Some(self.region.clone()),
            access_key_id: Some(self.access_key_id.clone()),
            secret_access_key: Some(self.secret_access_key.clone()),
        })
    }

    /// The keys stored under `prefix` (file names: the blobs' SHA-256), through the Hub's
    /// own S3 client.
    pub fn list(&self, prefix: &str) -> Vec<String> {
        let rskill_hub::BlobsConfig::S3(config) = self.blobs_config(prefix, &self.endpoint) else {
            unreachable!()
        };
        // On a thread of its own: callers may be inside an async runtime.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            let blobs = {
                let _guard = runtime.enter();
                rskill_hub::blobstore::s3::S3Blobs::new(&config).expect("S3 client")
            };
            blobs.list().expect("list the bucket")
        })
        .join()
        .expect("list thread")
    }
}

impl Drop for ObjectStoreServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

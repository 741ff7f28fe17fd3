//! `rskill-hub`: a Hugging Face Hub-compatible server, for air-gapped fleets and for every
//! test that needs real HTTP against a real Hub API, offline. The official clients
//! (`hf-hub`, `huggingface_hub`) work against it unchanged.
//!
//! Start one in-process with [`spawn`] (tests), or bind and run it on your own runtime
//! with [`Server`] (the `rskill-hub` binary). Create tokens with [`tokens::create`].
//! See `docs/hub-server.md` for the endpoints, data layout and limits.
//!
//! Owns: the server side of the Hub protocol (routing, storage, auth, catalog).
//! Must never depend on the rskill Hub client (`rskill-hub-client`) nor on the
//! `rskill` tool crate; it shares protocol types through `rskill-hub-protocol`, reads
//! model cards through `rskill-manifest`, air-gap bundles through `rskill-bundle`, and
//! checks imported governance signatures through `rskill-signing`.

// Paths the modules use from the shared crates, under their historical names.
use rskill_hub_protocol::{fsutil, hub_names};
use rskill_manifest::card;

pub mod api_admin;
pub mod api_card;
pub mod api_collections;
pub mod api_files;
pub mod api_repos;
pub mod app;
pub mod auth;
pub mod blobstore;
pub mod body;
pub mod catalog;
pub mod collections;
pub mod commit;
pub mod conn;
pub mod counters;
pub mod errors;
pub mod immutable;
pub mod import;
pub mod import_governance;
pub mod lfs;
pub mod listing;
pub mod names;
pub mod objects;
pub mod records;
pub mod render;
pub mod resolve;
pub mod router;
pub mod storage;
pub mod timefmt;
pub mod tokens;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

pub use blobstore::{BlobStore, BlobsConfig, s3::S3Config};
pub use catalog::Catalog;
pub use counters::{RequestCounts, RouteLabel};
pub use errors::{ApiError, HubError};
pub use names::{RepoId, RepoKind};
pub use storage::{Store, StoreOptions};

/// Default limit on request bodies: 512 MiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 512 * 1024 * 1024;

/// Default cap on the bodies of all requests together, in flight at once: 1 GiB.
pub const DEFAULT_MAX_INFLIGHT_BODY_BYTES: u64 = 1024 * 1024 * 1024;

/// Default time a client has to send a request's headers (and a kept-alive connection to
/// start its next request).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Default time a connection may go without a byte moving either way.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long in-flight requests may run on after a shutdown was asked for.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How to run a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory (created if missing).
    pub data_dir: PathBuf,
    /// Where to listen; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Largest request body accepted from a token holder (413 beyond). Anonymous bodies
    /// are capped at [`body::ANONYMOUS_BODY_LIMIT`].
    pub max_body_bytes: u64,
    /// Cap on the body bytes of all requests together; a request that does not fit is
    /// answered 503 at once.
    pub max_inflight_body_bytes: u64,
    /// Time a client has to send a request's headers, counted from when the server
    /// starts waiting for them (so it also closes kept-alive connections left unused).
    pub header_read_timeout: Duration,
    /// A connection on which no byte moves either way for this long is closed.
    pub idle_timeout: Duration,
    /// TEST AND BENCHMARK ONLY: set `TCP_NODELAY` on accepted sockets (default). Off,
    /// kept-alive responses stall on Nagle plus delayed ACK (about 40 ms each on Linux);
    /// the switch exists so a benchmark can show that on the same binary.
    pub nodelay: bool,
    /// TEST ONLY: called with every accepted socket, before it is served.
    pub on_accept: Option<AcceptHook>,
    /// The base URL advertised in `Link` headers and URLs the server returns. `None`
    /// derives it from each request's `Host` header.
    pub public_url: Option<String>,
    /// fsync every write (default). Only test and benchmark seeding should turn it off.
    pub durable: bool,
    /// TEST ONLY: in every commit, the N-th new blob written (1-based) fails with an
    /// injected error, so tests can check that a failed commit leaves nothing behind.
    pub fail_blob_write_at: Option<u64>,
    /// Where blobs live (default: `blobs/` in the data directory).
    pub blobs: BlobsConfig,
    /// How long the presigned URL of an LFS file's redirect stays valid (object store
    /// backend only).
    pub presign_expiry: Duration,
    /// How long an LFS upload ticket stays valid (the PUT must start before).
    pub upload_ticket_ttl: Duration,
    /// Largest single LFS object accepted.
    pub max_lfs_object_bytes: u64,
    /// Keys trusted for governance (`serve --governance-key`): a bundle imported through
    /// `POST /api/admin/import` must carry signed governance states that verify with one
    /// of them. Empty: consistency and order only (docs/airgap.md).
    pub governance_keys: Vec<rskill_signing::PublicKey>,
}

impl Config {
    /// Defaults for `data_dir`: `127.0.0.1:0`, 512 MiB bodies, durable writes.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            data_dir: data_dir.into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_inflight_body_bytes: DEFAULT_MAX_INFLIGHT_BODY_BYTES,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            nodelay: true,
            on_accept: None,
            public_url: None,
            durable: true,
            fail_blob_write_at: None,
            blobs: BlobsConfig::Local,
            presign_expiry: lfs::DEFAULT_PRESIGN_EXPIRY,
            upload_ticket_ttl: lfs::DEFAULT_TICKET_TTL,
            max_lfs_object_bytes: lfs::DEFAULT_MAX_OBJECT,
            governance_keys: Vec::new(),
        }
    }
}

/// A function called with each accepted socket (tests inspect socket options with it).
#[derive(Clone)]
pub struct AcceptHook(Arc<dyn Fn(&tokio::net::TcpStream) + Send + Sync>);

impl AcceptHook {
    pub fn new(f: impl Fn(&tokio::net::TcpStream) + Send + Sync + 'static) -> Self {
        AcceptHook(Arc::new(f))
    }

    pub fn call(&self, stream: &tokio::net::TcpStream) {
        (self.0)(stream)
    }
}

impl std::fmt::Debug for AcceptHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AcceptHook")
    }
}

/// A bound server, ready to run.
pub struct Server {
    listener: tokio::net::TcpListener,
    router: Router,
    addr: SocketAddr,
    counters: Arc<counters::Counters>,
    warnings: Vec<String>,
    limits: conn::ConnLimits,
    on_accept: Option<AcceptHook>,
}

impl Server {
    /// Opens the data directory (loading every repo into the index) and binds the address.
    pub async fn bind(config: Config) -> Result<Server, HubError> {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|source| HubError::Bind {
                addr: config.addr.to_string(),
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(HubError::io_with("reading the bound address"))?;
        let data_dir = config.data_dir.clone();
        let opts = StoreOptions {
            durable: config.durable,
            fail_blob_write_at: config.fail_blob_write_at,
            blobs: config.blobs.clone(),
        };
        let opened = tokio::task::spawn_blocking(move || -> Result<_, HubError> {
            let store = Store::open(&data_dir, opts)?;
            let (catalog, mut warnings) = Catalog::open(store)?;
            let catalog = Arc::new(catalog);
            let (collections, more) = collections::Collections::open(catalog.clone())?;
            warnings.extend(more);
            Ok((catalog, collections, warnings))
        })
        .await
        .map_err(|e| {
            HubError::io(
                "opening the data directory",
                std::io::Error::other(e.to_string()),
            )
        })?;
        let (catalog, collections, warnings) = opened?;
        let counters = Arc::new(counters::Counters::default());
        let app = Arc::new(app::App {
            catalog,
            tokens: tokens::TokenStore::new(&config.data_dir),
            collections: Arc::new(collections),
            counters: counters.clone(),
            max_body_bytes: config.max_body_bytes,
            budget: body::Budget::new(config.max_inflight_body_bytes),
            public_url: config.public_url.clone(),
            local_url: format!("http://{addr}"),
            lfs: Arc::new(lfs::Lfs::new(
                config.upload_ticket_ttl,
                config.max_lfs_object_bytes,
            )),
            presign_expiry: config.presign_expiry,
            governance_keys: config.governance_keys.clone(),
        });
        let router = Router::new().fallback(router::handle).with_state(app);
        Ok(Server {
            listener,
            router,
            addr,
            counters,
            warnings,
            limits: conn::ConnLimits {
                header_read_timeout: config.header_read_timeout,
                idle_timeout: config.idle_timeout,
                nodelay: config.nodelay,
            },
            on_accept: config.on_accept.clone(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Problems found while loading the data directory (skipped repos or collections).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn counters(&self) -> Arc<counters::Counters> {
        self.counters.clone()
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish for up to
    /// [`SHUTDOWN_GRACE`].
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), HubError> {
        conn::serve(
            self.listener,
            self.router,
            self.limits,
            self.on_accept,
            shutdown,
            SHUTDOWN_GRACE,
        )
        .await;
        Ok(())
    }
}

/// A server running on its own threads, stopped by [`ServerHandle::shutdown`] or on drop.
pub struct ServerHandle {
    addr: SocketAddr,
    counters: Arc<counters::Counters>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), HubError>>>,
}

/// Starts a server on a dedicated runtime (two worker threads) and returns once it
/// listens. Works from sync code and from inside another async runtime alike.
pub fn spawn(config: Config) -> Result<ServerHandle, HubError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("rskill-hub".into())
        .spawn(move || -> Result<(), HubError> {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("rskill-hub-worker")
                .enable_all()
                .build()
                .map_err(HubError::io_with("starting the server runtime"))?;
            runtime.block_on(async move {
                let server = match Server::bind(config).await {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return Ok(());
                    }
                };
                let _ = ready_tx.send(Ok((server.local_addr(), server.counters())));
                server
                    .run(async move {
                        let _ = stop_rx.await;
                    })
                    .await
            })
        })
        .map_err(HubError::io_with("starting the server thread"))?;
    match ready_rx.recv() {
        Ok(Ok((addr, counters))) => Ok(ServerHandle {
            addr,
            counters,
            stop: Some(stop_tx),
            thread: Some(thread),
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => match thread.join() {
            Ok(Err(e)) => Err(e),
            _ => Err(HubError::io(
                "starting the server",
                std::io::Error::other("the server thread stopped"),
            )),
        },
    }
}

impl ServerHandle {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests handled so far, all routes together.
    pub fn request_count(&self) -> u64 {
        self.counters.total()
    }

    /// Requests handled so far, in total and per route label.
    pub fn requests(&self) -> RequestCounts {
        self.counters.snapshot()
    }

    /// Requests handled so far under one route label (`list`, `info`, `resolve`, …).
    pub fn route_count(&self, label: RouteLabel) -> u64 {
        self.counters.snapshot().get(label.as_str())
    }

    /// Sets every counter back to zero.
    pub fn reset_counts(&self) {
        self.counters.reset()
    }

    /// Stops accepting requests, lets in-flight ones finish, and waits for the server to
    /// release its data directory.
    pub fn shutdown(mut self) -> Result<(), HubError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), HubError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(HubError::io(
                "stopping the server",
                std::io::Error::other("the server thread panicked"),
            )),
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

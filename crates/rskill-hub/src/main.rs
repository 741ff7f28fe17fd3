//! `rskill-hub`: a Hugging Face Hub-compatible server for air-gapped fleets and tests. A
//! thin clap front over the `rskill_hub` library.
//!
//! Exit codes: 0 ok, 1 failure, 2 usage error.

use rskill_hub_protocol::redact::redact_credentials;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use rskill_hub::{self as hub_server, HubError};

#[derive(Parser)]
#[command(
    name = "rskill-hub",
    version,
    about = "A Hugging Face Hub-compatible server (models and datasets) for offline sites and tests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Hub API over a data directory until SIGTERM or SIGINT.
    Serve {
        /// The data directory (created if missing).
        #[arg(long = "data", value_name = "DIR")]
        data: PathBuf,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: SocketAddr,
        /// Largest request body accepted, in MiB.
        #[arg(long = "max-body-mb", value_name = "N", default_value_t = 512)]
        max_body_mb: u64,
        /// Cap on the request bodies of all requests together, in MiB (never below
        /// --max-body-mb, so the largest allowed body fits); a request that does not fit
        /// is answered 503.
        #[arg(long = "max-inflight-mb", value_name = "N", default_value_t = 1024)]
        max_inflight_mb: u64,
        /// Seconds a client has to send a request's headers (also how long a kept-alive
        /// connection may wait for its next request).
        #[arg(long = "header-timeout", value_name = "SECS", default_value_t = 10.0, value_parser = secs)]
        header_timeout: f64,
        /// Seconds a connection may go without a byte moving either way.
        #[arg(long = "idle-timeout", value_name = "SECS", default_value_t = 60.0, value_parser = secs)]
        idle_timeout: f64,
        /// Base URL to advertise in links (default: from each request's Host header).
        #[arg(long = "public-url", value_name = "URL")]
        public_url: Option<String>,
        #[command(flatten)]
        blobs: BlobsArgs,
        /// Seconds a presigned download URL stays valid (object store backend: LFS files
        /// are answered with a 302 to such a URL).
        #[arg(long = "presign-expiry", value_name = "SECS", default_value_t = 900.0, value_parser = secs)]
        presign_expiry: f64,
        /// Seconds an LFS upload link stays valid (the upload must start before).
        #[arg(long = "upload-ticket-expiry", value_name = "SECS", default_value_t = 900.0, value_parser = secs)]
        upload_ticket_expiry: f64,
        /// A public key (PEM) trusted for governance: a bundle imported through
        /// `POST /api/admin/import` must carry signed governance states
        /// (`rskill.registry.sig`) that verify with one of these keys (repeatable).
        #[arg(long = "governance-key", value_name = "PUB.pem")]
        governance_keys: Vec<PathBuf>,
        /// Benchmark only: leave Nagle's algorithm on for accepted connections, to
        /// measure the kept-alive stall it causes.
        #[arg(long = "no-nodelay", hide = true)]
        no_nodelay: bool,
    },
    /// Import an air-gap bundle (`rskill export`) into a data directory, keeping the
    /// source Hub's commit ids, refs and files. The server must be stopped (it holds the
    /// directory); the whole bundle is verified first, then imported all at once.
    Import {
        /// The bundle (a tar file written by `rskill export`).
        #[arg(value_name = "FILE.tar")]
        bundle: PathBuf,
        /// The data directory (created if missing).
        #[arg(long = "data", value_name = "DIR")]
        data: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// A public key (PEM) trusted for governance: every signed governance state the
        /// bundle carries (`rskill.registry.sig`) must verify with one of these keys, and
        /// a registry file without one is refused (repeatable). Without it, states are
        /// checked for consistency and order only.
        #[arg(long = "governance-key", value_name = "PUB.pem")]
        governance_keys: Vec<PathBuf>,
        /// (The blob store of the server of this directory.)
        #[command(flatten)]
        blobs: BlobsArgs,
    },
    /// Manage access tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it (the only time it is shown).
    Create {
        /// The data directory of the server.
        #[arg(long = "data", value_name = "DIR")]
        data: PathBuf,
        /// The user the token speaks for.
        #[arg(long)]
        user: String,
        /// An organization the user belongs to (repeatable).
        #[arg(long = "org", value_name = "ORG")]
        orgs: Vec<String>,
        /// Allow writes (create repos, commit, tag, change settings) for the user and orgs.
        #[arg(long)]
        write: bool,
        /// Also allow governance changes (version statuses and aliases, i.e. commits
        /// touching rskill.registry.json or rskill.registry.sig), deleting or moving release
        /// (v…) tags, deleting governed or released repos, and imports; implies --write.
        #[arg(long)]
        manage: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            data,
            addr,
            max_body_mb,
            max_inflight_mb,
            header_timeout,
            idle_timeout,
            public_url,
            blobs,
            presign_expiry,
            upload_ticket_expiry,
            governance_keys,
            no_nodelay,
        } => blobs.config().and_then(|blobs| {
            let governance_keys = read_governance_keys(&governance_keys)?;
            serve(
                data,
                addr,
                Limits {
                    max_body_mb,
                    max_inflight_mb,
                    header_timeout,
                    idle_timeout,
                    nodelay: !no_nodelay,
                    presign_expiry,
                    upload_ticket_expiry,
                },
                public_url,
                blobs,
                governance_keys,
            )
        }),
        Command::Import {
            bundle,
            data,
            json,
            governance_keys,
            blobs,
        } => blobs.config().and_then(|blobs| {
            let keys = read_governance_keys(&governance_keys)?;
            import(&bundle, &data, blobs, &keys, json)
        }),
        Command::Token {
            command:
                TokenCommand::Create {
                    data,
                    user,
                    orgs,
                    write,
                    manage,
                },
        } => hub_server::tokens::create_with(
            &data,
            &user,
            &orgs,
            hub_server::tokens::Rights { write, manage },
        )
        .map(|token| {
            println!("{token}");
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The data directory's URLs (--blobs, --public-url) may carry credentials.
            eprintln!("error: {}", redact_credentials(&e.to_string()));
            eprintln!("hint: {}", hint(&e));
            ExitCode::from(match e {
                HubError::InvalidAccountName { .. }
                | HubError::AccountNameTaken { .. }
                | HubError::InvalidBlobsUrl { .. }
                | HubError::InvalidGovernanceKey { .. } => 2,
                _ => 1,
            })
        }
    }
}

fn hint(e: &HubError) -> &'static str {
    match e {
        HubError::DataDirLocked { .. } => {
            "stop the other rskill-hub serving this directory, or pass another --data"
        }
        HubError::Bind { .. } => "pick a free address with --addr (port 0 lets the system choose)",
        HubError::InvalidAccountName { .. } => {
            "names use letters, digits, `-`, `_` and `.` (e.g. --user alice --org acme)"
        }
        HubError::AccountNameTaken { .. } => {
            "use the existing spelling, or another name (names are unique regardless of case)"
        }
        HubError::Io { .. } => "check that the data directory exists and is writable",
        HubError::InvalidBlobsUrl { .. } => {
            "pass --blobs s3://BUCKET/PREFIX, or leave it out to keep blobs in the data directory"
        }
        HubError::ObjectStore { .. } => {
            "check the bucket, AWS_ENDPOINT_URL / --s3-endpoint, AWS_REGION and the AWS_* credentials"
        }
        HubError::Bundle(e) if e.is_corrupt() => {
            "the bundle is damaged or incomplete: copy it again from the exporting machine (or export it again); the data directory is unchanged"
        }
        HubError::Bundle(_) => "check the bundle path and free space in the data directory",
        HubError::ImportConflict { .. } => {
            "the target's history differs from the source's: import into another data directory, or delete the conflicting repo or ref first"
        }
        HubError::ImportForbidden { .. } => "use a token of the bundle's namespaces",
        HubError::ImportGovernance { .. } => {
            "the bundle's release tags or governance files disagree with its signed state, or it is older than the target's: export again from the source Hub (and check the bundle's origin); --governance-key needs the key the org signs governance with"
        }
        HubError::InvalidGovernanceKey { .. } => {
            "pass the PEM public key the org signs governance with (rskill-publisher keygen --public writes one)"
        }
        HubError::ImportIncomplete { .. } => {
            "import the earlier bundles this one builds on (`rskill export --since`) first"
        }
        _ => "see docs/hub-server.md",
    }
}

/// Environment variable, TEST ONLY: milliseconds to sleep after each import step, so a
/// crash test can kill the process between two steps.
const IMPORT_PAUSE_ENV: &str = "RSKILL_HUB_TEST_IMPORT_PAUSE_MS";

fn import(
    bundle: &std::path::Path,
    data: &std::path::Path,
    blobs: hub_server::BlobsConfig,
    governance_keys: &[rskill_signing::PublicKey],
    json: bool,
) -> Result<(), HubError> {
    let file = std::fs::File::open(bundle)
        .map_err(HubError::io_with(format!("opening {}", bundle.display())))?;
    // The object store client is async: its requests run on this runtime, driven from
    // this (blocking) thread.
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| HubError::io("starting the object store client", e))?;
    let _context = runtime.enter();
    let opts = hub_server::StoreOptions {
        blobs,
        ..Default::default()
    };
    let store = hub_server::Store::open(data, opts)?;
    let pause = std::env::var(IMPORT_PAUSE_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis);
    let on_step = |what: &str| {
        eprintln!("import: {what}");
        if let Some(p) = pause {
            std::thread::sleep(p);
        }
    };
    eprintln!("import: verifying {}", bundle.display());
    let report = hub_server::import::import_bundle(
        &store,
        std::io::BufReader::with_capacity(1 << 20, file),
        &hub_server::import::ImportOptions {
            on_step: Some(&on_step),
            may_write: None,
            governance_keys,
        },
    )?;
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return Ok(());
    }
    if report.is_noop() {
        let _ = writeln!(
            out,
            "bundle {} already imported: nothing changed ({} repos)",
            &report.bundle[..12],
            report.repos_unchanged.len()
        );
    } else {
        let _ = writeln!(
            out,
            "imported bundle {} from {}: {} repos created, {} updated, {} unchanged; {} commits, {} blobs ({} bytes)",
            &report.bundle[..12],
            report.source,
            report.repos_created.len(),
            report.repos_updated.len(),
            report.repos_unchanged.len(),
            report.commits_added,
            report.blobs_added,
            report.bytes_added
        );
    }
    let _ = writeln!(out, "governance: {}", report.governance.summary);
    for (repo, g) in &report.governance.repos {
        let before = match g.target_version {
            Some(v) => format!(" (the target held version {v})"),
            None => String::new(),
        };
        let checked = if g.verified {
            "signature verified"
        } else {
            "signature not verified"
        };
        let _ = writeln!(
            out,
            "  {repo}: signed state version {}{before}, {checked}",
            g.version
        );
    }
    Ok(())
}

/// The public keys of `--governance-key` (PEM files).
fn read_governance_keys(paths: &[PathBuf]) -> Result<Vec<rskill_signing::PublicKey>, HubError> {
    paths
        .iter()
        .map(|p| {
            rskill_signing::PublicKey::read(p).map_err(|e| HubError::InvalidGovernanceKey {
                path: p.display().to_string(),
                reason: e.to_string(),
            })
        })
        .collect()
}

/// A positive, finite number of seconds.
fn secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1e9 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a positive number of seconds (e.g. 10 or 0.5)"
        )),
    }
}

struct Limits {
    max_body_mb: u64,
    max_inflight_mb: u64,
    header_timeout: f64,
    idle_timeout: f64,
    nodelay: bool,
    presign_expiry: f64,
    upload_ticket_expiry: f64,
}

/// Where blobs live: the same flags for `serve` and `import`.
#[derive(clap::Args, Debug)]
struct BlobsArgs {
    /// Where file contents live: `s3://BUCKET[/PREFIX]` for an S3-compatible object
    /// store (credentials, region and endpoint from AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL); default: DIR/blobs.
    #[arg(long, value_name = "URL")]
    blobs: Option<String>,
    /// The object store's endpoint (overrides AWS_ENDPOINT_URL), e.g. http://127.0.0.1:3900.
    #[arg(long = "s3-endpoint", value_name = "URL", requires = "blobs")]
    s3_endpoint: Option<String>,
    /// The object store's region (overrides AWS_REGION).
    #[arg(long = "s3-region", value_name = "REGION", requires = "blobs")]
    s3_region: Option<String>,
}

impl BlobsArgs {
    /// The blob backend from `--blobs` and the S3 overrides.
    fn config(self) -> Result<hub_server::BlobsConfig, HubError> {
        let Some(url) = self.blobs else {
            return Ok(hub_server::BlobsConfig::Local);
        };
        let mut config = hub_server::S3Config::from_url(&url)?;
        config.endpoint = self.s3_endpoint;
        config.region = self.s3_region;
        Ok(hub_server::BlobsConfig::S3(config))
    }
}

fn serve(
    data: PathBuf,
    addr: SocketAddr,
    limits: Limits,
    public_url: Option<String>,
    blobs: hub_server::BlobsConfig,
    governance_keys: Vec<rskill_signing::PublicKey>,
) -> Result<(), HubError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(HubError::io_with("starting the runtime"))?;
    runtime.block_on(async move {
        let mut config = hub_server::Config::new(data);
        config.addr = addr;
        config.max_body_bytes = limits.max_body_mb.saturating_mul(1024 * 1024);
        // The largest body allowed must fit in the in-flight cap, or it could never land.
        config.max_inflight_body_bytes = limits
            .max_inflight_mb
            .max(limits.max_body_mb)
            .saturating_mul(1024 * 1024);
        config.header_read_timeout = Duration::from_secs_f64(limits.header_timeout);
        config.idle_timeout = Duration::from_secs_f64(limits.idle_timeout);
        config.public_url = public_url;
        config.nodelay = limits.nodelay;
        config.blobs = blobs;
        config.presign_expiry = Duration::from_secs_f64(limits.presign_expiry);
        config.upload_ticket_ttl = Duration::from_secs_f64(limits.upload_ticket_expiry);
        config.governance_keys = governance_keys;
        let server = hub_server::Server::bind(config).await?;
        for w in server.warnings() {
            eprintln!("warning: {}", redact_credentials(&w.to_string()));
        }
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on {}", server.url());
            let _ = out.flush();
        }
        server.run(shutdown_signal()).await?;
        eprintln!("rskill-hub: stopped");
        Ok(())
    })
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

//! `rskill-publisher`: validate → reserved tags → private push → verify → public, for
//! one skill or a whole corpus; and `collection` to gather published skills. A thin
//! front over `rskill::publish`.

mod governance_cmd;
mod group_cmd;
mod index_cmd;
mod scan_cmd;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rskill::cli::{self, CliError, hub_client, paint, runtime, use_color};
use rskill::publish::{self, Outcome, Plan, PublishOptions, PublishStatus};
use rskill_hub_client::{HubClient, HubError, RepoId};

/// Exit codes: 0 ok, 1 a skill is blocked or failed, 2 usage error.
#[derive(Parser)]
#[command(
    name = "rskill-publisher",
    version,
    about = "Publish in-repo skills to a Hugging Face Hub (dry run unless --publish)",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    publish: PublishArgs,
}

#[derive(clap::Args)]
struct PublishArgs {
    /// Skill directories or corpus directories [default: rskills/]
    paths: Vec<PathBuf>,
    /// Publish for real (without it: a dry run that touches no network)
    #[arg(long)]
    publish: bool,
    /// Make each repo public once its upload is verified
    #[arg(long)]
    public: bool,
    /// Pin weights_uri and processors URIs to the upstream commit SHA first
    #[arg(long)]
    bump_revision: bool,
    /// Upload files larger than --max-file-mb
    #[arg(long)]
    allow_large: bool,
    /// Largest file uploaded without --allow-large, in MiB
    #[arg(long, default_value_t = 10)]
    max_file_mb: u64,
    /// Skills published at once
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Record new versions as drafts (activate them later with `status … active`);
    /// needs a token with the manage right on rskill-hub
    #[arg(long)]
    draft: bool,
    /// Machine-readable output on stdout
    #[arg(long)]
    json: bool,
    /// Hub token (else HF_TOKEN, HF_TOKEN_PATH, $HF_HOME/token)
    #[arg(long)]
    token: Option<String>,
    /// Sign each skill with this P-256 private key (PEM): an OpenSSF model signature
    /// (model.sig) and a weights lock (weights.lock.json) in the same commit
    #[arg(long, value_name = "PATH", env = "RSKILL_SIGN_KEY")]
    sign_key: Option<PathBuf>,
    /// After tagging, sign the governance state releasing each new version (see
    /// `rskill-publisher governance refresh`); needs the manage right on rskill-hub
    #[command(flatten)]
    governance: governance_cmd::SignerArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a P-256 signing key (PKCS#8 PEM, mode 0600) and its public key
    Keygen(KeygenArgs),
    /// Create or update a Hub collection holding the published skills (idempotent)
    Collection(CollectionArgs),
    /// Change a published version's status: active, deprecated, deleted or draft
    Status(governance_cmd::StatusArgs),
    /// Set or delete an alias (production, staging, …) of a skill or a group
    Alias(governance_cmd::AliasArgs),
    /// Sign a skill's governance state anew (`governance refresh ID --governance-key K`)
    Governance(governance_cmd::GovernanceArgs),
    /// Scan a published version's commit and its pinned weights; --record stores the
    /// result for that commit in the skill's registry file (needs the manage right)
    Scan(scan_cmd::Args),
    /// Publish groups (rskill-group.yaml) to their own repos, after checking every
    /// member on the Hub; dry run unless --publish
    Group(group_cmd::Args),
    /// The org's catalog index (ORG/rskill-index) that search reads instead of every
    /// manifest: `index rebuild ORG` rewrites it from all of the org's public skills
    Index(index_cmd::Args),
}

#[derive(clap::Args)]
struct KeygenArgs {
    /// Where to write the private key (refused if it exists)
    #[arg(long, value_name = "PATH")]
    out: PathBuf,
    /// Where to write the public key [default: OUT with `.pub.pem`]
    #[arg(long, value_name = "PATH")]
    public: Option<PathBuf>,
}

#[derive(clap::Args)]
struct CollectionArgs {
    /// Skill directories or corpus directories [default: rskills/]
    paths: Vec<PathBuf>,
    #[arg(long)]
    title: String,
    #[arg(long)]
    namespace: String,
    #[arg(long, default_value = "")]
    description: String,
    #[arg(long)]
    token: Option<String>,
}

fn main() -> ExitCode {
    rskill::cli::quiet_on_closed_stdout();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Collection(args)) => collection(args),
        Some(Command::Status(args)) => governance_cmd::status(args),
        Some(Command::Alias(args)) => governance_cmd::alias(args),
        Some(Command::Governance(args)) => governance_cmd::governance(args),
        Some(Command::Scan(args)) => scan_cmd::run(args),
        Some(Command::Keygen(args)) => keygen(args),
        Some(Command::Group(args)) => group_cmd::run(args),
        Some(Command::Index(args)) => index_cmd::run(args),
        None => publish_cmd(cli.publish),
    };
    rskill::cli::finish(result)
}

fn publish_cmd(args: PublishArgs) -> Result<cli::Outcome, CliError> {
    let manifests = rskill_manifest::corpus::discover_all(
        &rskill_manifest::corpus::paths_or_default(args.paths),
    )?;
    let sign_key = match &args.sign_key {
        Some(p) if args.publish => Some(rskill_signing::PrivateKey::read(p)?),
        _ => None,
    };
    let opts = PublishOptions {
        public: args.public,
        allow_large: args.allow_large,
        max_file_bytes: args.max_file_mb * 1024 * 1024,
        concurrency: args.concurrency,
        draft: args.draft,
        sign_key,
        governance: if args.publish {
            args.governance.signer()?
        } else {
            None
        },
    };
    let rt = runtime()?;
    if args.bump_revision {
        let client = hub_client(args.token.as_deref())?;
        rt.block_on(async {
            for m in &manifests {
                for b in publish::bump::bump_revisions(&client, m).await? {
                    eprintln!("{}: {} {} -> {}", m.display(), b.field, b.from, b.to);
                }
            }
            Ok::<(), HubError>(())
        })?;
    }
    let plans: Vec<Plan> = manifests.iter().map(|m| publish::plan(m, &opts)).collect();
    if !args.publish {
        return Ok(dry_run(&plans, args.json));
    }
    let client = hub_client(args.token.as_deref())?;
    // Blocked skills are refused before any network call: when nothing may be
    // published, not even the token is checked.
    if plans.iter().any(Plan::can_publish) {
        rt.block_on(check_token(&client))?;
    }
    let outcomes = rt.block_on(publish::publish_all(&client, plans, &opts));
    summary(&outcomes, args.json);
    let failed = outcomes
        .iter()
        .filter(|o| o.result == PublishStatus::Failed)
        .count();
    Ok(if failed > 0 {
        cli::Outcome::Failure
    } else {
        cli::Outcome::Success
    })
}

/// Writes a new signing key and its public key; prints the key id.
fn keygen(args: KeygenArgs) -> Result<cli::Outcome, CliError> {
    use std::io::Write;
    let public = args.public.unwrap_or_else(|| {
        let mut name = args.out.file_stem().unwrap_or_default().to_os_string();
        name.push(".pub.pem");
        args.out.with_file_name(name)
    });
    let key = rskill_signing::PrivateKey::generate();
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let mut file = open.open(&args.out).map_err(|e| {
        CliError::usage(format!("{}: {e}", args.out.display()))
            .hint("choose a path where no key exists yet")
    })?;
    file.write_all(key.to_pem().as_bytes())
        .map_err(|e| CliError::new(format!("{}: {e}", args.out.display())))?;
    std::fs::write(&public, key.public().pem())
        .map_err(|e| CliError::new(format!("{}: {e}", public.display())))?;
    eprintln!(
        "private key: {} (keep it secret)\npublic key:  {} (give it to fleets: rskill trust add ORG --key {})",
        args.out.display(),
        public.display(),
        public.display()
    );
    println!("{}", key.public().id());
    Ok(cli::Outcome::Success)
}

/// Says up front whether the token is missing, invalid or read-only.
pub(crate) async fn check_token(client: &HubClient) -> Result<(), CliError> {
    if client.env().token.is_none() {
        return Err(HubError::TokenMissing {
            action: "publishing".into(),
        }
        .into());
    }
    let who = client.whoami().await?;
    if who.can_write == Some(false) {
        return Err(CliError::new(format!(
            "the token of {} is read-only: publishing needs write rights",
            who.name
        ))
        .hint("create a write token for the skills' organisation"));
    }
    Ok(())
}

fn dry_run(plans: &[Plan], json: bool) -> cli::Outcome {
    if json {
        let items: Vec<serde_json::Value> = plans
            .iter()
            .map(|p| {
                serde_json::json!({
                    "path": p.dir,
                    "repo": p.repo.as_ref().map(RepoId::to_string),
                    "version": p.manifest().map(|m| m.version.clone()),
                    "findings": p.report.findings,
                    "tag_diff": p.tag_diff,
                    "files": p.selection.files,
                    "excluded": p.selection.excluded,
                    "too_large": p.selection.too_large,
                    "blockers": p.blockers,
                    "can_publish": p.can_publish(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&items).expect("JSON"));
    } else {
        let color = use_color(std::io::stdout().is_terminal());
        for p in plans {
            let state = if p.can_publish() {
                paint("ready  ", "32", color)
            } else {
                paint("blocked", "31", color)
            };
            let version = p.manifest().map(|m| m.version.as_str()).unwrap_or("?");
            println!("{state} {} {version}  ({})", p.label(), p.dir.display());
            for f in &p.report.findings {
                println!("    problem: {}", f.render());
            }
            if let Some(d) = &p.tag_diff {
                println!("    tags now:      {}", d.current.join(", "));
                println!("    tags expected: {}", d.expected.join(", "));
            }
            for f in &p.selection.files {
                println!(
                    "    upload {:<40} {:>9} B  sha256 {}",
                    f.path_in_repo,
                    f.size,
                    &f.sha256[..12]
                );
            }
            for e in &p.selection.excluded {
                println!("    skip   {:<40} {}", e.path, e.reason);
            }
            for b in &p.blockers {
                println!("    blocked: {b}");
            }
        }
        let blocked = plans.iter().filter(|p| !p.can_publish()).count();
        eprintln!(
            "dry run: {} skill(s), {} ready, {blocked} blocked; nothing was sent (use --publish)",
            plans.len(),
            plans.len() - blocked
        );
    }
    if plans.iter().all(Plan::can_publish) {
        cli::Outcome::Success
    } else {
        cli::Outcome::Failure
    }
}

fn summary(outcomes: &[Outcome], json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(outcomes).expect("JSON"));
        return;
    }
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(vec!["skill", "version", "commit", "visibility", "result"]);
    for o in outcomes {
        let result = match o.result {
            PublishStatus::Published => "published".to_string(),
            PublishStatus::Unchanged => "unchanged".to_string(),
            PublishStatus::Failed => "FAILED".to_string(),
        };
        table.add_row(vec![
            o.skill.clone(),
            o.version.clone().unwrap_or_default(),
            o.commit
                .as_deref()
                .map(|c| c[..c.len().min(10)].to_string())
                .unwrap_or_default(),
            o.visibility.unwrap_or("").to_string(),
            result,
        ]);
    }
    println!("{table}");
    for o in outcomes {
        if !o.message.is_empty() {
            eprintln!("{}: {}", o.skill, o.message);
        }
    }
    let commits: u32 = outcomes.iter().map(|o| o.commits).sum();
    let bytes: u64 = outcomes.iter().map(|o| o.uploaded_bytes).sum();
    eprintln!(
        "{} skill(s): {commits} commit(s), {bytes} bytes uploaded",
        outcomes.len()
    );
}

fn collection(args: CollectionArgs) -> Result<cli::Outcome, CliError> {
    let manifests = rskill_manifest::corpus::discover_all(
        &rskill_manifest::corpus::paths_or_default(args.paths),
    )?;
    let mut repos = Vec::new();
    for m in &manifests {
        let text = std::fs::read_to_string(m)
            .map_err(|e| CliError::new(format!("{}: {e}", m.display())))?;
        let manifest = rskill_manifest::validate::parse_valid(&text).map_err(|v| {
            CliError::new(format!(
                "{}: invalid manifest ({} problem(s))",
                m.display(),
                v.len()
            ))
            .hint("run `rskill validate`")
        })?;
        repos.push(manifest.name.parse::<RepoId>().map_err(CliError::new)?);
    }
    let client = hub_client(args.token.as_deref())?;
    let out = runtime()?.block_on(publish::collection::ensure_collection(
        &client,
        &args.namespace,
        &args.title,
        &args.description,
        &repos,
    ))?;
    println!("{}", out.slug);
    eprintln!(
        "collection {} {}: {} added, {} already present",
        out.slug,
        if out.created { "created" } else { "updated" },
        out.added.len(),
        out.already_present
    );
    Ok(cli::Outcome::Success)
}

//! `rskill-publisher status`, `alias` and `governance refresh`: governance changes,
//! each one commit of the skill's registry file on the Hub (see `rskill::lifecycle`),
//! with the signed governance state beside it when a governance key is given.

use std::path::PathBuf;

use rskill::cli::{self, CliError, event_line, hub_client, parse_repo, runtime};
use rskill::lifecycle::signed::{GovernancePolicy, GovernanceSigner};
use rskill::lifecycle::{self, Op, Seen, Status, model, remote};
use rskill_signing::governance::{DEFAULT_VALIDITY, parse_validity};

/// The key that signs governance changes, and how long a signed state stays valid.
#[derive(clap::Args, Clone)]
pub struct SignerArgs {
    /// Sign the governance state (rskill.registry.sig) with this P-256 key (PEM): fleets
    /// that trust it for governance (`rskill trust add ORG --key PUB --role governance`)
    /// then refuse moved tags, rollbacks and unsigned edits. May be the skill signing key
    #[arg(long, value_name = "PATH", env = "RSKILL_GOVERNANCE_KEY")]
    pub governance_key: Option<PathBuf>,
    /// How long the signed state stays valid (robots refuse it after that until it is
    /// refreshed): 30d, 12h, seconds
    #[arg(long, value_name = "DURATION", value_parser = parse_validity)]
    pub valid_for: Option<std::time::Duration>,
}

impl SignerArgs {
    pub fn signer(&self) -> Result<Option<GovernanceSigner>, CliError> {
        let Some(path) = &self.governance_key else {
            if self.valid_for.is_some() {
                return Err(CliError::usage("--valid-for needs --governance-key")
                    .hint("--governance-key KEY.pem (or RSKILL_GOVERNANCE_KEY)"));
            }
            return Ok(None);
        };
        let key = rskill_signing::PrivateKey::read(path)
            .map_err(|e| CliError::usage(e.to_string()).hint(e.hint()))?;
        Ok(Some(GovernanceSigner {
            key,
            validity: self.valid_for.unwrap_or(DEFAULT_VALIDITY),
        }))
    }
}

/// The records of this machine, read with its trust policy and, for a signer, its own
/// key trusted for the org's governance.
pub fn seen_for(
    repo: &rskill_hub_client::RepoId,
    signer: Option<&GovernanceSigner>,
) -> Result<Seen, CliError> {
    let seen = Seen::for_this_machine().map_err(|e| CliError::new(e.to_string()))?;
    Ok(match signer {
        Some(s) => {
            let policy: GovernancePolicy = seen.policy().clone();
            seen.with_policy(policy.for_signer(repo.org(), &s.key.public()))
        }
        None => seen,
    })
}

#[derive(clap::Args)]
pub struct GovernanceArgs {
    #[command(subcommand)]
    action: GovernanceAction,
}

#[derive(clap::Subcommand)]
enum GovernanceAction {
    /// Sign the skill's governance state anew: version + 1, a new expiry, every new
    /// `v*` tag whose manifest names its version released (needs the manage right on
    /// rskill-hub). The first refresh of a skill signs its governance for the first time
    Refresh {
        id: String,
        /// Why (recorded in the commit)
        #[arg(long, default_value = "refresh")]
        reason: String,
        #[command(flatten)]
        signer: SignerArgs,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        token: Option<String>,
    },
}

pub fn governance(args: GovernanceArgs) -> Result<cli::Outcome, CliError> {
    let GovernanceAction::Refresh {
        id,
        reason,
        signer,
        json,
        token,
    } = args.action;
    let repo = parse_repo(&id)?;
    if signer.governance_key.is_none() {
        return Err(
            CliError::usage("governance refresh signs: it needs --governance-key")
                .hint("--governance-key KEY.pem (or RSKILL_GOVERNANCE_KEY)"),
        );
    }
    run(&repo, Op::Refresh, &reason, json, token.as_deref(), &signer)
}

#[derive(clap::Args)]
pub struct StatusArgs {
    /// The version: org/name@1.2.0 (or @v1.2.0)
    target: String,
    /// The new status: active, deprecated, deleted or draft
    status: String,
    /// Why (required for deprecated and deleted)
    #[arg(long, default_value = "")]
    reason: String,
    /// Machine-readable output on stdout
    #[arg(long)]
    json: bool,
    /// Hub token (else HF_TOKEN, HF_TOKEN_PATH, $HF_HOME/token)
    #[arg(long)]
    token: Option<String>,
    #[command(flatten)]
    signer: SignerArgs,
}

#[derive(clap::Args)]
pub struct AliasArgs {
    #[command(subcommand)]
    action: AliasAction,
}

#[derive(clap::Subcommand)]
enum AliasAction {
    /// Point ALIAS to VERSION (an active or deprecated version)
    Set {
        id: String,
        alias: String,
        version: String,
        #[command(flatten)]
        common: Common,
    },
    /// Unset ALIAS
    Delete {
        id: String,
        alias: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(clap::Args)]
struct Common {
    /// Why (recorded in the history)
    #[arg(long, default_value = "")]
    reason: String,
    #[arg(long)]
    json: bool,
    #[arg(long)]
    token: Option<String>,
    #[command(flatten)]
    signer: SignerArgs,
}

fn usage(e: model::GovError) -> CliError {
    let hint = e.hint();
    let mut err = CliError::usage(e.to_string());
    err.hint = hint;
    err
}

pub fn status(args: StatusArgs) -> Result<cli::Outcome, CliError> {
    let Some((id, version)) = args.target.split_once('@') else {
        return Err(
            CliError::usage(format!("`{}` names no version", args.target))
                .hint("rskill-publisher status <org>/<name>@<version> <status> --reason …"),
        );
    };
    let repo = parse_repo(id)?;
    let version = model::parse_version(version).map_err(usage)?;
    let to: Status = args.status.parse().map_err(usage)?;
    if to.needs_reason() && args.reason.trim().is_empty() {
        return Err(usage(model::GovError::ReasonRequired(to)));
    }
    run(
        &repo,
        Op::Status { version, to },
        &args.reason,
        args.json,
        args.token.as_deref(),
        &args.signer,
    )
}

pub fn alias(args: AliasArgs) -> Result<cli::Outcome, CliError> {
    let (id, op, common) = match args.action {
        AliasAction::Set {
            id,
            alias,
            version,
            common,
        } => {
            model::check_alias_name(&alias).map_err(usage)?;
            let version = model::parse_version(&version).map_err(usage)?;
            (id, Op::AliasSet { alias, version }, common)
        }
        AliasAction::Delete { id, alias, common } => {
            model::check_alias_name(&alias).map_err(usage)?;
            (id, Op::AliasDelete { alias }, common)
        }
    };
    let repo = parse_repo(&id)?;
    run(
        &repo,
        op,
        &common.reason,
        common.json,
        common.token.as_deref(),
        &common.signer,
    )
}

fn run(
    repo: &rskill_hub_client::RepoId,
    op: Op,
    why: &str,
    json: bool,
    token: Option<&str>,
    signer: &SignerArgs,
) -> Result<cli::Outcome, CliError> {
    let signer = signer.signer()?;
    let client = hub_client(token)?;
    let seen = seen_for(repo, signer.as_ref())?;
    let applied = runtime()?.block_on(remote::change(
        &client,
        &seen,
        repo,
        &op,
        why,
        signer.as_ref(),
    ))?;
    for note in &applied.notes {
        eprintln!("{note}");
    }
    let governance = applied.state.authenticity.verified().map(|s| {
        serde_json::json!({
            "version": s.version,
            "expires": s.expires,
            "releases": s.releases,
        })
    });
    let changed = applied.committed;
    if json {
        let v = serde_json::json!({
            "repo": repo.as_str(),
            "changed": changed,
            "commit": applied.commit,
            "attempts": applied.attempts,
            "events": applied.events,
            "governance": governance,
        });
        println!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
    } else if !changed {
        // Only an alias set to its current version changes nothing.
        if let Op::AliasSet { alias, version } = &op {
            println!("{repo}: alias `{alias}` already points to {version}; nothing to change");
        } else {
            println!("{repo}: nothing to change");
        }
    } else {
        for e in &applied.events {
            println!("{}", event_line(e));
        }
        for e in applied
            .events
            .iter()
            .skip(1)
            .filter(|e| e.what == lifecycle::model::What::Alias)
        {
            eprintln!(
                "alias `{}` removed: it pointed to the deleted version {}",
                e.subject,
                e.old.as_deref().unwrap_or("-")
            );
        }
        eprintln!(
            "{repo}: committed {} ({} attempt(s))",
            &applied.commit[..applied.commit.len().min(10)],
            applied.attempts
        );
        if let Some(s) = applied.state.authenticity.verified() {
            let released: Vec<&str> = s.releases.keys().map(String::as_str).collect();
            eprintln!(
                "{repo}: signed governance state version {}, valid until {}; released: {}",
                s.version,
                s.expires,
                if released.is_empty() {
                    "none".to_string()
                } else {
                    released.join(", ")
                }
            );
        }
    }
    Ok(cli::Outcome::Success)
}

//! `rskill-publisher status` and `rskill-publisher alias`: governance changes, each one
//! commit of the skill's registry file on the Hub (see `rskill::lifecycle`).

use rskill::cli::{self, CliError, event_line, hub_client, parse_repo, runtime};
use rskill::lifecycle::{self, Op, Seen, Status, model, remote};

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
    )
}

fn run(
    repo: &rskill_hub_client::RepoId,
    op: Op,
    why: &str,
    json: bool,
    token: Option<&str>,
) -> Result<cli::Outcome, CliError> {
    let client = hub_client(token)?;
    let seen = Seen::default_location();
    let applied = runtime()?.block_on(remote::change(&client, &seen, repo, &op, why))?;
    let changed = !applied.events.is_empty();
    if json {
        let v = serde_json::json!({
            "repo": repo.as_str(),
            "changed": changed,
            "commit": applied.commit,
            "attempts": applied.attempts,
            "events": applied.events,
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
    }
    Ok(cli::Outcome::Success)
}

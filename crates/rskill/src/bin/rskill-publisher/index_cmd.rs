//! `rskill-publisher index rebuild ORG`: rewrites the org's catalog index
//! (`ORG/rskill-index`, see `rskill::catalog_index`) from every public skill of the org,
//! signed with the governance key when one is given.

use rskill::cli::{self, CliError, hub_client, runtime};

use crate::governance_cmd::SignerArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Rewrite ORG/rskill-index from all of the org's public skills (each at its
    /// `main` commit); needs a token that may create and write the org's repos
    Rebuild {
        org: String,
        #[command(flatten)]
        signer: SignerArgs,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        token: Option<String>,
    },
}

pub fn run(args: Args) -> Result<cli::Outcome, CliError> {
    let Action::Rebuild {
        org,
        signer,
        json,
        token,
    } = args.action;
    if org.is_empty() || org.contains('/') {
        return Err(CliError::usage(format!("`{org}` is not an org name"))
            .hint("index rebuild ORG, e.g. index rebuild acme"));
    }
    let signer = signer.signer()?;
    let client = hub_client(token.as_deref())?;
    let written = runtime()?
        .block_on(rskill::catalog_index::rebuild(
            &client,
            &org,
            signer.as_ref(),
        ))
        .map_err(|e| {
            let hint = e.hint();
            let err = CliError::new(e.to_string());
            match hint {
                Some(h) => err.hint(h),
                None => err,
            }
        })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&written).expect("JSON"));
    } else {
        match &written.commit {
            Some(c) => eprintln!(
                "{}: {} skill(s){} in commit {}",
                written.repo,
                written.entries,
                if written.signed { ", signed" } else { "" },
                &c[..c.len().min(10)]
            ),
            None => eprintln!(
                "{}: {} skill(s), already current: no commit",
                written.repo, written.entries
            ),
        }
    }
    Ok(cli::Outcome::Success)
}
